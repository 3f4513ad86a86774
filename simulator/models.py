"""The simulated WeChat platform's own state: what WeChat would hold on its side.

These tables belong to the simulator, never to Sluice: Sluice only ever sees them through HTTP
(the API under /sim/ and the pushes it receives), exactly as it would see WeChat.
"""

import re

from django.db import models
from django.utils import timezone


class SimSettings(models.Model):
    """One row (pk=1): scripted reviews, fault injection and the monthly quota."""

    scripted_enabled = models.BooleanField(default=False)
    scripted_after_seconds = models.PositiveIntegerField(default=20)
    scripted_approve_pct = models.PositiveIntegerField(default=70)
    scripted_reject_pct = models.PositiveIntegerField(default=20)
    scripted_delay_pct = models.PositiveIntegerField(default=10)

    error_rate_pct = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    pushes_enabled = models.BooleanField(default=True)
    lost_push_pct = models.PositiveIntegerField(default=0)

    # Monthly, per third-party platform (component), shared by all its mini-programs (§6).
    quota_limit = models.PositiveIntegerField(default=20)
    speedup_limit = models.PositiveIntegerField(default=5)

    @classmethod
    def load(cls) -> "SimSettings":
        return cls.objects.get_or_create(pk=1)[0]


class SimComponent(models.Model):
    """A third-party platform (component) registered with the simulated WeChat."""

    appid = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=128)
    message_token = models.CharField(max_length=128)
    encoding_aes_key = models.CharField(max_length=43)
    auth_callback_url = models.URLField(max_length=500)
    # Contains the literal $APPID$, replaced by the mini-program's appid for each push.
    events_callback_url = models.URLField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.appid

    def events_url_for(self, appid: str) -> str:
        return self.events_callback_url.replace("$APPID$", appid)


class SimTicket(models.Model):
    """A component_verify_ticket the simulator issued; each stays valid 12 hours (§1.1)."""

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="tickets")
    ticket = models.CharField(max_length=128, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)


class SimAuthorizer(models.Model):
    """A mini-program that authorised the component, with its release and gray state."""

    class GrayStatus(models.IntegerChoices):  # gray_release_plan.status (§2.12)
        INITIAL = 0, "initial"
        RUNNING = 1, "running"
        PAUSED = 2, "paused"
        FINISHED = 3, "finished"
        DELETED = 4, "deleted"

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="authorizers")
    appid = models.CharField(max_length=64, unique=True)
    refresh_token = models.CharField(max_length=128)
    # The trial version uploaded by wxa/commit (optional: a submission works without one).
    trial_user_version = models.CharField(max_length=64, blank=True)
    trial_user_desc = models.TextField(blank=True)
    online_version = models.ForeignKey(
        "SimVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rolled_back = models.BooleanField(default=False)  # no second rollback until the next release
    gray_status = models.IntegerField(choices=GrayStatus.choices, default=GrayStatus.INITIAL)
    gray_percentage = models.PositiveIntegerField(default=0)
    gray_created_at = models.DateTimeField(null=True, blank=True)
    gray_support_experiencer_first = models.BooleanField(default=False)
    gray_support_debuger_first = models.BooleanField(default=False)
    # change_visitstatus (§2.14): "暂停服务设置", visible (open) by default.
    visible = models.BooleanField(default=True)
    # Who the mini program is (api_get_authorizer_info) and when it authorised (the authorizer list).
    nick_name = models.CharField(max_length=120, blank=True)
    principal_name = models.CharField(max_length=120, blank=True)
    auth_time = models.DateTimeField(default=timezone.now)
    # What the last wxa/commit uploaded (wechat-fleet.md §3.1): the template and the ext.json string.
    trial_template_id = models.BigIntegerField(null=True, blank=True)
    trial_ext_json = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.appid


class SimToken(models.Model):
    """An access token the simulator issued (component or authorizer), valid 7200 seconds."""

    class Kind(models.TextChoices):
        COMPONENT = "component"
        AUTHORIZER = "authorizer"

    token = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="tokens")
    authorizer = models.ForeignKey(
        SimAuthorizer, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)


