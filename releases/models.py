"""The release domain: teams, platform accounts, apps, releases and their audit trail."""

import secrets

import django_fsm as fsm
from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from releases import fingerprint
from releases.crypto import EncryptedTextField


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    DEVELOPER = "developer", _("Developer")
    RELEASE_MANAGER = "release_manager", _("Release manager")
    ADMIN = "admin", _("Admin")


def english(label) -> str:
    """A (lazily translated) label in English, for the sentences services build: their messages
    are English in the API and in pages alike, so a label inside them must not switch language."""
    with translation.override("en"):
        return str(label)


ROLE_RANK = {Role.VIEWER: 10, Role.DEVELOPER: 20, Role.RELEASE_MANAGER: 30, Role.ADMIN: 40}


class Capacity(models.TextChoices):
    """What an approval vouches for. Release managers approve as release managers by role;
    the other capacities are carried by a membership (Membership.capacities)."""

    RELEASE_MANAGER = "release_manager", _("Release manager")
    QA = "qa", _("QA")
    PRODUCT = "product", _("Product")


# Capacities a membership can carry on top of its role.
MEMBER_CAPACITIES = (Capacity.QA, Capacity.PRODUCT)
OVERRIDE = "override"  # the capacity of an admin's approval-by-override


def default_required_approvals() -> list[str]:
    return [Capacity.RELEASE_MANAGER.value]


DEFAULT_CHECKLIST = (
    ("tested_ios", "Core flows tested on iOS"),
    ("tested_android", "Core flows tested on Android"),
    ("tested_wechat_latest", "Core flows tested on the latest WeChat version"),
    ("payment", "Payment tested end to end"),
    ("login", "Login tested (new and returning user)"),
)


def default_checklist() -> list[dict]:
    return [{"key": key, "label": label} for key, label in DEFAULT_CHECKLIST]


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    # Approval capacities this member holds besides the role, e.g. ["qa"] (MEMBER_CAPACITIES).
    capacities = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


class Platform(models.TextChoices):
    WECHAT = "wechat", _("WeChat third-party platform")
    MANUAL = "manual", _("Manual (submitted by hand)")


def _callback_key() -> str:
    return secrets.token_urlsafe(16)


