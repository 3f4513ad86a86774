"""Writes: every change to a release goes through one of these `<entity>_<action>` functions.

Each one runs the transition, saves, and records the audit event in one transaction, so a
refused or crashed change leaves neither a new state nor an event behind. Platform calls
never run inside that transaction: a step first moves the release to an in-flight state
(committed), then calls the platform, then records the outcome in a second transaction.

This module gathers them; each lives with its kind: `transitions` (the lock, the refusals and
the transition every write runs through), `draft_services` (create, edit, checks, checklist),
`approval_services` (approve, override, send back), `step_services` (the platform steps, their
attempts and sweep, cancel) and `outcome_services` (review outcomes, expiry, changes made
outside Sluice). Patch a name where it is looked up: in its own module, not here.
"""

from releases.approval_services import release_approve, release_approve_override, release_send_back
from releases.draft_services import (
    release_check,
    release_check_finish,
    release_confirm_check,
    release_create,
    release_update,
)
from releases.outcome_services import (
    OUTCOMES,
    release_changed_outside,
    release_expire,
    release_record_outcome,
    release_review_decided,
)
from releases.rollout_services import (
    release_rollout_advance,
    release_rollout_halt,
    release_rollout_pause,
    release_rollout_resume,
    release_rollout_revert,
    release_rollouts_tick,
    release_schedule_publish,
    release_unschedule,
)
from releases.step_services import (
    release_cancel,
    release_publish,
    release_retry,
    release_rollback,
    release_step_perform,
    release_submit,
    release_sweep_in_flight,
    release_withdraw,
)
from releases.transitions import DOING, LIMITED_TRANSITIONS, NEW_REVISION, refuse_unless_permitted
from releases.urgent_services import app_service_set, release_speedup

__all__ = [
    "app_service_set",
    "release_rollout_advance",
    "release_rollout_halt",
    "release_rollout_pause",
    "release_rollout_resume",
    "release_rollout_revert",
    "release_rollouts_tick",
    "release_speedup",
    "release_schedule_publish",
    "release_unschedule",
    "DOING",
    "LIMITED_TRANSITIONS",
    "NEW_REVISION",
    "OUTCOMES",
    "refuse_unless_permitted",
    "release_approve",
    "release_approve_override",
    "release_cancel",
    "release_changed_outside",
    "release_check",
    "release_check_finish",
    "release_confirm_check",
    "release_create",
    "release_expire",
    "release_publish",
    "release_record_outcome",
    "release_retry",
    "release_review_decided",
    "release_rollback",
    "release_send_back",
    "release_step_perform",
    "release_submit",
    "release_sweep_in_flight",
    "release_update",
    "release_withdraw",
]
