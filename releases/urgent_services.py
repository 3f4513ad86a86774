"""Writes for urgent moments: speeding up a review, and the emergency stop of an app's service.

Both call the platform once, synchronously, outside any transaction, between two recorded
events: the request (guarded, audited, committed first) and its outcome. Both calls can be
repeated safely: a second speed-up of the same submission is refused with 89404, which after a
request whose outcome was never recorded (a crash between the call and the write) means the
first call worked; a second change of the visit status to the same value changes nothing.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, Refused
from releases.models import App, AuditEvent, Release, Role, role_at_least
from releases.platforms import PlatformError, adapter_for
from releases.selectors import role_for
from releases.transitions import _transition

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


def _unanswered_request(release: Release) -> bool:
    """The last speed-up request of this release has no recorded outcome (its call may have worked)."""
    last = (
        AuditEvent.objects.filter(
            release_id=release.pk, action__in=("speedup_requested", "speedup_succeeded", "speedup_failed")
        )
        .order_by("-id")
        .values_list("action", flat=True)
        .first()
    )
    return last == "speedup_requested"


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
    unanswered = _unanswered_request(release)
    _transition(release, "speedup", actor=actor, ip=ip, action="speedup_requested", data={"reason": reason})
    try:
        adapter.speedup(release)
    except PlatformError as exc:
        if exc.code == ALREADY_SPED_UP and unanswered:
            return _transition(release, "speedup_succeeded", actor=None, data={"reconciled": True})
        error = {"code": exc.code, "message": exc.message}
        _transition(release, "speedup_failed", actor=None, args=error, data=error)
        raise Refused(
            exc.code, gettext_noop("The platform refused the speed-up: %(error)s") % {"error": exc.message}
        ) from exc
    return _transition(release, "speedup_succeeded", actor=None, data={})


def app_service_set(*, app: App, actor, online: bool, reason: str = "", ip: str | None = None) -> App:
    """The emergency stop (admins): the app's service offline (nobody can open it) or back online.

    The request is audited first, then the platform is called, then the new status is recorded;
    pressing again after a crash repeats an idempotent call."""
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
    adapter = adapter_for(app.platform_account)
    with transaction.atomic():
        App.objects.select_for_update().filter(pk=app.pk).first()
        audit_record(action="service_change_requested", actor=actor, app=app, data={"online": online}, ip=ip)
    try:
        adapter.set_service(app, online)
    except PlatformError as exc:
        with transaction.atomic():
            audit_record(
                action="service_change_failed",
                actor=None,
                app=app,
                data={"online": online, "code": exc.code, "message": exc.message},
            )
        raise Refused(
            exc.code, gettext_noop("The platform refused: %(error)s") % {"error": exc.message}
        ) from exc
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        locked.service_online, locked.service_reason = online, reason
        locked.service_changed_at = timezone.now()
        locked.save(update_fields=["service_online", "service_reason", "service_changed_at"])
        action = "service_online" if online else "service_offline"
        audit_record(action=action, actor=actor, app=locked, data={"reason": reason}, ip=ip)
    return locked
