"""Writes for urgent moments: speeding up a review, and the emergency stop of an app's service.

Each is a platform call with an in-flight and a failed state (Release.speedup_state,
App.service_state): the request is guarded, audited and committed first, holding the call like
a release's step (releases/steps.py); then the platform is called outside any transaction; then
the outcome is recorded, once (the transition leaves the in-flight state). The person asking
waits for the answer, so the API keeps answering 409 with the platform's reason.

A process that dies between the call and the write leaves the call in flight with its lease;
once the lease runs out, the in-flight sweep (releases.step_services.release_sweep_in_flight)
makes the call again, which is idempotent: a second speed-up of the same submission is
refused with 89404, which then means the first one worked; the same visit status set twice
changes nothing.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, Refused
from releases.models import App, Release, Role, role_at_least
from releases.platforms import PlatformError, adapter_for
from releases.selectors import role_for
from releases.service_model import SS
from releases.steps import app_step_claim, step_claim
from releases.transitions import _transition

logger = logging.getLogger(__name__)

# The speed-up the platform already holds: a second one is refused with this (WeChat 89404).
ALREADY_SPED_UP = "wechat_89404"


def _reason(reason: str, doing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            "reason_required",
            gettext_noop("Say why you %(doing)s.") % {"doing": doing},
            details={"reason": gettext_noop("Required.")},
        )
    return reason


def release_speedup(*, release: Release, actor, reason: str = "", ip: str | None = None) -> Release:
    """Spend one of the month's speed-ups on a release in review. 409 `speedup_exhausted` when none
    is left (nothing called); the platform's refusal (89402-89404) is a 409 with its reason."""
    reason = _reason(reason, gettext_noop("speed up this review"))
    adapter = adapter_for(release.app.platform_account)
    if not adapter.supports_speedup:
        raise Refused(
            "speedup_unsupported",
            gettext_noop("%(account)s offers no speed-up.") % {"account": release.app.platform_account},
        )
    _transition(release, "speedup", actor=actor, ip=ip, action="speedup_requested", data={"reason": reason})
    finished = release_speedup_perform(release_id=release.pk, reserved=release.step_claimed_by, retried=False)
    if finished is None:
        return Release.objects.get(pk=release.pk)
    if finished.speedup_state == "failed":
        code = finished.speedup_error_code or "platform_error"
        raise Refused(
            code,
            gettext_noop("The platform refused the speed-up: %(error)s") % {"error": finished.speedup_error},
        )
    return finished


def release_speedup_perform(*, release_id: int, reserved: str = "", retried: bool = True) -> Release | None:
    """The speedupaudit call of a requested speed-up, and its outcome. `retried`: the request may
    have reached the platform before (the sweep after a crash), so 89404 means it worked.
    None if another process holds the call, or nothing is requested any more."""
    claim = step_claim(release_id, reserved)
    if claim is None:
        return None
    release = Release.objects.select_related("app__platform_account").get(pk=release_id)
    if release.speedup_state != "requesting":
        return None
    try:
        adapter_for(release.app.platform_account).speedup(release)
    except PlatformError as exc:
        if exc.code == ALREADY_SPED_UP and retried:
            return _speedup_outcome(release, "speedup_succeeded", claim, {"reconciled": True})
        error = {"code": exc.code, "message": exc.message}
        return _speedup_outcome(release, "speedup_failed", claim, error, args=error)
    except Exception as exc:  # a bug or a timeout: recorded as failed, not left in flight forever
        logger.exception("The speed-up of release %s stopped on an unexpected error", release_id)
        error = {"code": "step_error", "message": f"Unexpected error ({type(exc).__name__})."}
        return _speedup_outcome(release, "speedup_failed", claim, error, args=error)
    return _speedup_outcome(release, "speedup_succeeded", claim, {})


def _speedup_outcome(release: Release, name: str, claim: str, data: dict, args=None) -> Release | None:
    try:
        return _transition(release, name, actor=None, data=data, args={**(args or {}), "claim": claim})
    except Refused:
        return None  # recorded meanwhile by another process


# -- the emergency stop ----------------------------------------------------------------------


