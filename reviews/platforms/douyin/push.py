"""Douyin's two push URLs per platform account (douyin.md §1, §2.5, §4).

`/callbacks/douyin/<callback_key>/auth` receives the component_ticket every 10 minutes and the
authorization events; `/callbacks/douyin/<callback_key>/events` receives PACKAGE_AUDIT. Douyin
puts everything in the JSON body (Nonce, TimeStamp, Encrypt, MsgSignature). A delivery is
believed only if its signature holds with the account's token, its timestamp is recent and it
decrypts to our component appid; otherwise it is refused (403 a forgery, 400 a malformed body),
counted (reviews.refusals) and nothing changes. Accepted or repeated: the raw body `success`.

A PACKAGE_AUDIT push decides nothing by itself (pushes are retried 3 times, may be replays, and
its fields are not in the official docs): it makes Sluice ask `versions` once per pushed decision
(reviews.polling.review_ask), exactly as WeChat's push does, and the answer moves the release.
Its AppId is inside the signed message, so the push is bound to that app of the account.
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from releases.audit import audit_record
from releases.models import App, Platform, PlatformAccount, Release, State
from releases.platforms import PlatformError, ReviewCode
from reviews import refusals
from reviews.models import CallbackDelivery, ComponentTicket
from reviews.platforms.douyin.crypto import (
    AppIdMismatch,
    CryptoError,
    decrypt_message,
    parse_envelope,
    signature_matches,
)
from reviews.platforms.douyin.events import (
    Authorization,
    EventParseError,
    Other,
    PackageAudit,
    Ticket,
    parse_event,
)
from reviews.polling import review_ask, review_poll_soon
from reviews.services import Outcome, delivery_key, delivery_once

logger = logging.getLogger(__name__)


class Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def open_delivery(account: PlatformAccount, body: bytes, *, now: float | None = None) -> str:
    """The decrypted message, once the delivery is proven to come from Douyin for this account."""
    if not (account.message_token and account.encoding_aes_key and account.component_appid):
        raise Refused(
            403, "account_not_configured", "This account has no push token, key or component appid."
        )
    try:
        envelope = parse_envelope(body)
    except CryptoError as exc:
        raise Refused(400, "malformed_body", str(exc)) from None
    timestamp, nonce, encrypted = envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    if not signature_matches(envelope["MsgSignature"], account.message_token, timestamp, nonce, encrypted):
        raise Refused(403, "bad_signature", "MsgSignature does not match.")
    if not timestamp.isdigit():
        raise Refused(400, "malformed_timestamp", "TimeStamp must be a number of seconds.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > settings.WECHAT_CALLBACK_REPLAY_SECONDS:
        raise Refused(403, "stale_timestamp", "The timestamp is outside the replay window.")
    try:
        return decrypt_message(
            encrypted, encoding_aes_key=account.encoding_aes_key, appid=account.component_appid
        )
    except AppIdMismatch:
        raise Refused(403, "wrong_appid", "The message was encrypted for another component app.") from None
    except CryptoError as exc:
        raise Refused(400, "undecryptable", str(exc)) from None


def _account(callback_key: str) -> PlatformAccount:
    account = PlatformAccount.objects.filter(callback_key=callback_key, platform=Platform.DOUYIN).first()
    if account is None:
        raise Http404("No Douyin account has this callback URL.")
    return account


def _receive(request: HttpRequest, callback_key: str, endpoint: str, apply) -> HttpResponse:
    account = _account(callback_key)
    ip = request.META.get("REMOTE_ADDR")
    try:
        plaintext = open_delivery(account, request.body)
        try:
            event = parse_event(plaintext)
        except EventParseError as exc:
            raise Refused(400, "malformed_event", str(exc)) from None
        if getattr(event, "component_appid", "") not in ("", account.component_appid):
            raise Refused(403, "wrong_component", "The event names another component app (TpAppId).")
        outcome = apply(account, event, ip)
    except Refused as exc:
        count = refusals.callback_refusal_count(account=account, endpoint=endpoint, reason=exc.reason, ip=ip)
        (logger.warning if count == 1 else logger.debug)(
            "Refused a Douyin %s push for account %s: %s", endpoint, account.pk, exc.reason
        )
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    logger.info("Douyin %s push for account %s: %s", endpoint, account.pk, outcome)
    return HttpResponse("success", content_type="text/plain; charset=utf-8")


# -- the authorization URL ------------------------------------------------------------------


def _ticket_store(account: PlatformAccount, event: Ticket) -> str:
    """Keep the newest ticket: one delivered late must not replace a fresher one."""
    current = ComponentTicket.objects.select_for_update().filter(account=account).first()
    if current is not None and current.received_at >= event.created_at:
        return Outcome.IGNORED
    ComponentTicket.objects.update_or_create(
        account=account, defaults={"ticket": event.ticket, "received_at": event.created_at}
    )
    return Outcome.PROCESSED


def _authorization_apply(account: PlatformAccount, event: Authorization, ip) -> str:
    """UNAUTHORIZED flags the app; AUTHORIZED / UPDATE_AUTHORIZED bring a code, exchanged for the
    app's tokens after the delivery is recorded (a platform call, outside the transaction)."""
    app = App.objects.filter(platform_account=account, appid=event.appid).first()
    key = delivery_key(account, "auth", event.event, event.appid, event.at, event.authorization_code)

    def record() -> str:
        if app is not None and event.event == "UNAUTHORIZED":
            from django.utils import timezone

            App.objects.filter(pk=app.pk).update(
                authorization_lost_at=timezone.now(), authorization_problem="Douyin: UNAUTHORIZED"
            )
        audit_record(
            action=f"platform_{event.event.lower()}",
            target=account,
            app=app,
            team_id=account.team_id,
            data={"authorizer_appid": event.appid, "source": "push"},
            ip=ip,
        )
        return Outcome.PROCESSED

    outcome = delivery_once(
        account, endpoint="auth", key=key, event=event.event, appid=event.appid, process=record
    )
    if outcome == Outcome.PROCESSED and app is not None and event.authorization_code:
        from reviews.platforms.douyin.tokens import Tokens

        try:
            Tokens(account).authorize(app, event.authorization_code)
            App.objects.filter(pk=app.pk).update(authorization_lost_at=None, authorization_problem="")
        except PlatformError as exc:
            logger.warning(
                "Exchanging Douyin's authorization code for app %s failed: %s", app.pk, exc.message
            )
    return outcome


