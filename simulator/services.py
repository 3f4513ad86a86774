"""The simulator's public python API (seeding, reviewer decisions, settings) and its pushes.

The demo seed and the tests call these; the WeChat HTTP operations are in `operations.py`.
Pushes are encrypted exactly like WeChat's (platform-apis.md §5) and sent by an RQ job once the
transaction that decided them commits, so a decision in the console returns at once.
"""

import hashlib
import json
import random
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import httpx
from django.db import transaction
from django.utils import timezone

from simulator.models import (
    SimAuthorizer,
    SimCall,
    SimComponent,
    SimPush,
    SimSettings,
    SimSubmission,
    SimTicket,
    SimToken,
    SimVersion,
)

# WeChat counts days and months (withdrawals, quota) in China Standard Time, whatever ours is.
SHANGHAI = ZoneInfo("Asia/Shanghai")
PUSH_TIMEOUT_SECONDS = 5  # WeChat gives a callback 5 seconds before it counts the push as failed
SYSTEM_OPENID = "o_sim_system_openid"  # FromUserName of audit events: a system OpenID, as on WeChat
DEFAULT_DELAY_REASON = (
    "为了更好的服务小程序，您的服务商正在进行提审系统的优化，可能会导致审核时效的增长，请耐心等待"
)
SETTINGS_FIELDS = {f.name for f in SimSettings._meta.get_fields()} - {"id"}


class SimRefused(ValueError):
    """A seeding or reviewer call that makes no sense for the current state; nothing changed."""


class PushFailed(RuntimeError):
    """The callback URL did not accept a push; RQ retries the job, as WeChat retries a push."""


# --- time ---------------------------------------------------------------------------------------


def shanghai_day_start(now: datetime | None = None) -> datetime:
    local = (now or timezone.now()).astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def shanghai_month_start(now: datetime | None = None) -> datetime:
    return shanghai_day_start(now).replace(day=1)


def unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


# --- seeding ------------------------------------------------------------------------------------


def sim_register_account(account, server: str) -> "SimComponent":
    """Register a Sluice WeChat platform account with the simulator as its component: its secrets,
    and its callback URLs on `server` (e.g. http://127.0.0.1:8000), where the pushes go."""
    callbacks = f"{server}/callbacks/wechat/{account.callback_key}"
    return sim_register_component(
        appid=account.component_appid,
        secret=account.component_appsecret,
        token=account.message_token,
        encoding_aes_key=account.encoding_aes_key,
        auth_callback_url=f"{callbacks}/auth",
        events_callback_url=f"{callbacks}/$APPID$/events",
    )


def sim_register_component(
    *,
    appid: str,
    secret: str,
    token: str,
    encoding_aes_key: str,
    auth_callback_url: str,
    events_callback_url: str,
) -> SimComponent:
    """Idempotent by appid: registering again updates the secrets and URLs."""
    if "$APPID$" not in events_callback_url:
        raise SimRefused("The message-and-event callback URL must contain the literal $APPID$.")
    if len(encoding_aes_key) != 43 or not encoding_aes_key.isalnum():
        raise SimRefused("The EncodingAESKey must be 43 letters and digits.")
    component, _ = SimComponent.objects.update_or_create(
        appid=appid,
        defaults={
            "secret": secret,
            "message_token": token,
            "encoding_aes_key": encoding_aes_key,
            "auth_callback_url": auth_callback_url,
            "events_callback_url": events_callback_url,
        },
    )
    return component


def sim_original_id(appid: str) -> str:
    """The mini-program's original ID (原始ID, `gh_` and 12 hex digits), fixed for its appid.

    WeChat addresses audit pushes by it (ToUserName) and tells it through api_get_authorizer_info.
    """
    return "gh_" + hashlib.sha256(appid.encode()).hexdigest()[:12]


def sim_register_authorizer(*, component_appid: str, appid: str, refresh_token: str) -> SimAuthorizer:
    """Idempotent by appid: the mini-program (re)authorises the component with this refresh token."""
    component = _component(component_appid)
    authorizer, _ = SimAuthorizer.objects.update_or_create(
        appid=appid, defaults={"component": component, "refresh_token": refresh_token}
    )
    return authorizer


