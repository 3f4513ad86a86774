"""What the gate records about a release: approvals, check runs and their results, suppressions,
qualifications and checklist ticks."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases.models import App, Capacity
from releases.release_model import Release


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
