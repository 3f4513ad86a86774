"""What Sluice keeps about its conversations with platforms."""

from django.db import models
from django.utils import timezone

from releases.crypto import EncryptedTextField
from releases.models import App, PlatformAccount, Release


class ComponentTicket(models.Model):
    """The latest component_verify_ticket WeChat pushed (every 10 minutes, valid 12 hours).

    A missed push is harmless: the last valid ticket keeps working.
    """

    account = models.OneToOneField(PlatformAccount, on_delete=models.CASCADE, related_name="component_ticket")
    ticket = EncryptedTextField()
    received_at = models.DateTimeField(default=timezone.now)


class CallbackDelivery(models.Model):
    """One pushed callback, kept so a repeated delivery is processed once.

    An audit push is keyed by the review it is about (reviews.push), so it is also the claim
    that makes one status call per pushed decision.
    """

    class Outcome(models.TextChoices):
        PROCESSED = "processed"
        DUPLICATE = "duplicate"
        REJECTED = "rejected"
        IGNORED = "ignored"
        DEFERRED = "deferred"  # the status call failed: the review's poll asks instead

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="callback_deliveries")
    endpoint = models.CharField(max_length=10)  # "auth" or "events"
    dedupe_key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=64, blank=True)
    appid = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)


class CallbackRefusals(models.Model):
    """Deliveries refused on one account's callback URLs in one minute, counted.

    Anyone can post to a callback URL, so a refusal must cost a counter update, not a row:
    once the minute is over, one `callback_rejected` audit event summarises it and this row
    is deleted (reviews.refusals).
    """

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=dict)  # {"events:bad_signature": 12, ...}
    first_ip = models.GenericIPAddressField(null=True, blank=True)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "minute"], name="callback_refusals_per_minute")
        ]


class AuthorizerIdentity(models.Model):
    """What WeChat calls an authorized mini program in its pushes: its original ID (gh_...).

    Audit pushes carry no appid and no auditid; their signed ToUserName is the only thing
    that says which app they are about. Learned from api_get_authorizer_info, never from a
    push or a user (reviews.original_ids).
    """

    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="authorizer_identity")
    original_id = models.CharField(max_length=64)
    learned_at = models.DateTimeField(default=timezone.now)


class ReviewWatch(models.Model):
    """The polling schedule of one submitted release (pushes get lost, so we also ask)."""

    release = models.OneToOneField(Release, on_delete=models.CASCADE, related_name="review_watch")
    audit_id = models.CharField(max_length=64, blank=True)
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_status = models.IntegerField(null=True, blank=True)
    active = models.BooleanField(default=True, db_index=True)


class TemplateDraft(models.Model):
    """A draft in the platform account's template draft box (WeChat's gettemplatedraftlist).

    Drafts are uploaded from WeChat DevTools by the platform's development mini program; Sluice
    only mirrors them (reviews.templates) so a person can turn one into a template.
    """

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="template_drafts")
    draft_id = models.BigIntegerField()
    user_version = models.CharField(max_length=64, blank=True)
    user_desc = models.TextField(blank=True)
    source_miniprogram_appid = models.CharField(max_length=64, blank=True)
    source_miniprogram = models.CharField(max_length=120, blank=True)
    developer = models.CharField(max_length=120, blank=True)
    created_on_platform = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "draft_id"], name="one_draft_per_id")]
        ordering = ["-draft_id"]


class CodeTemplate(models.Model):
    """A template in the platform account's template library (WeChat's gettemplatelist): the code
    a campaign commits to every app (Release.template_id). The library holds at most 200."""

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="code_templates")
    template_id = models.BigIntegerField()
    draft_id = models.BigIntegerField(null=True, blank=True)
    user_version = models.CharField(max_length=64, blank=True)
    user_desc = models.TextField(blank=True)
    source_miniprogram_appid = models.CharField(max_length=64, blank=True)
    source_miniprogram = models.CharField(max_length=120, blank=True)
    developer = models.CharField(max_length=120, blank=True)
    template_type = models.PositiveSmallIntegerField(default=0)  # 0 normal, 1 standard (deprecated)
    created_on_platform = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "template_id"], name="one_template_per_id")]
        ordering = ["-template_id"]


class RejectionScreenshot(models.Model):
    """One screenshot a platform attached to a rejection, fetched as a picture (issue 15).

    WeChat names them by media id (`ScreenShot` = "id1|id2"); the pictures are fetched after the
    rejection is recorded, in a worker, best effort (reviews.screenshots): a row starts pending, is
    retried with backoff and ends fetched (the bytes, their sniffed type) or failed (why). The
    rejection and its reason never wait for it.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        FETCHED = "fetched"
        FAILED = "failed"

    rejection = models.ForeignKey("releases.Rejection", on_delete=models.CASCADE, related_name="pictures")
    position = models.PositiveSmallIntegerField(default=0)
    media_id = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    content_type = models.CharField(max_length=20, blank=True)
    data = models.BinaryField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rejection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rejection", "media_id"], name="rejection_screenshot_once")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="screenshot_due_idx")]