def sim_online_version(appid: str, user_version: str, user_desc: str = "") -> None:
    """Give a mini program an online version released before Sluice knew it (idempotent): what a
    phased release needs to exist (85079 otherwise) and a rollback goes back to."""
    authorizer = SimAuthorizer.objects.get(appid=appid)
    if authorizer.online_version_id is not None:
        return
    now = timezone.now()
    version = SimVersion.objects.create(
        authorizer=authorizer,
        app_version=1,
        user_version=user_version,
        user_desc=user_desc,
        commit_time=now - timedelta(days=30),
        online_at=now - timedelta(days=30),
    )
    SimAuthorizer.objects.filter(pk=authorizer.pk).update(online_version=version)


def sim_push_ticket(component_appid: str) -> None:
    """Issue a fresh component_verify_ticket and push it to the authorization-event URL.

    Ticket pushes ignore the lost-push fault: the demo's first token depends on the first ticket.
    """
    component = _component(component_appid)
    with transaction.atomic():
        ticket = SimTicket.objects.create(component=component, ticket="ticket@@@" + secrets.token_urlsafe(32))
        plaintext = ticket_xml(component.appid, ticket.ticket, unix(ticket.issued_at))
        push = SimPush.objects.create(
            component=component,
            kind=SimPush.Kind.TICKET,
            event="component_verify_ticket",
            url=component.auth_callback_url,
            plaintext=plaintext,
        )
        _enqueue_push(push)


def sim_current_ticket(component_appid: str) -> str:
    """The latest ticket issued (what Sluice holds if the last push arrived); for tests and seeds."""
    ticket = SimTicket.objects.filter(component__appid=component_appid).order_by("-issued_at", "-pk").first()
    if ticket is None:
        raise SimRefused(f"No ticket was issued for {component_appid} yet: call sim_push_ticket first.")
    return ticket.ticket


def sim_configure(**fields) -> SimSettings:
    """Change scripted mode, faults or quota, e.g. `sim_configure(pushes_enabled=False)`."""
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise SimRefused(f"Unknown simulator settings: {', '.join(sorted(unknown))}.")
    settings_row = SimSettings.load()
    for name, value in fields.items():
        setattr(settings_row, name, value)
    settings_row.save()
    return settings_row


def sim_expire_tokens() -> int:
    """Fault injection: every token issued so far is expired now (callers get 42001)."""
    return SimToken.objects.filter(expires_at__gt=timezone.now()).update(expires_at=timezone.now())


def _component(appid: str) -> SimComponent:
    try:
        return SimComponent.objects.get(appid=appid)
    except SimComponent.DoesNotExist:
        raise SimRefused(f"No component {appid} is registered with the simulator.") from None


# --- reviewer decisions -------------------------------------------------------------------------


def sim_decide(
    *, auditid: int, outcome: str, reason: str = "", screenshots: Iterable[str] = ()
) -> SimSubmission:
    """The reviewer's decision: approved, rejected (reason required) or delayed; pushes the event."""
    if outcome not in ("approved", "rejected", "delayed"):
        raise SimRefused("The outcome must be approved, rejected or delayed.")
    reason = (reason or "").strip()
    if outcome == "rejected" and not reason:
        raise SimRefused("A rejection needs a reason.")
    with transaction.atomic():
        submission = _submission_for_update(auditid)
        now = timezone.now()
        if outcome == "delayed":
            if submission.status != SimSubmission.Status.IN_REVIEW:
                raise SimRefused(f"Audit {auditid} is not in review, so it cannot be delayed.")
            submission.status = SimSubmission.Status.DELAYED
            submission.reason = reason or DEFAULT_DELAY_REASON
            submission.delayed_at = now
        else:
            submission.status = (
                SimSubmission.Status.APPROVED if outcome == "approved" else SimSubmission.Status.REJECTED
            )
            rejected = outcome == "rejected"
            submission.reason = reason if rejected else ""
            submission.screenshot = "|".join(s.strip() for s in screenshots if s.strip()) if rejected else ""
            submission.decided_at = now
        submission.save()
        _push_audit_event(submission, now)
    return submission


def _submission_for_update(auditid: int) -> SimSubmission:
    try:
        submission = (
            SimSubmission.objects.select_for_update()
            .select_related("authorizer__component")
            .get(auditid=auditid)
        )
    except (SimSubmission.DoesNotExist, ValueError, TypeError):
        raise SimRefused(f"No submission with audit id {auditid}.") from None
    if not submission.in_review:
        raise SimRefused(f"Audit {auditid} is {submission.get_status_display()}, no longer in review.")
    return submission