def auth_apply(account: PlatformAccount, event, ip) -> str:
    if isinstance(event, Ticket):
        key = delivery_key(account, "auth", "ticket", event.created_at, event.ticket)
        return delivery_once(
            account,
            endpoint="auth",
            key=key,
            event="component_ticket",
            appid=account.component_appid,
            process=lambda: _ticket_store(account, event),
        )
    if isinstance(event, Authorization):
        return _authorization_apply(account, event, ip)
    return _ignore(account, "auth", event)


def _ignore(account: PlatformAccount, endpoint: str, event, appid: str = "") -> str:
    kind = event.kind if isinstance(event, Other) else type(event).__name__
    key = delivery_key(account, endpoint, kind, appid, repr(event))
    return delivery_once(
        account, endpoint=endpoint, key=key, event=kind, appid=appid, process=lambda: Outcome.IGNORED
    )


# -- the message URL: PACKAGE_AUDIT ---------------------------------------------------------


def audit_push_apply(account: PlatformAccount, event, ip=None) -> str:
    """One status call per pushed decision about the app's release in review; the answer decides."""
    if not isinstance(event, PackageAudit):
        return _ignore(account, "events", event)
    app = App.objects.filter(platform_account=account, appid=event.appid).first()
    release = (
        Release.objects.select_related("app__platform_account").filter(app=app, state=State.SUBMITTED).first()
        if app is not None
        else None
    )
    if release is None:  # decided already, unknown app, or never submitted through Sluice
        return _ignore(account, "events", Other("PACKAGE_AUDIT", {"at": str(event.at)}), appid=event.appid)
    key = delivery_key(
        account, "events", "PACKAGE_AUDIT", event.appid, "review", release.pk, release.platform_audit_id
    )
    claimed = delivery_once(
        account,
        endpoint="events",
        key=key,
        event="PACKAGE_AUDIT",
        appid=event.appid,
        process=lambda: Outcome.PROCESSED,
    )
    if claimed == Outcome.DUPLICATE:
        return claimed
    try:
        answer = review_ask(release, source="push")
    except PlatformError as exc:
        logger.warning("Asking Douyin about release %s after a push failed: %s", release.pk, exc.message)
        with transaction.atomic():
            review_poll_soon(release)
        outcome = Outcome.DEFERRED
    else:
        outcome = Outcome.IGNORED if answer.status == ReviewCode.IN_REVIEW else Outcome.PROCESSED
    if outcome != Outcome.PROCESSED:
        CallbackDelivery.objects.filter(dedupe_key=key).update(outcome=outcome)
    return outcome


@csrf_exempt
@require_POST
def auth_events(request: HttpRequest, callback_key: str) -> HttpResponse:
    return _receive(request, callback_key, "auth", auth_apply)


@csrf_exempt
@require_POST
def message_events(request: HttpRequest, callback_key: str) -> HttpResponse:
    return _receive(request, callback_key, "events", audit_push_apply)