class SimSubmission(models.Model):
    """One submit_audit, with WeChat's audit status codes (§3)."""

    class Status(models.IntegerChoices):
        APPROVED = 0, "approved"
        REJECTED = 1, "rejected"
        IN_REVIEW = 2, "in review"
        WITHDRAWN = 3, "withdrawn"
        DELAYED = 4, "delayed"

    auditid = models.BigIntegerField(unique=True)
    authorizer = models.ForeignKey(SimAuthorizer, on_delete=models.CASCADE, related_name="submissions")
    status = models.IntegerField(choices=Status.choices, default=Status.IN_REVIEW)
    reason = models.TextField(blank=True)
    screenshot = models.TextField(blank=True)  # "|"-separated media ids, as WeChat returns them
    version_desc = models.TextField(blank=True)
    item_list = models.JSONField(default=list, blank=True)
    feedback_info = models.TextField(blank=True)
    user_version = models.CharField(max_length=64, blank=True)
    user_desc = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    delayed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sped_up_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]

    @property
    def screenshot_previews(self) -> list[str]:
        """The attached media ids the console can preview (what a person typed may be anything)."""
        return [m for m in self.screenshot.split("|") if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", m)]

    @property
    def in_review(self) -> bool:
        return self.status in (self.Status.IN_REVIEW, self.Status.DELAYED)


class SimVersion(models.Model):
    """A version that went online (released); the rollback history is built from these.

    `online_at` is when it last went online (by release or by rollback), so "the previous version"
    is the most recent one other than the current, as on WeChat.
    """

    authorizer = models.ForeignKey(SimAuthorizer, on_delete=models.CASCADE, related_name="versions")
    app_version = models.PositiveIntegerField()
    submission = models.ForeignKey(SimSubmission, null=True, blank=True, on_delete=models.SET_NULL)
    user_version = models.CharField(max_length=64, blank=True)
    user_desc = models.TextField(blank=True)
    commit_time = models.DateTimeField()
    online_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-online_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["authorizer", "app_version"], name="sim_one_app_version_per_app")
        ]


class SimCall(models.Model):
    """One API call the simulator received, as WeChat would have received it (tokens and secrets removed)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    appid = models.CharField(max_length=64, blank=True)
    query = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    errcode = models.IntegerField(default=0)
    errmsg = models.CharField(max_length=200, blank=True)
    response = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]


class SimPush(models.Model):
    """One push the simulator made (or, by fault injection, did not make) to a callback URL."""

    class Kind(models.TextChoices):
        TICKET = "ticket"
        EVENT = "event"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        DROPPED = "dropped"  # lost on purpose (lost-push percentage)
        OFF = "off"  # pushes switched off

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="pushes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    appid = models.CharField(max_length=64, blank=True)
    event = models.CharField(max_length=64)
    auditid = models.BigIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500)
    plaintext = models.TextField()  # the XML before encryption; never rendered (a ticket is a credential)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    http_status = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]


class SimPreAuthCode(models.Model):
    """A pre_auth_code (wechat-fleet.md §1.1): opens the authorization page once, for 600 seconds."""

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="pre_auth_codes")
    code = models.CharField(max_length=128, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)


class SimAuthorizationCode(models.Model):
    """The AuthorizationCode an authorization hands out (push and redirect), for api_query_auth."""

    authorizer = models.ForeignKey(
        SimAuthorizer, on_delete=models.CASCADE, related_name="authorization_codes"
    )
    code = models.CharField(max_length=128, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)


class SimTemplateDraft(models.Model):
    """A draft in the component's template draft box (uploaded from DevTools on the real WeChat)."""

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="template_drafts")
    draft_id = models.BigIntegerField(unique=True)
    user_version = models.CharField(max_length=64)
    user_desc = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class SimTemplate(models.Model):
    """A template in the component's library (at most 200: 85065 beyond)."""

    component = models.ForeignKey(SimComponent, on_delete=models.CASCADE, related_name="templates")
    template_id = models.BigIntegerField(unique=True)
    draft_id = models.BigIntegerField()
    user_version = models.CharField(max_length=64)
    user_desc = models.TextField(blank=True)
    template_type = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