def scripted_decide(auditid: int, *, final: bool = False) -> SimSubmission | None:
    """Scripted mode's reviewer: draws an outcome with the configured odds; a delay is followed,
    N seconds later, by a final approve or reject (as WeChat follows weapp_audit_delay)."""
    conf = SimSettings.load()
    submission = SimSubmission.objects.filter(auditid=auditid).first()
    if submission is None or not submission.in_review:
        return None  # withdrawn or decided by a person meanwhile
    weights = {
        "approved": conf.scripted_approve_pct,
        "rejected": conf.scripted_reject_pct,
        "delayed": 0
        if (final or submission.status == SimSubmission.Status.DELAYED)
        else conf.scripted_delay_pct,
    }
    if not any(weights.values()):
        weights["approved"] = 1
    outcome = random.choices(list(weights), weights=list(weights.values()))[0]
    reason, screenshots = "", []
    if outcome == "rejected":
        reason = format_reasons([random.choice(reason_catalogue())])
        screenshots = fake_media_ids(2)
    decided = sim_decide(auditid=auditid, outcome=outcome, reason=reason, screenshots=screenshots)
    if outcome == "delayed":
        schedule_scripted_decision(auditid, final=True)
    return decided


def schedule_scripted_decision(auditid: int, *, final: bool = False) -> None:
    """After commit, so the job never runs before the submission it decides exists."""
    from simulator import jobs

    delay = timedelta(seconds=SimSettings.load().scripted_after_seconds)
    transaction.on_commit(lambda: jobs.enqueue_scripted_decision(auditid, delay, final=final))


@cache
def reason_catalogue() -> list[dict]:
    """Realistic rejection reasons (reasons.json), each a title with numbered details."""
    return json.loads((Path(__file__).parent / "reasons.json").read_text(encoding="utf-8"))


def format_reasons(entries: Iterable[dict], free_text: str = "") -> str:
    """WeChat's reason format: `1:title:<br>(1):detail<br>2:...`; free text is appended as written."""
    parts = []
    for number, entry in enumerate(entries, start=1):
        parts.append(f"{number}:{entry['title']}:<br>")
        parts.extend(f"({n}):{detail}<br>" for n, detail in enumerate(entry["details"], start=1))
    free_text = free_text.strip()
    if free_text:
        parts.append(free_text)
    return "".join(parts)


def fake_media_ids(count: int) -> list[str]:
    return ["sim_media_" + secrets.token_hex(8) for _ in range(count)]


# --- pushes -------------------------------------------------------------------------------------


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def ticket_xml(component_appid: str, ticket: str, create_time: int) -> str:
    return (
        f"<xml><AppId>{_cdata(component_appid)}</AppId><CreateTime>{create_time}</CreateTime>"
        f"<InfoType>{_cdata('component_verify_ticket')}</InfoType>"
        f"<ComponentVerifyTicket>{_cdata(ticket)}</ComponentVerifyTicket></xml>"
    )


def audit_event_xml(submission: SimSubmission, moment: datetime) -> str:
    """The decrypted event exactly as in platform-apis.md §5.3, addressed (ToUserName) to the
    mini-program's original ID, as WeChat does."""
    at = unix(moment)
    head = (
        f"<xml><ToUserName>{_cdata(sim_original_id(submission.authorizer.appid))}</ToUserName>"
        f"<FromUserName>{_cdata(SYSTEM_OPENID)}</FromUserName><CreateTime>{at}</CreateTime>"
        f"<MsgType>{_cdata('event')}</MsgType>"
    )
    status = SimSubmission.Status
    if submission.status == status.APPROVED:
        tail = f"<Event>{_cdata('weapp_audit_success')}</Event><SuccTime>{at}</SuccTime>"
    elif submission.status == status.REJECTED:
        tail = (
            f"<Event>{_cdata('weapp_audit_fail')}</Event><Reason>{_cdata(submission.reason)}</Reason>"
            f"<FailTime>{at}</FailTime><ScreenShot>{_cdata(submission.screenshot)}</ScreenShot>"
        )
    else:
        tail = (
            f"<Event>{_cdata('weapp_audit_delay')}</Event><Reason>{_cdata(submission.reason)}</Reason>"
            f"<DelayTime>{at}</DelayTime>"
        )
    return head + tail + "</xml>"


