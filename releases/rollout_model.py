"""The release's phased-release part: its rollout and the transitions that move it.

A mixin of releases.release_model.Release (kept apart so each module stays readable). A phased
release is the state `rolling_out` (the platform shows the version to a share of users); each
further stage goes through `publishing` again (the platform call, in flight, with
`publish_failed` if it fails), landing back in `rolling_out` or, at 100%, in `published`. A
revert (`revertgrayrelease`) goes through `reverting` / `revert_failed` back to `approved`, from
where the same version can be published again. Pause, resume and halt are recorded facts of the
rollout (no platform call), each a transition so it is guarded, locked and audited.
"""

from datetime import timedelta

import django_fsm as fsm
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases import rollout as phased

ROLLING_OUT, PUBLISHING, PUBLISH_FAILED = "rolling_out", "publishing", "publish_failed"
REVERTING, REVERT_FAILED, APPROVED = "reverting", "revert_failed", "approved"


def _can_manage(release, user) -> bool:
    from releases.release_model import can_manage

    return can_manage(release, user)


def _condition(code: str):
    from releases.release_model import gate_condition

    return gate_condition(code)


class SpeedupState(models.TextChoices):
    NONE = "", _("Not requested")
    REQUESTING = "requesting", _("Speed-up requested")
    REQUESTED = "requested", _("Speed-up granted")
    FAILED = "failed", _("Speed-up refused")


