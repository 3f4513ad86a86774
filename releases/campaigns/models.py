"""A campaign and its apps. The release of each app is an ordinary Release; what a CampaignApp
adds is why the campaign holds that app back (`held`, with the last error), the ext.json it
rendered for it, and the wave that submitted it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases.models import App, PlatformAccount, Team
from releases.release_model import Release


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")  # created, its plan shown; nothing made yet
    PREPARING = "preparing", _("Preparing")  # releases created, checks running
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    SUBMITTING = "submitting", _("Submitting in waves")
    PUBLISHING = "publishing", _("Publishing")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# States in which the driver has work to do (a paused campaign keeps its place in paused_from).
DRIVEN = (
    CampaignState.PREPARING,
    CampaignState.AWAITING_APPROVAL,
    CampaignState.SUBMITTING,
    CampaignState.PUBLISHING,
)
ENDED = (CampaignState.DONE, CampaignState.CANCELLED)


class Held(models.TextChoices):
    """Why the campaign leaves one app behind while the others go on."""

    NONE = "", _("Not held")
    AUTHORIZATION_LOST = "authorization_lost", _("Authorization lost")
    RENDER_FAILED = "render_failed", _("ext.json could not be rendered")
    NOT_CREATED = "not_created", _("Release could not be created")
    CHECKS_FAILED = "checks_failed", _("Checks failed")
    APPROVAL_INCOMPLETE = "approval_incomplete", _("More approvals needed")
    REVIEW_IN_PROGRESS = "review_in_progress", _("Another release is in review")
    SAME_REASON_LOCK = "same_reason_lock", _("Parked by the same-reason lock")
    REFUSED = "refused", _("Refused")


class Campaign(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="campaigns")
    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=120, blank=True)
    # The platform's own template id (a string, as WeChat lists it) and the version every app gets.
    template_id = models.CharField(max_length=64)
    version = models.CharField(max_length=64)
    # Templates with `{{ variable }}` placeholders, rendered per app (releases.campaigns.render).
    release_notes = models.TextField(blank=True)
    review_notes = models.TextField(blank=True)
    ext_json = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True)  # {appid: {name: value}}
    targets = models.JSONField(default=dict)  # {"tags": [...]} | {"apps": [ids]} | {"all": true}
    build_report = models.JSONField(default=dict, blank=True)  # the template's one build, for the checks
    # Submissions of the monthly quota the campaign never spends: kept for urgent fixes.
    reserve = models.PositiveIntegerField(default=0)
    rollout = models.JSONField(null=True, blank=True)  # the publish plan (releases.rollout), or full
    state = models.CharField(max_length=20, choices=CampaignState.choices, default=CampaignState.DRAFT)
    paused_from = models.CharField(max_length=20, choices=CampaignState.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # What stops the campaign right now (the reserve, a backoff), as the driver last saw it.
    halt_code = models.CharField(max_length=40, blank=True)
    halt_message = models.TextField(blank=True)
    # Backing off after the platform said "too many calls" (45009) or "busy" (-1).
    backoff_until = models.DateTimeField(null=True, blank=True)
    backoff_step = models.PositiveIntegerField(default=0)
    waves = models.PositiveIntegerField(default=0)
    # The driver run holding the campaign (releases.campaigns.driver), until its lease runs out.
    driver_claim = models.CharField(max_length=32, blank=True)
    driver_lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state"], name="campaign_state_idx")]

    def __str__(self) -> str:
        return self.name or f"{self.template_id} {self.version}"


class CampaignApp(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="entries")
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="campaign_entries")
    position = models.PositiveIntegerField(default=0)
    release = models.OneToOneField(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="campaign_entry"
    )
    ext_json = models.JSONField(default=dict, blank=True)  # as rendered for this app
    held = models.CharField(max_length=30, choices=Held.choices, blank=True)
    last_error = models.TextField(blank=True)
    wave = models.PositiveIntegerField(null=True, blank=True)
    # Retry this app: a rejection group sent for resubmission, or retry-failed (the driver does it, in waves).
    retry_requested = models.BooleanField(default=False)
    # The experience version's QR code, fetched once the app's code is committed (best effort:
    # never holds the app). "" not asked yet, then queued, fetched, failed (qr_error says why) or
    # none (the platform has no such code). The image itself is a CampaignQrCode.
    qr_state = models.CharField(max_length=10, blank=True)
    qr_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "app"], name="campaign_app_once")]


class CampaignQrCode(models.Model):
    """One app's experience QR code as the platform drew it: a PNG or JPEG of at most
    releases.campaigns.qr.MAX_BYTES, its type read from the bytes themselves. A table of its own,
    so reading a campaign's rows never loads the images."""

    entry = models.OneToOneField(CampaignApp, on_delete=models.CASCADE, related_name="qr_code")
    content_type = models.CharField(max_length=20)
    image = models.BinaryField()
    fetched_at = models.DateTimeField(default=timezone.now)
