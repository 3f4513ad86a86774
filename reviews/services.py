"""What a platform says about a review, pushed or polled, turned into release services calls.

A status answer moves the release, whether a poll asked or a push made Sluice ask
(reviews.push): pushes get lost, and a push only says what WeChat decided once, never what
holds now. Whichever answer arrives first transitions the release; the other finds it
already decided and records nothing (releases.services.release_review_decided returns
None for the system). A delay is not a state, so re-reporting the same delay is skipped
here, under the app's row lock.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db import IntegrityError, transaction

from releases.models import App, PlatformAccount, Release
from releases.platforms import ReviewCode
from releases.services import release_changed_outside, release_review_decided
from reviews.models import CallbackDelivery, ComponentTicket
from reviews.platforms.wechat.events import (
    AuditResult,
    AuthorizationChange,
    ComponentVerifyTicket,
    OtherEvent,
    timestamp_to_datetime,
)

# Sluice's review codes (releases.platforms.ReviewCode: WeChat's audit statuses, platform-apis.md §3;
# every adapter maps its platform's own onto them, e.g. Douyin's versions audit.status).
STATUS_APPROVED, STATUS_REJECTED, STATUS_IN_REVIEW, STATUS_WITHDRAWN, STATUS_DELAYED = (
    ReviewCode.APPROVED,
    ReviewCode.REJECTED,
    ReviewCode.IN_REVIEW,
    ReviewCode.WITHDRAWN,
    ReviewCode.DELAYED,
)
STATUS_OUTCOMES = {STATUS_APPROVED: "approved", STATUS_REJECTED: "rejected", STATUS_DELAYED: "delayed"}
NO_REASON = "The platform rejected the version without giving a reason."


def _delay_already_recorded(release: Release, reason: str) -> bool:
    return release.review_delayed_at is not None and release.review_delay_reason == reason.strip()


def review_outcome_apply(
    *,
    release: Release,
    outcome: str,
    reason: str = "",
    screenshots: Iterable[str] = (),
    source: str,
    at: datetime | None = None,
    audit_id: str = "",
) -> Release | None:
    """Record approved / rejected / delayed as the platform reported it; None if nothing changed.

    `reason` is the platform's raw text and is kept verbatim. `source` ("push", "poll")
    goes into the audit event so the trail says who noticed first.
    """
    if outcome == "rejected" and not reason.strip():
        reason = NO_REASON
    with transaction.atomic():
        # The same lock release services take: a concurrent push and poll queue up here.
        App.objects.select_for_update().filter(pk=release.app_id).first()
        release.refresh_from_db()
        if outcome == "delayed" and _delay_already_recorded(release, reason):
            return None
        data = {
            "source": source,
            "screenshots": list(screenshots),
            "audit_id": audit_id or release.platform_audit_id,
        }
        if at is not None:
            data["platform_at"] = at.isoformat()
        changed = release_review_decided(
            release=release, outcome=outcome, reason=reason, actor=None, data=data
        )
        if changed is not None and outcome == "rejected" and data["screenshots"]:
            from reviews.screenshots import screenshots_plan_for

            screenshots_plan_for(changed)  # fetched after commit, in a worker, best effort
        return changed


def _is_newer(audit_id: str, current: str) -> bool:
    """WeChat's auditids grow; anything not numeric that differs is taken as the platform's latest."""
    if audit_id.isdigit() and current.isdigit():
        return int(audit_id) > int(current)
    return audit_id != current


def _follow_resubmission(release: Release, audit_id: str, source: str) -> Release | None:
    """The release the polled status is about, after noticing a resubmission made outside Sluice.

    None when the status is about an older submission than the one we know (stale), or a
    newer one this release cannot take on.
    """
    current = release.platform_audit_id
    if not audit_id or not current or audit_id == current:
        return release
    if not _is_newer(audit_id, current):
        return None
    return release_changed_outside(
        release=release,
        change="resubmitted",
        audit_id=audit_id,
        data={"source": source, "previous_audit_id": current},
    )


def review_status_apply(
    release: Release,
    status: int,
    reason: str = "",
    screenshots: Iterable[str] = (),
    audit_id: str = "",
    source: str = "poll",
    at: datetime | None = None,
) -> Release | None:
    """Apply a review status (an adapter's review_status: WeChat's get_auditstatus, Douyin's versions);
    None if nothing changed.

    0 approved, 1 rejected, 2 still in review (nothing to do), 3 withdrawn (outside
    Sluice), 4 delayed. An auditid newer than the release's means it was resubmitted
    outside Sluice: that is recorded first, then the status applies to the new submission.
    """
    if status not in (*STATUS_OUTCOMES, STATUS_IN_REVIEW, STATUS_WITHDRAWN):
        raise ValueError(f"Review status {status!r} is unknown (expected 0 to 4).")
    audit_id = str(audit_id or "").strip()
    known = release.platform_audit_id
    followed = _follow_resubmission(release, audit_id, source)
    if followed is None:
        return None
    resubmitted = followed if followed.platform_audit_id != known else None
    if status == STATUS_IN_REVIEW:
        return resubmitted
    if status == STATUS_WITHDRAWN:
        changed = release_changed_outside(
            release=followed,
            change="withdrawn",
            audit_id=audit_id or followed.platform_audit_id,
            data={"source": source},
        )
    else:
        changed = review_outcome_apply(
            release=followed,
            outcome=STATUS_OUTCOMES[status],
            reason=reason,
            screenshots=screenshots,
            source=source,
            at=at,
            audit_id=audit_id,
        )
    return changed or resubmitted


# -- pushed callbacks: each delivery processed once ----------------------------------------
# Refused deliveries are counted in reviews.refusals; audit results are applied in reviews.push.

Outcome = CallbackDelivery.Outcome


def delivery_key(account: PlatformAccount, endpoint: str, kind: str, *parts) -> str:
    digest = hashlib.sha256(json.dumps([str(p) for p in parts], ensure_ascii=False).encode()).hexdigest()
    return f"{account.pk}:{endpoint}:{kind[:40]}:{digest}"


def delivery_once(
    account: PlatformAccount,
    *,
    endpoint: str,
    key: str,
    event: str,
    appid: str,
    process: Callable[[], str],
) -> str:
    """Run `process` unless this delivery was seen before; the record commits with its effects.

    The unique dedupe key makes a concurrent second delivery wait for the first and then
    find it: processed once, whatever the timing.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = CallbackDelivery.objects.create(
                    account=account,
                    endpoint=endpoint,
                    dedupe_key=key,
                    event=event[:64],
                    appid=appid[:64],
                    outcome=Outcome.PROCESSED,
                )
        except IntegrityError:
            return Outcome.DUPLICATE
        outcome = process()
        if outcome != Outcome.PROCESSED:
            delivery.outcome = outcome
            delivery.save(update_fields=["outcome"])
        return outcome


def _ticket_store(account: PlatformAccount, event: ComponentVerifyTicket) -> str:
    """Keep the newest ticket: one delivered late must not replace a fresher one."""
    issued_at = timestamp_to_datetime(event.create_time)
    current = ComponentTicket.objects.select_for_update().filter(account=account).first()
    if current is not None and current.received_at >= issued_at:
        return Outcome.IGNORED
    ComponentTicket.objects.update_or_create(
        account=account, defaults={"ticket": event.ticket, "received_at": issued_at}
    )
    return Outcome.PROCESSED


def _authorization_record(account: PlatformAccount, event: AuthorizationChange, ip: str | None) -> str:
    """`unauthorized` flags the app now; `authorized` / `updateauthorized` queue the exchange of
    the AuthorizationCode (api_query_auth, api_get_authorizer_info: platform calls, so in a worker,
    never in this transaction), which creates or updates the app (reviews.authorizations)."""
    from reviews.authorizations import authorization_revoked

    if event.info_type == "unauthorized":
        app = authorization_revoked(account=account, appid=event.authorizer_appid, source="push", ip=ip)
        return Outcome.PROCESSED if app is not None else Outcome.IGNORED
    if not event.authorization_code:
        return Outcome.IGNORED
    account_id, code = account.pk, event.authorization_code
    transaction.on_commit(lambda: _queue_exchange(account_id, code))
    return Outcome.PROCESSED


def _queue_exchange(account_id: int, authorization_code: str) -> None:
    """Redis being down must not turn an accepted push into an error (WeChat would retry a push
    already recorded as processed): the exchange is lost, and the authorizer import finds the app."""
    import logging

    import django_rq
    from redis.exceptions import RedisError
    from rq import Retry

    from releases.crypto import encrypt
    from reviews.jobs import exchange_authorization

    try:
        # The code is worth a refresh token for an hour: encrypted in the queue, kept out of the
        # job's description (which RQ logs).
        django_rq.get_queue("platform").enqueue(
            exchange_authorization,
            account_id,
            encrypt(authorization_code),
            retry=Retry(max=5, interval=[5, 15, 30, 60, 120]),
            description=f"reviews.jobs.exchange_authorization(account={account_id})",
        )
    except (RedisError, OSError) as exc:
        logging.getLogger(__name__).warning(
            "Could not queue the authorization exchange of account %s: %s", account_id, exc
        )


def auth_event_apply(
    *, account: PlatformAccount, event: ComponentVerifyTicket | AuthorizationChange | OtherEvent, ip=None
) -> str:
    """An event from the authorization URL; returns the delivery's outcome."""
    if isinstance(event, ComponentVerifyTicket):
        key = delivery_key(account, "auth", "ticket", event.component_appid, event.create_time, event.ticket)
        return delivery_once(
            account,
            endpoint="auth",
            key=key,
            event="component_verify_ticket",
            appid=event.component_appid,
            process=lambda: _ticket_store(account, event),
        )
    if isinstance(event, AuthorizationChange):
        key = delivery_key(account, "auth", event.info_type, event.authorizer_appid, event.create_time)
        return delivery_once(
            account,
            endpoint="auth",
            key=key,
            event=event.info_type,
            appid=event.authorizer_appid,
            process=lambda: _authorization_record(account, event, ip),
        )
    return _ignore(account, "auth", event, appid="")


def _ignore(account: PlatformAccount, endpoint: str, event: OtherEvent, *, appid: str) -> str:
    fields = json.dumps(event.fields, sort_keys=True, ensure_ascii=False, default=str)
    key = delivery_key(account, endpoint, event.kind, appid, event.create_time, fields)
    return delivery_once(
        account, endpoint=endpoint, key=key, event=event.kind, appid=appid, process=lambda: Outcome.IGNORED
    )


def message_event_apply(*, account: PlatformAccount, appid: str, event: AuditResult | OtherEvent) -> str:
    """An event from the message URL of mini program `appid`; returns the delivery's outcome.

    Audit results go to reviews.push, which binds them to their app and asks WeChat.
    """
    if not isinstance(event, AuditResult):
        return _ignore(account, "events", event, appid=appid)
    from reviews.push import audit_push_apply

    return audit_push_apply(account=account, appid=appid, event=event)
