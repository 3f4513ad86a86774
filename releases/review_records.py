"""The facts the gate rules read about reviews: rejections, playbooks, remediation tasks, quota snapshots.

They lived in reviews/ until the layout put every rule with the domain; their tables keep their
old names (`db_table`), so moving them changed no row.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases.models import PlatformAccount, Release


class RejectionCategory(models.TextChoices):
    CATEGORY_MISMATCH = "category_mismatch", _("Features do not match the category")
    PRIVACY_POLICY = "privacy_policy", _("Privacy policy")
    PERFORMANCE = "performance", _("Performance")
    QUALIFICATION = "qualification", _("Qualification")
    WRONG_CATEGORY = "wrong_category", _("Wrong category")
    IMAGE_VIOLATION = "image_violation", _("Image violation")
    ABNORMAL_PRICE = "abnormal_price", _("Abnormal price")
    CONTENT_OR_INDUCED_SHARING = "content_or_induced_sharing", _("Content or induced sharing")
    ACCOUNT_INFORMATION = "account_information", _("Account information")
    FUNCTIONAL_BUG = "functional_bug", _("Functional bug")
    OTHER = "other", _("Other")


class Rejection(models.Model):
    """One platform rejection of a release: the verbatim reason, its parsed and classified items.

    Created from the `review_rejected` audit event (one row per event, so recording it twice
    is harmless). `items` is a list of {number, title, details, text, category}; `categories`
    the distinct categories, kept for the same-reason lock.
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="rejections")
    app_id = models.BigIntegerField(db_index=True)
    audit_event_id = models.BigIntegerField(unique=True, null=True, blank=True)
    audit_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    items = models.JSONField(default=list)
    categories = models.JSONField(default=list)
    screenshots = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "reviews_rejection"
        ordering = ["-at", "-pk"]
        indexes = [
            # "an app's newest rejections" as a short index scan: the same-reason lock of the
            # overview (limits/bulk.py) and of the app and release pages (limits/rules.py)
            models.Index(fields=["app_id", "at", "id"], name="rejection_app_at_idx"),
        ]


class UnclassifiedReason(models.Model):
    """A rejection item no rule recognised, counted so playbook authors see what to add."""

    key = models.CharField(max_length=64, unique=True)  # sha256 of the normalised text
    text = models.TextField()
    count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_release_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "reviews_unclassifiedreason"
        ordering = ["-count", "-last_seen_at"]


class Playbook(models.Model):
    """What to do about one rejection category. Its steps live in immutable versions.

    `platform` "" is the playbook of every platform; a platform's own playbook for a category
    (its console, its words) is chosen before it for that platform's rejections (issue 16)."""

    category = models.CharField(max_length=40, choices=RejectionCategory.choices)
    platform = models.CharField(
        max_length=20, blank=True, default="", help_text="Empty: every platform without its own playbook."
    )
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "reviews_playbook"
        ordering = ["category", "platform"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "category"], name="one_playbook_per_platform_category"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def current(self) -> "PlaybookVersion | None":
        return self.versions.order_by("-number").first()


class PlaybookVersion(models.Model):
    """One edit of a playbook. Never changed afterwards: an edit is a new version."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "reviews_playbookversion"
        ordering = ["playbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbook_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.playbook} v{self.number}"


class PlaybookStep(models.Model):
    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    key = models.CharField(
        max_length=80,
        validators=[RegexValidator(r"^[a-z0-9_.-]+$", "Use lower-case letters, digits, _ . and -.")],
        help_text="Stable id such as privacy_policy.permissions; the same key in two playbooks is one task.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    check_key = models.CharField(
        max_length=64, blank=True, help_text="A pre-submission check to run again, e.g. privacy_policy."
    )
    evidence = models.CharField(max_length=300, blank=True, help_text="What the completion note must show.")

    class Meta:
        db_table = "reviews_playbookstep"
        ordering = ["version", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="playbook_step_key_unique")]

    def __str__(self) -> str:
        return self.title


class RemediationTask(models.Model):
    """One thing to fix on a rejected release, from a playbook step (one per key per release)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="remediation_tasks")
    rejection = models.ForeignKey(Rejection, on_delete=models.SET_NULL, null=True, related_name="tasks")
    playbook_version = models.ForeignKey(PlaybookVersion, on_delete=models.SET_NULL, null=True, blank=True)
    key = models.CharField(max_length=80)
    category = models.CharField(max_length=40, choices=RejectionCategory.choices)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    check_key = models.CharField(max_length=64, blank=True)
    evidence = models.CharField(max_length=300, blank=True)
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    waived_at = models.DateTimeField(null=True, blank=True)
    waive_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "reviews_remediationtask"
        ordering = ["release", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["release", "key"], name="remediation_key_per_release")]

    @property
    def is_open(self) -> bool:
        return not self.done and self.waived_at is None


class QuotaSnapshot(models.Model):
    """The platform's monthly review quota of one account (shared by all its apps), as last read.

    Local submissions after `refreshed_at` are subtracted on read, so the meter moves with
    each submission between refreshes.
    """

    account = models.OneToOneField(PlatformAccount, on_delete=models.CASCADE, related_name="quota_snapshot")
    rest = models.IntegerField()
    limit = models.IntegerField()
    speedup_rest = models.IntegerField(default=0)
    speedup_limit = models.IntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_quotasnapshot"  # kept from when it lived in reviews/
