"""Audit pushes (weapp_audit_success / _fail / _delay): bound to their app, and only a reason to ask.

A push arrives on `<callback_key>/<appid>/events`, but the appid in the URL is whatever the
sender posted to. What WeChat signed is the message, and in it ToUserName, the original ID
(gh_...) of the mini program the push is about; audit pushes carry no appid and no auditid.
So a push is believed only for the app it names: when its signed ToUserName is not the
URL's app's original ID, it is refused (MisaddressedPush), nothing changes, and the refusal
is counted (reviews.refusals).

Even a genuine push only says what WeChat decided once, not what holds now: it may be a
replay, or be about an earlier submission. So a push decides nothing by itself. It makes
Sluice ask WeChat about the app's review in progress with the poll's own status call
(reviews.polling.review_ask), and WeChat's answer moves the release.

One call per pushed decision: the delivery is recorded under the review it triggers and
the event, before the call, so a repeat, a concurrent twin or a second push of the same
event for the same review makes no call; a push for a review no longer in review finds
nothing to ask about and makes none either. A push that cannot be acted on now (WeChat
does not answer, or its answer could not be recorded) makes the review's poll come at once
instead.
"""

import logging

from releases.models import App, PlatformAccount, Release, State
from releases.platforms import PlatformError, ReviewCode
from reviews.models import CallbackDelivery
from reviews.original_ids import app_original_id
from reviews.platforms.wechat.events import AuditResult
from reviews.polling import review_ask, review_poll_soon
from reviews.services import Outcome, delivery_key, delivery_once

logger = logging.getLogger(__name__)


class MisaddressedPush(Exception):
    """The push's signed ToUserName names another mini program than the app of its URL."""


def _record_ignored(account: PlatformAccount, appid: str, event: AuditResult) -> str:
    key = delivery_key(
        account, "events", event.event, appid, event.create_time, event.to_user_name, event.audit_id
    )
    return delivery_once(
        account, endpoint="events", key=key, event=event.event, appid=appid, process=lambda: Outcome.IGNORED
    )


def _bind(app: App, event: AuditResult) -> bool:
    """Whether the push is known to be about `app`; raises MisaddressedPush if it is about another.

    False when the app's original ID is unknown and WeChat cannot tell it now: the push is
    then neither believed nor refused.
    """
    original_id = app_original_id(app)
    if original_id is None:
        return False
    if event.to_user_name != original_id:
        logger.warning(
            "A %s push for %r was posted to the events URL of app %s (%s)",
            event.event,
            event.to_user_name,
            app.pk,
            original_id,
        )
        raise MisaddressedPush("The push is about another mini program than the one of this URL.")
    return True


def _ask(release: Release) -> str:
    """WeChat's answer decides; the push only made us ask. Outside any transaction."""
    try:
        answer = review_ask(release, source="push")
    except PlatformError as exc:
        logger.warning("Asking WeChat about release %s after a push failed: %s", release.pk, exc.message)
        review_poll_soon(release)
        return Outcome.DEFERRED
    return Outcome.IGNORED if answer.status == ReviewCode.IN_REVIEW else Outcome.PROCESSED


def audit_push_apply(*, account: PlatformAccount, appid: str, event: AuditResult) -> str:
    """Act on an audit push to the events URL of `appid`; returns the delivery's outcome.

    Raises MisaddressedPush (and changes nothing) when the push names another mini program.
    """
    app = App.objects.select_related("platform_account").filter(platform_account=account, appid=appid).first()
    if app is None:
        return _record_ignored(account, appid, event)
    bound = _bind(app, event)
    release = Release.objects.select_related("app__platform_account").filter(app=app, state=State.SUBMITTED)
    release = release.first()
    if release is None:  # decided already, or never submitted through Sluice: nothing to ask
        return _record_ignored(account, appid, event)
    key = delivery_key(account, "events", event.event, appid, "review", release.pk, release.platform_audit_id)
    claimed = delivery_once(
        account, endpoint="events", key=key, event=event.event, appid=appid, process=lambda: Outcome.PROCESSED
    )
    if claimed == Outcome.DUPLICATE:
        return claimed
    if bound:
        try:
            outcome = _ask(release)
        except Exception:
            # Recording what WeChat answered failed (e.g. classifying a rejection): nothing of it
            # was kept. The delivery is not "processed", the poll asks again at once, and the
            # error reaches the caller (WeChat gets an error answer, the log the traceback).
            CallbackDelivery.objects.filter(dedupe_key=key).update(outcome=Outcome.DEFERRED)
            review_poll_soon(release)
            raise
    else:
        review_poll_soon(release)
        outcome = Outcome.DEFERRED
    if outcome != Outcome.PROCESSED:
        CallbackDelivery.objects.filter(dedupe_key=key).update(outcome=outcome)
    return outcome