class PlatformAccount(models.Model):
    """A platform identity the team submits through.

    For WeChat it is a third-party platform (component) whose secrets sign and encrypt
    every call and callback; they are encrypted at rest and never rendered back.
    `callback_key` makes the callback URLs unguessable and routes a push to its account.
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="platform_accounts")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    name = models.CharField(max_length=120)
    component_appid = models.CharField(max_length=64, blank=True)
    component_appsecret = EncryptedTextField(blank=True)
    message_token = EncryptedTextField(blank=True)
    encoding_aes_key = EncryptedTextField(blank=True)
    callback_key = models.CharField(max_length=32, unique=True, default=_callback_key)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="platform_account_name_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class App(models.Model):
    """A mini-program. Its team decides who may see and act on it."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="apps")
    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.PROTECT, related_name="apps")
    name = models.CharField(max_length=120)
    appid = models.CharField(max_length=64)
    authorizer_refresh_token = EncryptedTextField(blank=True)
    privacy_policy_url = models.URLField(blank=True)
    categories = models.JSONField(default=list, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    # The manual checklist every revision must tick: [{"key": "tested_ios", "label": "..."}].
    checklist = models.JSONField(default=default_checklist, blank=True)
    # The approval policy: capacities that must each approve a revision (always a release manager).
    required_approvals = models.JSONField(default=default_required_approvals, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_account", "appid"], name="appid_per_account")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


S = State

# Each platform call has an in-flight state and a failed state; a retry replays the call.
IN_FLIGHT = {
    S.SUBMITTING: "submit",
    S.WITHDRAWING: "withdraw",
    S.PUBLISHING: "publish",
    S.ROLLING_BACK: "rollback",
}
FAILED_TO_IN_FLIGHT = {
    S.SUBMIT_FAILED: S.SUBMITTING,
    S.WITHDRAW_FAILED: S.WITHDRAWING,
    S.PUBLISH_FAILED: S.PUBLISHING,
    S.ROLLBACK_FAILED: S.ROLLING_BACK,
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


class Release(fsm.ConcurrentTransitionMixin, models.Model):
    """One version of an app on its way from draft to published.

    `state` is protected: it changes only through the transitions below, called by the
    services in releases/services.py, which also write the audit event in the same
    transaction. ConcurrentTransitionMixin makes a save fail if another connection
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
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.app} {self.version}"

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Reload without django-fsm-2's refresh, which flips `protected` off and on on the field
        object every thread shares: under a threaded server another request could then fail with
        "Direct state modification is not allowed". Dropping the cached state lets the descriptor
        accept the fresh value for this instance only."""
        self.__dict__.pop("state", None)
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
        conditions=[has_passed_checks, is_approved, is_only_one_in_review, has_valid_qualifications],
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
    def publish(self):
        self.in_flight_from = self.state
        self._begin_step()

    @fsm.transition(field=state, source=S.PUBLISHING, target=S.PUBLISHED)
    def publish_succeeded(self):
        pass

    @fsm.transition(field=state, source=S.PUBLISHED, target=S.ROLLING_BACK, permission=can_manage)
    def rollback(self):
        self.in_flight_from = self.state
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

    @fsm.transition(field=state, source=CANCELLABLE, target=S.CANCELLED, permission=can_manage)
    def cancel(self):
        pass


class Approval(models.Model):
    """A named person stands behind one revision of a release, in one capacity.

    `capacity` says what the approval vouches for (Capacity, or "override" for an admin's
    approval-by-override, whose `comment` is the required written reason).
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    revision = models.PositiveIntegerField()
    capacity = models.CharField(max_length=20, default=Capacity.RELEASE_MANAGER)
    override = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "approver", "revision"],
                condition=models.Q(override=False),
                name="one_approval_per_revision",
            )
        ]

    @property
    def capacity_label(self) -> str:
        if self.override:
            return _("Admin override")
        try:
            return Capacity(self.capacity).label
        except ValueError:
            return self.capacity


class CheckRun(models.Model):
    """One run of the automated checks on one revision.

    Slow checks (network) are stored as "pending" results and finished by a worker; the
    run is complete when `finished_at` is set, and only then does `passed` mean anything.
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="check_runs")
    revision = models.PositiveIntegerField()
    # The SHA-256 of the content the checks read (releases.fingerprint): the run counts only for it.
    content_hash = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    passed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    @property
    def is_pending(self) -> bool:
        return self.finished_at is None

    def counts_for(self, release: Release, content_hash: str | None = None) -> bool:
        """The run judged this release as it is now: its revision and exactly its content
        (`content_hash`: the release's, when the caller has it already)."""
        current = content_hash or release.content_hash()
        return self.revision == release.revision and self.content_hash == current


class CheckResult(models.Model):
    class Status(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        ERROR = "error", _("Error")
        SUPPRESSED = "suppressed", _("Suppressed")
        PENDING = "pending", _("Pending")

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, default="auto")
    severity = models.CharField(max_length=10)
    status = models.CharField(max_length=12, choices=Status.choices)
    message = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def blocks(self) -> bool:
        return self.severity == "error" and self.status in (self.Status.FAILED, self.Status.ERROR)


class CheckSuppression(models.Model):
    """A team decided that one automated check does not apply to an app, for a while.

    It applies up to and including `expires_on` (local date) and stops on the next day;
    removing it sets `removed_at` so the history stays. A suppressed check is not run:
    its result is "suppressed" with the reason and expiry, on every run while it applies.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="suppressions")
    key = models.CharField(max_length=64)
    reason = models.TextField()
    expires_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="check_suppressions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "key"],
                condition=models.Q(removed_at=None),
                name="one_live_suppression_per_check",
            )
        ]

    def applies_on(self, day) -> bool:
        return self.removed_at is None and day <= self.expires_on


class Qualification(models.Model):
    """A licence or permit the platform asks for (business licence, category permits)."""

    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        CATEGORY_PERMIT = "category_permit", _("Category permit")

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120, blank=True, help_text="e.g. 食品经营许可证")
    number = models.CharField(max_length=64)
    # Valid up to and including this date; empty for a permit without expiry (长期有效).
    expires_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "expires_on", "pk"]

    @property
    def title(self) -> str:
        label = self.name or self.get_kind_display()
        return f"{label} {self.number}"


class ChecklistTick(models.Model):
    """A person confirms one manual checklist item for one revision of a release, and the exact
    content it had then (`content_hash`, as on CheckRun): the tick counts only for that content."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="checklist_ticks")
    revision = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=48)
    label = models.CharField(max_length=200)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["confirmed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "revision", "content_hash", "key"], name="one_tick_per_item_and_content"
            )
        ]


