"""Channels (where a team is told), deliveries (the log of every message) and the scan's cursor.

A channel's URL (the WeCom key and the DingTalk token travel in it) and its signing secret are
encrypted at rest (releases.crypto) and never rendered back. A delivery is one event for one
destination: a channel, or a person's own email; several due at once for a robot travel in one
message, the others then name it in `carried_by`.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notify.kinds import KINDS
from releases.crypto import EncryptedTextField


class Kind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk custom robot")
    FEISHU = "feishu", _("Feishu custom bot")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Signed webhook")


ROBOTS = (Kind.WECOM, Kind.DINGTALK, Kind.FEISHU)


class Language(models.TextChoices):
    ZH_HANS = "zh-Hans", "简体中文"
    EN = "en", "English"


def all_kinds() -> list[str]:
    return list(KINDS)


class Channel(models.Model):
    team = models.ForeignKey("releases.Team", on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=120)
    url = EncryptedTextField(blank=True)
    to = models.TextField(blank=True)  # email: addresses, comma-separated
    secret = EncryptedTextField(blank=True)
    events = models.JSONField(default=all_kinds)
    apps = models.JSONField(default=list, blank=True)  # app ids; empty: every app of the team
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ZH_HANS)
    # Beijing times; both set: non-urgent messages wait from start to end (may span midnight).
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    digest_time = models.TimeField(default=datetime.time(9, 30))
    digest_working_days_only = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # The sender's claim (one worker at a time per destination) and its last minute of sends.
    sending_until = models.DateTimeField(null=True, blank=True)
    recent_sends = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="channel_name_per_team")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        HELD = "held", _("Held for quiet hours")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    team = models.ForeignKey("releases.Team", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=24)
    source = models.CharField(max_length=120)  # what caused it, once per destination: "audit:123:rejected"
    release = models.ForeignKey(
        "releases.Release", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    app = models.ForeignKey(
        "releases.App", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    facts = models.JSONField(default=dict)  # what the message says, frozen when the event was seen
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    answer = models.TextField(blank=True)  # the platform's answer to the last attempt, as it came
    http_status = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=40, default=message_id)  # webhook-id: stable across retries
    carried_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    carried = models.PositiveIntegerField(default=1)  # events in the message of the last attempt
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "source"], name="delivery_once_per_channel"),
            models.UniqueConstraint(fields=["user", "source"], name="delivery_once_per_user"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    PENDING = (Status.QUEUED, Status.HELD, Status.RETRYING)


class Cursor(models.Model):
    """How far the worker has read the audit trail (one row). Audit ids commit in order (the chain
    head is locked until commit), so nothing below the cursor can still appear."""

    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)


class Timer(models.Model):
    """An event due later: a lock that lifts, a window that closes within 24 hours."""

    team = models.ForeignKey("releases.Team", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=24)
    source = models.CharField(max_length=120, unique=True)
    app = models.ForeignKey("releases.App", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(db_index=True)
    fired_at = models.DateTimeField(null=True, blank=True)


class Preference(models.Model):
    """A person's notification settings: their own email, its language, the mobile robots @."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference"
    )
    email_enabled = models.BooleanField(default=False)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    mobile = models.CharField(max_length=20, blank=True)