def _app_transition(app: App, name: str, *, actor, action: str, data: dict, ip=None, args=None) -> App:
    """One transition of the app's service, under the app's row lock, audited in the same block."""
    with transaction.atomic():
        locked = App.objects.select_for_update(of=("self",)).select_related("platform_account").get(pk=app.pk)
        method = getattr(locked, name)
        if not _can(method):
            if locked.service_state in (SS.GOING_OFFLINE, SS.GOING_ONLINE):
                raise Refused(
                    "service_change_in_flight",
                    gettext_noop("A change of this app's service is under way; wait for its answer."),
                )
            raise Refused(
                "invalid_state",
                gettext_noop("The app's service is already where this change would take it."),
            )
        method(**(args or {}))
        locked.save()
        audit_record(action=action, actor=actor, app=locked, data=data, ip=ip)
    return locked


def _can(method) -> bool:
    import django_fsm as fsm

    return fsm.can_proceed(method)


def app_service_set(*, app: App, actor, online: bool, reason: str = "", ip: str | None = None) -> App:
    """The emergency stop (admins): the app's service offline (nobody can open it) or back online.
    A failure lands in `stop_failed` / `start_failed` with the platform's reason (409)."""
    if not role_at_least(role_for(actor, app.team_id), Role.ADMIN):
        raise Forbidden(
            "forbidden", gettext_noop("Only a team admin can take an app's service offline or back.")
        )
    if not isinstance(online, bool):
        raise Invalid("invalid_field", "“online” must be true or false.", details={"online": "true or false"})
    reason = _reason(
        reason,
        gettext_noop("take the service offline") if not online else gettext_noop("bring the service back"),
    )
    if not adapter_for(app.platform_account).supports_service_stop:
        raise Refused("service_stop_unsupported", f"{app.platform_account} offers no emergency stop.")
    app = _app_transition(
        app,
        "service_start" if online else "service_stop",
        actor=actor,
        action="service_change_requested",
        data={"online": online, "reason": reason},
        ip=ip,
        args={"reason": reason},
    )
    finished = app_service_perform(app_id=app.pk, reserved=app.step_claimed_by, actor=actor, ip=ip)
    if finished is None:
        return App.objects.get(pk=app.pk)
    if finished.service_state in (SS.STOP_FAILED, SS.START_FAILED):
        raise Refused(
            finished.service_error_code,
            gettext_noop("The platform refused: %(error)s") % {"error": finished.service_error},
        )
    return finished


def app_service_perform(*, app_id: int, reserved: str = "", actor=None, ip=None) -> App | None:
    """The change_visitstatus call of a requested change, and its outcome (recorded once). None if
    another process holds the call or nothing is in flight."""
    claim = app_step_claim(app_id, reserved)
    if claim is None:
        return None
    app = App.objects.select_related("platform_account").get(pk=app_id)
    online = app.service_state == SS.GOING_ONLINE
    try:
        adapter_for(app.platform_account).set_service(app, online)
    except Exception as exc:
        known = isinstance(exc, PlatformError)
        code, message = (exc.code, exc.message) if known else ("step_error", type(exc).__name__)
        if not known:
            logger.exception("The service change of app %s stopped on an unexpected error", app_id)
        failed = "service_start_failed" if online else "service_stop_failed"
        return _app_outcome(
            app,
            failed,
            claim,
            actor=None,
            action="service_change_failed",
            data={"online": online, "code": code, "message": message},
            args={"code": code, "message": message},
        )
    done = "service_started" if online else "service_stopped"
    data = {"reason": app.service_reason, **({"reconciled": True} if actor is None else {})}
    action = "service_online" if online else "service_offline"
    return _app_outcome(app, done, claim, actor=actor, action=action, data=data, ip=ip)


def _app_outcome(app: App, name: str, claim: str, *, actor, action: str, data: dict, args=None, ip=None):
    """Recorded only while this attempt still holds the call: a second process never records twice."""
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        if locked.step_claimed_by != claim or not _can(getattr(locked, name)):
            return None
        getattr(locked, name)(**(args or {}))
        locked.save()
        audit_record(action=action, actor=actor, app=locked, data=data, ip=ip)
    return locked