class AuditEvent(models.Model):
    """One line of the append-only audit trail.

    Examples: action="submit", from_state="checked", to_state="submitting", actor=manager;
    action="review_rejected", actor=None (the platform's push), data={"reason": "..."}.
    Rows are never updated, deleted or replaced (database triggers refuse it on PostgreSQL and
    SQLite); each stores the hash of the previous row and its own HMAC under the key named by
    `key_id` (releases/audit.py; empty: a legacy row from before the chain was keyed), so
    `manage.py verify_audit` can name the first row that was changed behind our back, even
    by someone who could write to the database. Targets are plain ids, not
    foreign keys, so that no cascade or SET NULL can ever rewrite a row. Records are kept
    at least 3 years; nothing here trims them.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    app_id = models.BigIntegerField(null=True, blank=True)
    release_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # A database default too: the column was added to millions of rows without rewriting them.
    key_id = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        # The audit browser lists one filter's events newest first, (at, id) descending, and pages
        # by keyset: each filter column leads an index ending in (at, id), so a page is one short
        # index range at any size. Analytics look up a release's earlier submissions and decisions
        # for each event: (release_id, action, id, at) answers that from the index alone. They replace
        # the single-column indexes they start with.
        indexes = [
            models.Index(fields=["team_id", "at", "id"], name="audit_team_at_idx"),
            models.Index(fields=["app_id", "at", "id"], name="audit_app_at_idx"),
            models.Index(fields=["actor_id", "at", "id"], name="audit_actor_at_idx"),
            models.Index(fields=["action", "at", "id"], name="audit_action_at_idx"),
            models.Index(fields=["release_id", "action", "id", "at"], name="audit_release_action_idx"),
            # "The app's latest review_approved", "its withdrawals this month": one index-only probe
            # each, instead of reading every event of the app to check its action (issue 6, scale).
            models.Index(fields=["app_id", "action", "at"], name="audit_app_action_at_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """A single row every audit writer locks, so the hash chain never forks under concurrency.

    It counts the events and holds the last one's hash, signed (`mac`) with the audit key named
    by `key_id`, so missing events at the end of the chain show. Database triggers let it only
    move forward: no delete, no second row, and an update must raise the count.
    """

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)
    key_id = models.CharField(max_length=16, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")


class AuditVerification(models.Model):
    """One walk of the audit hash chain (the periodic job or `manage.py verify_audit`).

    Walking the chain takes about 30 s per two million events, so pages show the latest of these
    rows instead of verifying inside a request. `broken_id` is the first event whose hash or link does not
    hold (None when intact, or when events at the end are missing: then `problem` says so).
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now, db_index=True)
    checked = models.BigIntegerField(default=0)
    ok = models.BooleanField()
    broken_id = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="job")  # "job" or "command"

    class Meta:
        ordering = ["-finished_at", "-pk"]


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)


class UserPreference(models.Model):
    """A person's settings that outlive a session: for now the language of the pages (issue 6).

    Empty `language` means "no choice made": the browser's Accept-Language decides.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, blank=True)


# Models defined in their own module register here, where Django looks for the app's models.
from releases.review_records import (  # noqa: E402, F401
    Playbook,
    PlaybookStep,
    PlaybookVersion,
    QuotaSnapshot,
    Rejection,
    RejectionCategory,
    RemediationTask,
    UnclassifiedReason,
)
