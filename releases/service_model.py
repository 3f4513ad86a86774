"""The app's service on the platform (the emergency stop) and its state machine.

`service_state` is protected (django-fsm): taking the service offline is a platform call
(WeChat's change_visitstatus), so it has an in-flight state, committed with its audit event
before the call, and a failed state:

    online -> going_offline -> offline | stop_failed (still online; stop again)
    offline -> going_online -> online | start_failed (still offline; start again)

The app holds the call like a release holds its step (releases/steps.py): the request reserves
it, the attempt claims it under a lease, and a process that died between the call and the write
leaves it in flight until the lease runs out; then the in-flight sweep repeats the call (the
same visit status twice changes nothing) and records the outcome once.
"""

import django_fsm as fsm
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceState(models.TextChoices):
    ONLINE = "online", _("Online")
    GOING_OFFLINE = "going_offline", _("Going offline")
    OFFLINE = "offline", _("Offline")
    STOP_FAILED = "stop_failed", _("Stop failed")
    GOING_ONLINE = "going_online", _("Coming back online")
    START_FAILED = "start_failed", _("Restart failed")


SS = ServiceState
SERVICE_IN_FLIGHT = (SS.GOING_OFFLINE, SS.GOING_ONLINE)


class ServiceMixin(models.Model):
    service_state = fsm.FSMField(default=SS.ONLINE, choices=SS.choices, protected=True)
    # What the platform last confirmed (the visit status), the reason given, and since when.
    service_online = models.BooleanField(default=True)
    service_reason = models.TextField(blank=True)
    service_changed_at = models.DateTimeField(null=True, blank=True)
    # Why the last change failed (shown with the failed state).
    service_error = models.TextField(blank=True)
    service_error_code = models.CharField(max_length=64, blank=True)
    # The call in flight, held like a release's step (releases/steps.py).
    step_claimed_by = models.CharField(max_length=32, blank=True)
    step_lease_until = models.DateTimeField(null=True, blank=True)
    step_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Like Release.refresh_from_db: drop the cached state so the protected field takes the
        fresh value for this instance only (django-fsm-2 unprotects the shared field object)."""
        if fields is None or "service_state" in fields:
            self.__dict__.pop("service_state", None)
        models.Model.refresh_from_db(self, using=using, fields=fields, from_queryset=from_queryset)

    @property
    def service_target_online(self) -> bool:
        """What the call in flight (or the last one) asks for."""
        return self.service_state in (SS.GOING_ONLINE, SS.ONLINE, SS.START_FAILED)

    def _begin(self, reason: str) -> None:
        from releases.steps import reservation

        self.step_attempts = 0
        self.step_claimed_by, self.step_lease_until = reservation()
        self.service_reason, self.service_error_code, self.service_error = reason, "", ""

    def _end(self, online: bool | None, code: str = "", message: str = "") -> None:
        self.step_claimed_by, self.step_lease_until = "", None
        self.service_error_code, self.service_error = code, message
        if online is not None:
            self.service_online, self.service_changed_at = online, timezone.now()

    @fsm.transition(field=service_state, source=[SS.ONLINE, SS.STOP_FAILED], target=SS.GOING_OFFLINE)
    def service_stop(self, reason: str = ""):
        self._begin(reason)

    @fsm.transition(field=service_state, source=SS.GOING_OFFLINE, target=SS.OFFLINE)
    def service_stopped(self):
        self._end(False)

    @fsm.transition(field=service_state, source=SS.GOING_OFFLINE, target=SS.STOP_FAILED)
    def service_stop_failed(self, code: str = "", message: str = ""):
        self._end(None, code, message)

    @fsm.transition(field=service_state, source=[SS.OFFLINE, SS.START_FAILED], target=SS.GOING_ONLINE)
    def service_start(self, reason: str = ""):
        self._begin(reason)

    @fsm.transition(field=service_state, source=SS.GOING_ONLINE, target=SS.ONLINE)
    def service_started(self):
        self._end(True)

    @fsm.transition(field=service_state, source=SS.GOING_ONLINE, target=SS.START_FAILED)
    def service_start_failed(self, code: str = "", message: str = ""):
        self._end(None, code, message)
