"""The release and its state machine: the states, who may move it, and the transitions.

`state` is protected (django-fsm): it changes only through the transitions below, called by the
services (releases.services) through releases.transitions. Each condition is a gate rule
(releases.gate.rules).
"""

import django_fsm as fsm
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases import fingerprint
from releases import rollout as phased
from releases.models import App, Role, role_at_least


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CHECKED = "checked", _("Checked")
    SUBMITTING = "submitting", _("Submitting")
    SUBMIT_FAILED = "submit_failed", _("Submit failed")
    SUBMITTED = "submitted", _("In review")
    APPROVED = "approved", _("Approved by platform")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWING = "withdrawing", _("Withdrawing")
    WITHDRAW_FAILED = "withdraw_failed", _("Withdraw failed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISH_FAILED = "publish_failed", _("Publish failed")
    PUBLISHED = "published", _("Published")
    ROLLING_BACK = "rolling_back", _("Rolling back")
    ROLLBACK_FAILED = "rollback_failed", _("Rollback failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    ROLLING_OUT = "rolling_out", _("Phased release")
    REVERTING = "reverting", _("Reverting phased release")
    REVERT_FAILED = "revert_failed", _("Revert failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


S = State

# Each platform call has an in-flight state and a failed state; a retry replays the call.
IN_FLIGHT = {
    S.SUBMITTING: "submit",
    S.WITHDRAWING: "withdraw",
    S.PUBLISHING: "publish",
    S.ROLLING_BACK: "rollback",
    S.REVERTING: "revert_phased",
}
FAILED_TO_IN_FLIGHT = {
    S.SUBMIT_FAILED: S.SUBMITTING,
    S.WITHDRAW_FAILED: S.WITHDRAWING,
    S.PUBLISH_FAILED: S.PUBLISHING,
    S.ROLLBACK_FAILED: S.ROLLING_BACK,
    S.REVERT_FAILED: S.REVERTING,
}
IN_FLIGHT_TO_FAILED = {v: k for k, v in FAILED_TO_IN_FLIGHT.items()}
# The platform holds the version while it is in one of these states: one per app at a time.
IN_REVIEW = [S.SUBMITTING, S.SUBMITTED, S.WITHDRAWING, S.WITHDRAW_FAILED]
EVER_PUBLISHED = [S.PUBLISHED, S.ROLLING_BACK, S.ROLLBACK_FAILED, S.ROLLED_BACK]
EDITABLE = [S.DRAFT, S.CHECKED, S.REJECTED, S.WITHDRAWN, S.EXPIRED, S.SUBMIT_FAILED]
CANCELLABLE = [
    S.DRAFT,
    S.CHECKED,
    S.REJECTED,
    S.WITHDRAWN,
    S.EXPIRED,
    S.APPROVED,
    S.SUBMIT_FAILED,
    S.PUBLISH_FAILED,
]


def _failed_state_of(release: "Release", *args, **kwargs) -> str:
    return IN_FLIGHT_TO_FAILED[release.state]


def _retried_state_of(release: "Release", *args, **kwargs) -> str:
    return FAILED_TO_IN_FLIGHT[release.state]


def gate_condition(code: str):
    """A transition condition that is the gate rule `code` (releases.gate.rules): the rule, its
    refusal code and its sentence are written there once, for one release and for many."""

    def condition(release: "Release") -> bool:
        from releases.gate.rules import holds

        return holds(code, release)

    condition.guard_code = code
    condition.__name__ = condition.__qualname__ = f"gate_{code}"
    return condition


def guard_text(condition, release: "Release") -> str:
    """What a refused condition says about this release (the rule's precise sentence)."""
    from releases.gate.rules import reason

    return reason(condition.guard_code, release)


def _member_role(release: "Release", user) -> str | None:
    from releases.selectors import role_for

    return role_for(user, release.app.team_id)


def can_develop(release: "Release", user) -> bool:
    return role_at_least(_member_role(release, user), Role.DEVELOPER)


def can_manage(release: "Release", user) -> bool:
    return role_at_least(_member_role(release, user), Role.RELEASE_MANAGER)


def can_approve(release: "Release", user) -> bool:
    """Whoever holds an approval capacity approves, never content they wrote: a second person
    stands behind it. Release managers hold one by role; QA or product by their membership."""
    from releases.approvals import capacities_of, wrote_content

    return bool(capacities_of(user, release.app)) and not wrote_content(release, user)


def may_attempt(release: "Release", transition: str, user) -> bool:
    """The transition exists from the current state and the user's role allows it.

    Unlike django_fsm.has_transition_perm this ignores the conditions, so the caller can
    tell "not yours to do" (403) from "not yet" (409 naming the guard).
    """
    meta = getattr(release, transition)._django_fsm
    return meta.has_transition(release.state) and meta.has_transition_perm(release, release.state, user)


# The phased-release half of the release; it reads the conditions and permissions above.
from releases.rollout_model import RolloutMixin  # noqa: E402


class Release(fsm.ConcurrentTransitionMixin, RolloutMixin, models.Model):
    """One version of an app on its way from draft to published.

    `state` is protected: it changes only through the transitions below, called by the
    services (releases.services) through releases.transitions, which also writes the audit
    event in the same transaction. ConcurrentTransitionMixin makes a save fail if another connection
    moved the state first, so two people pressing a button at once get one winner; the
    services also re-read the row under a lock before any guard runs.
    `revision` grows with every content edit; approvals and check runs name the
    revision they saw (runs and ticks also the hash of the content), so an edit voids
    them without deleting history.
    """

    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=64)
    release_notes = models.TextField(blank=True)
    review_notes = models.TextField(blank=True)
    build_report = models.JSONField(default=dict, blank=True)
    # Where the code came from, when CI posted it as a build (releases/build_records.py): the
    # commit is content (releases/fingerprint.py), the branch and CI run are for people.
    build_commit = models.CharField(max_length=64, blank=True)
    build_branch = models.CharField(max_length=255, blank=True)
    build_ci_url = models.URLField(max_length=500, blank=True)
    # The code a third-party platform ships for this app (issues 14 and 16): a template of the
    # platform account's library and the app's ext.json. Content like the commit: the adapter
    # uploads exactly this before submitting (WeChat's commit, Douyin's package_version/upload).
    template_id = models.CharField(max_length=64, blank=True)
    ext_json = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_releases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_releases",
        null=True,
        blank=True,
    )
    state = fsm.FSMField(default=S.DRAFT, choices=S.choices, protected=True, db_index=True)
    revision = models.PositiveIntegerField(default=1)
    # Where the last in-flight step came from (checked or rejected for a submit), so that
    # giving up on a failed step can return exactly there.
    in_flight_from = models.CharField(max_length=20, blank=True, choices=S.choices)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    platform_audit_id = models.CharField(max_length=64, blank=True)
    # The platform step in flight (releases/steps.py): the worker holding it until its lease runs
    # out, how many attempts it took, since when its calls may have reached the platform, and
    # what the adapter saw before its first call (to tell later whether that call took effect).
    step_attempts = models.PositiveIntegerField(default=0)
    step_lease_until = models.DateTimeField(null=True, blank=True)
    step_claimed_by = models.CharField(max_length=32, blank=True)
    step_began_at = models.DateTimeField(null=True, blank=True)
    step_checkpoint = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    review_delayed_at = models.DateTimeField(null=True, blank=True)
    review_delay_reason = models.TextField(blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "version"], name="version_unique_per_app")]
        indexes = [
            models.Index(fields=["app", "state"]),
            # An app's newest releases first (app list, app page, API): one short index range (issue 6).
            models.Index(fields=["app", "created_at", "id"], name="release_app_created_idx"),
            # The overview counts the releases that ended recently: a short range per ended state.
            models.Index(fields=["state", "state_changed_at"], name="release_state_changed_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.app} {self.version}"

    @property
    def state_fields(self):
        """The optimistic check of ConcurrentTransitionMixin watches `state` only: `speedup_state`
        moves under the row lock (releases.transitions), and reads that load a few columns
        (`.only()`) must not have to load it too."""
        return [self._meta.get_field("state")]

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Reload without django-fsm-2's refresh, which flips `protected` off and on on the field
        object every thread shares: under a threaded server another request could then fail with
        "Direct state modification is not allowed". Dropping the cached state lets the descriptor
        accept the fresh value for this instance only."""
        self.__dict__.pop("state", None)
        if fields is None or "speedup_state" in fields:
            self.__dict__.pop("speedup_state", None)
        self.__dict__.pop("_gate_facts", None)  # facts judged from the row as it was (releases.gate)
        names = fields or [f.attname for f in self._meta.concrete_fields]
        models.Model.refresh_from_db(self, using=using, fields=names, from_queryset=from_queryset)
        self._update_initial_state()

    # -- named conditions: each is a gate rule (releases.gate.rules) the services name when refusing --

    is_approved = gate_condition("approval_required")
    has_passed_checks = gate_condition("checks_not_passed")
    is_checklist_complete = gate_condition("checklist_incomplete")
    has_valid_qualifications = gate_condition("qualification_expired")
    is_only_one_in_review = gate_condition("review_in_progress")
    needs_approval = gate_condition("already_approved")
    is_not_superseded = gate_condition("superseded")

    def content_hash(self) -> str:
        """What a check run and the checklist ticks must have seen to count (releases.fingerprint)."""
        return fingerprint.content_hash(self)

    def is_in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    def _begin_step(self, *, fresh: bool = True) -> None:
        """A step starts with no attempt, reserved for the job about to be queued (releases/steps.py).
        Its calls may reach the platform from now on; a retry after giving up keeps the earlier
        start and checkpoint, since a call of those attempts may have taken effect unheard."""
        from releases.steps import reservation

        self.step_attempts = 0
        self.step_claimed_by, self.step_lease_until = reservation()
        if fresh or self.step_began_at is None:
            self.step_began_at, self.step_checkpoint = timezone.now(), {}

    # -- transitions: bodies stay about the row; platform calls happen outside them --

    @fsm.transition(field=state, source=EDITABLE, target=S.DRAFT, permission=can_develop)
    def edit(self):
        self.revision += 1

    @fsm.transition(
        field=state,
        source=S.DRAFT,
        target=S.CHECKED,
        conditions=[has_passed_checks, is_checklist_complete],
        permission=can_develop,
    )
    def mark_checked(self):
        pass

    @fsm.transition(
        field=state, source=S.CHECKED, target=S.CHECKED, conditions=[needs_approval], permission=can_approve
    )
    def approve(self):
        pass

    @fsm.transition(field=state, source=S.CHECKED, target=S.DRAFT, permission=can_approve)
    def send_back(self):
        """An approver refuses the revision: back to draft for the author to fix and re-check."""
        self.revision += 1

    @fsm.transition(
        field=state,
        source=[S.CHECKED, S.REJECTED],
        target=S.SUBMITTING,
        conditions=[
            is_not_superseded,
            has_passed_checks,
            is_approved,
            is_only_one_in_review,
            has_valid_qualifications,
        ],
        permission=can_manage,
    )
    def submit(self):
        self.in_flight_from = self.state
        self._begin_step()

    @fsm.transition(field=state, source=S.SUBMITTING, target=S.SUBMITTED)
    def submit_succeeded(self, audit_id: str = ""):
        self.platform_audit_id = audit_id
        self.submitted_at = timezone.now()
        self.decided_at = None
        self.review_delayed_at = None
        self.review_delay_reason = ""

    @fsm.transition(field=state, source=S.SUBMITTED, target=S.APPROVED, permission=can_manage)
    def review_approved(self):
        self.decided_at = timezone.now()

    @fsm.transition(field=state, source=S.SUBMITTED, target=S.REJECTED, permission=can_manage)
    def review_rejected(self, reason: str = ""):
        self.decided_at = timezone.now()
        self.rejection_reason = reason

    @fsm.transition(field=state, source=S.SUBMITTED, target=S.SUBMITTED, permission=can_manage)
    def review_delayed(self, reason: str = ""):
        """A delay is a recorded fact about a submitted release, not a state of its own."""
        self.review_delayed_at = timezone.now()
        self.review_delay_reason = reason

    @fsm.transition(field=state, source=S.SUBMITTED, target=S.WITHDRAWN)
    def withdrawn_outside(self):
        """The platform says the review was withdrawn, but not through Sluice (e.g. in its console)."""

    @fsm.transition(field=state, source=[S.SUBMITTED, S.REJECTED, S.WITHDRAWN], target=S.SUBMITTED)
    def resubmitted_outside(self, audit_id: str = ""):
        """The platform holds a newer submission of this release made outside Sluice."""
        self.platform_audit_id = audit_id
        self.submitted_at = timezone.now()
        self.decided_at = None

    @fsm.transition(field=state, source=S.SUBMITTED, target=S.WITHDRAWING, permission=can_manage)
    def withdraw(self):
        self.in_flight_from = self.state
        self._begin_step()

    @fsm.transition(field=state, source=S.WITHDRAWING, target=S.WITHDRAWN)
    def withdraw_succeeded(self):
        pass

    @fsm.transition(field=state, source=S.APPROVED, target=S.PUBLISHING, permission=can_manage)
    def publish(self, rollout: dict | None = None):
        """`rollout`: the parsed plan (releases.rollout); its first stage is the call in flight."""
        self.in_flight_from = self.state
        self.rollout, self.rollout_due_at = (phased.begin(rollout) if rollout else {}), None
        self._begin_step()

    @fsm.transition(field=state, source=S.PUBLISHING, target=S.PUBLISHED)
    def publish_succeeded(self):
        if self.rollout:  # the last stage of a phased release: 100%
            self.rollout, self.rollout_due_at = phased.stage_reached(self.rollout)

    is_no_phased_release = gate_condition("phased_release_running")
    is_first_rollback = gate_condition("rollback_twice")
    has_previous_version = gate_condition("no_previous_version")

    @fsm.transition(
        field=state,
        source=S.PUBLISHED,
        target=S.ROLLING_BACK,
        conditions=[is_no_phased_release, has_previous_version, is_first_rollback],
        permission=can_manage,
    )
    def rollback(self, app_version: int | None = None):
        """`app_version`: one of the platform's history (the five most recent), else the previous one."""
        self.in_flight_from = self.state
        self.rollback_to = app_version
        self._begin_step()

    @fsm.transition(field=state, source=S.ROLLING_BACK, target=S.ROLLED_BACK)
    def rollback_succeeded(self):
        pass

    @fsm.transition(
        field=state,
        source=list(IN_FLIGHT),
        target=fsm.GET_STATE(_failed_state_of, states=list(FAILED_TO_IN_FLIGHT)),
    )
    def step_failed(self, code: str = "", message: str = "", gave_up: bool = False):
        """`gave_up`: the last attempt failed transiently, so an earlier call may still have taken
        effect; a retry then reconciles from the step's first start. A permanent refusal means the
        platform did nothing, so a retry starts afresh."""
        self.last_error_code = code
        self.last_error = message
        self.step_lease_until, self.step_claimed_by = None, ""
        if not gave_up:
            self.step_began_at, self.step_checkpoint = None, {}

    @fsm.transition(
        field=state,
        source=list(FAILED_TO_IN_FLIGHT),
        target=fsm.GET_STATE(_retried_state_of, states=list(IN_FLIGHT)),
        permission=can_manage,
    )
    def retry(self):
        self.last_error_code = ""
        self.last_error = ""
        self._begin_step(fresh=False)

    @fsm.transition(field=state, source=S.REJECTED, target=S.EXPIRED)
    def expire(self):
        """The resubmission window passed: a new attempt starts from draft."""

    is_not_phased_live = gate_condition("phased_release_live")

    @fsm.transition(
        field=state,
        source=CANCELLABLE,
        target=S.CANCELLED,
        conditions=[is_not_phased_live],
        permission=can_manage,
    )
    def cancel(self):
        pass