class RolloutMixin(models.Model):
    rollout = models.JSONField(default=dict, blank=True)
    # When the scheduler should advance the rollout (its next_stage_at), indexed for the tick.
    rollout_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The platform's app_version a rollback goes back to (None: the previous one).
    rollback_to = models.PositiveIntegerField(null=True, blank=True)
    # When the team plans to ship it (the calendar page): a plan, not content, so it voids nothing.
    target_date = models.DateField(null=True, blank=True)
    # The last speed-up of the review (the speed-up transitions below) and why it failed.
    speedup_state = fsm.FSMField(default="", choices=SpeedupState.choices, protected=True, blank=True)
    speedup_error = models.TextField(blank=True)
    speedup_error_code = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True

    is_rollout_running = _condition("rollout_not_running")
    is_rollout_stopped = _condition("rollout_not_paused")
    has_higher_stage = _condition("gray_percentage_too_low")
    has_fresh_health = _condition("health_metric_stale")
    is_rollout_started = _condition("rollout_not_started")
    is_publish_scheduled = _condition("not_scheduled")
    is_speedup_idle = _condition("speedup_in_flight")

    def _set_rollout(self, rollout: dict, due=None) -> None:
        self.rollout, self.rollout_due_at = rollout, due

    @fsm.transition(
        field="state",
        source=ROLLING_OUT,
        target=PUBLISHING,
        conditions=[is_rollout_running, has_higher_stage, has_fresh_health],
        permission=_can_manage,
    )
    def rollout_advance(self):
        self.in_flight_from = self.state
        self._set_rollout({**self.rollout, "target_stage": self.rollout["stage"] + 1, "next_stage_at": None})
        self._begin_step()

    @fsm.transition(field="state", source=PUBLISHING, target=ROLLING_OUT)
    def stage_succeeded(self):
        self._set_rollout(*phased.stage_reached(self.rollout))

    @fsm.transition(
        field="state",
        source=ROLLING_OUT,
        target=ROLLING_OUT,
        conditions=[is_rollout_running],
        permission=_can_manage,
    )
    def rollout_pause(self):
        due = self.rollout_due_at
        left = max(0, int((due - timezone.now()).total_seconds())) if due else 0
        self._set_rollout({**self.rollout, "status": phased.Status.PAUSED, "paused_seconds_left": left})

    @fsm.transition(
        field="state",
        source=ROLLING_OUT,
        target=ROLLING_OUT,
        conditions=[is_rollout_stopped],
        permission=_can_manage,
    )
    def rollout_resume(self):
        """After a pause the hold goes on where it stopped; after a halt it starts again in full."""
        rollout = self.rollout
        if rollout["status"] == phased.Status.HALTED:
            left = rollout.get("stage_hold_minutes", 0) * 60
        else:
            left = rollout.get("paused_seconds_left", 0)
        due = timezone.now() + timedelta(seconds=left)
        resumed = {
            **rollout,
            "status": phased.Status.RUNNING,
            "halted_reason": "",
            "next_stage_at": due.isoformat(),
        }
        resumed.pop("paused_seconds_left", None)
        self._set_rollout(resumed, due)

    @fsm.transition(field="state", source=ROLLING_OUT, target=ROLLING_OUT)
    @fsm.transition(field="state", source=PUBLISHING, target=PUBLISHING)
    def rollout_halt(self, reason: str = "", revert: bool = False):
        """No further stage until someone resumes or reverts (a health breach). While a stage's
        call is in flight the halt is recorded all the same: that stage lands halted (no hold, no
        next stage), and `revert` (the app's auto_revert) reverts it once it has landed."""
        halted = {
            **self.rollout,
            "status": phased.Status.HALTED,
            "halted_reason": reason,
            "next_stage_at": None,
        }
        if revert:
            halted["revert_pending"] = True
        self._set_rollout(halted)

    @fsm.transition(
        field="state",
        source=[ROLLING_OUT, PUBLISH_FAILED],
        target=REVERTING,
        conditions=[is_rollout_started],
        permission=_can_manage,
    )
    def rollout_revert(self, reason: str = ""):
        self.in_flight_from = self.state
        rollout = {**self.rollout, "next_stage_at": None}
        rollout.pop("revert_pending", None)
        self._set_rollout(rollout)
        self.last_error_code, self.last_error = "", ""
        self._begin_step()

    @fsm.transition(field="state", source=REVERTING, target=APPROVED)
    def revert_phased_succeeded(self):
        self._set_rollout(
            {**self.rollout, "status": phased.Status.REVERTED, "percentage": 0, "next_stage_at": None}
        )

    @fsm.transition(field="state", source=ROLLING_OUT, target=ROLLING_OUT)
    def rollout_changed_outside(self, percentage: int = 0):
        """The platform's plan shows another percentage than ours (changed in its console)."""
        self._set_rollout({**self.rollout, "percentage": percentage}, self.rollout_due_at)

    @fsm.transition(field="state", source=ROLLING_OUT, target=APPROVED)
    def reverted_outside(self):
        """The platform's plan was deleted in its console: the phased release is over."""
        self._set_rollout(
            {**self.rollout, "status": phased.Status.REVERTED, "percentage": 0, "next_stage_at": None}
        )

    # -- speed-up: a platform call with a state machine of its own (`speedup_state`), next to the
    # release's state (the review goes on meanwhile). The request is a transition of the release
    # in review (its role, guards and quota); it moves `speedup_state` to `requesting` and holds
    # the call like a step (releases/steps.py); the outcome lands once, whatever the release's
    # state is by then (the review may have ended meanwhile). --

    @fsm.transition(
        field=speedup_state,
        source=[SpeedupState.NONE, SpeedupState.REQUESTED, SpeedupState.FAILED],
        target=SpeedupState.REQUESTING,
    )
    def _speedup_requesting(self):
        from releases.steps import reservation

        self.step_claimed_by, self.step_lease_until = reservation()
        self.speedup_error_code, self.speedup_error = "", ""

    @fsm.transition(
        field="state",
        source="submitted",
        target="submitted",
        conditions=[is_speedup_idle],
        permission=_can_manage,
    )
    def speedup(self):
        self._speedup_requesting()

    # The outcome moves `speedup_state` only: the review may have ended meanwhile.

    @fsm.transition(field=speedup_state, source=SpeedupState.REQUESTING, target=SpeedupState.REQUESTED)
    def speedup_succeeded(self, claim: str = ""):
        self._speedup_release(claim)

    @fsm.transition(field=speedup_state, source=SpeedupState.REQUESTING, target=SpeedupState.FAILED)
    def speedup_failed(self, code: str = "", message: str = "", claim: str = ""):
        self.speedup_error_code, self.speedup_error = code, message
        self._speedup_release(claim)

    def _speedup_release(self, claim: str) -> None:
        """Hand the lease back, unless a step of the release (a withdraw) holds it by now."""
        if claim and self.step_claimed_by == claim:
            self.step_claimed_by, self.step_lease_until = "", None

    # -- a publish scheduled for later (releases.rollout_services.release_schedule_publish) --

    @fsm.transition(field="state", source=APPROVED, target=APPROVED, permission=_can_manage)
    def schedule_publish(self, rollout: dict | None = None, at=None):
        scheduled = {**phased.begin(rollout), "status": phased.Status.SCHEDULED, "target_stage": 0}
        self._set_rollout({**scheduled, "scheduled_at": at.isoformat()}, at)

    @fsm.transition(
        field="state",
        source=APPROVED,
        target=APPROVED,
        conditions=[is_publish_scheduled],
        permission=_can_manage,
    )
    def unschedule(self):
        self._set_rollout({})