EVENT_NAMES = {0: "weapp_audit_success", 1: "weapp_audit_fail", 4: "weapp_audit_delay"}


def _push_audit_event(submission: SimSubmission, moment: datetime) -> SimPush:
    component = submission.authorizer.component
    conf = SimSettings.load()
    if not conf.pushes_enabled:
        status = SimPush.Status.OFF
    elif conf.lost_push_pct and random.randrange(100) < conf.lost_push_pct:
        status = SimPush.Status.DROPPED
    else:
        status = SimPush.Status.PENDING
    push = SimPush.objects.create(
        component=component,
        kind=SimPush.Kind.EVENT,
        appid=submission.authorizer.appid,
        event=EVENT_NAMES[submission.status],
        auditid=submission.auditid,
        url=component.events_url_for(submission.authorizer.appid),
        plaintext=audit_event_xml(submission, moment),
        status=status,
    )
    if status == SimPush.Status.PENDING:
        _enqueue_push(push)
    return push


def _enqueue_push(push: SimPush) -> None:
    from simulator import jobs

    transaction.on_commit(lambda: jobs.enqueue_push(push.pk))


def legacy_signature(token: str, timestamp: str, nonce: str) -> str:
    """The plain `signature` query parameter WeChat also sends (sha1 of the sorted three)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


def deliver_push(push_id: int) -> SimPush:
    """Encrypt and POST one push; a push already delivered is left alone (the job is idempotent)."""
    from reviews.platforms.wechat.crypto import encrypted_envelope

    push = SimPush.objects.select_related("component").get(pk=push_id)
    if push.status != SimPush.Status.PENDING and push.status != SimPush.Status.FAILED:
        return push
    component = push.component
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    xml_body, msg_signature = encrypted_envelope(
        push.plaintext,
        token=component.message_token,
        encoding_aes_key=component.encoding_aes_key,
        appid=component.appid,
        timestamp=timestamp,
        nonce=nonce,
    )
    params = {
        "signature": legacy_signature(component.message_token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    body = xml_body.encode() if isinstance(xml_body, str) else xml_body
    push.attempts += 1
    try:
        response = httpx.post(
            push.url,
            params=params,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        _push_failed(push, None, f"{type(exc).__name__}: {exc}")
    if not response.is_success:
        _push_failed(push, response.status_code, response.text[:200])
    push.status, push.http_status, push.error, push.sent_at = (
        SimPush.Status.SENT,
        response.status_code,
        "",
        timezone.now(),
    )
    push.save(update_fields=["status", "http_status", "error", "sent_at", "attempts"])
    return push


def _push_failed(push: SimPush, http_status: int | None, error: str) -> NoReturn:
    push.status, push.http_status, push.error = SimPush.Status.FAILED, http_status, error[:300]
    push.save(update_fields=["status", "http_status", "error", "attempts"])
    raise PushFailed(f"Push {push.pk} to {push.url} failed: {error}")


# --- call log -----------------------------------------------------------------------------------

TOKEN_PARAMS = {"access_token", "component_access_token"}
SECRET_FIELDS = {
    "component_appsecret",
    "component_verify_ticket",
    "authorizer_refresh_token",
    "component_access_token",
    "authorizer_access_token",
}
REDACTED = "(redacted)"


def _redact(data):
    if isinstance(data, dict):
        return {k: REDACTED if k in SECRET_FIELDS else _redact(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_redact(v) for v in data]
    return data


def record_call(
    *, method: str, path: str, appid: str, query: dict, raw_body: str, response: dict, duration_ms: int
) -> SimCall:
    """Log what WeChat would have received: tokens dropped from the query, secrets masked."""
    try:
        body = json.dumps(_redact(json.loads(raw_body)), ensure_ascii=False) if raw_body.strip() else ""
    except ValueError:
        body = raw_body[:2000]
    return SimCall.objects.create(
        method=method,
        path=path,
        appid=appid[:64],
        query={k: v for k, v in query.items() if k not in TOKEN_PARAMS},
        body=body,
        errcode=response.get("errcode", 0),
        errmsg=str(response.get("errmsg", "ok"))[:200],
        response=_redact(response),
        duration_ms=duration_ms,
    )
