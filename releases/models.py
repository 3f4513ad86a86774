"""The release domain: teams, platform accounts and apps; the release, its gate records and the
audit trail live in modules of their own (release_model, gate_records, audit_records, review_records)
and are imported here, where Django and the rest of the code look for them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.crypto import EncryptedTextField
from releases.service_model import ServiceMixin


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
    ("tested_ios", gettext_noop("Core flows tested on iOS")),
    ("tested_android", gettext_noop("Core flows tested on Android")),
    ("tested_wechat_latest", gettext_noop("Core flows tested on the latest WeChat version")),
    ("payment", gettext_noop("Payment tested end to end")),
    ("login", gettext_noop("Login tested (new and returning user)")),
)


def default_checklist() -> list[dict]:
    return [{"key": key, "label": label} for key, label in DEFAULT_CHECKLIST]


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    # When the team's apps may publish (releases.windows): weekly windows, holidays, freezes.
    publish_policy = models.JSONField(default=dict, blank=True)
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
    DOUYIN = "douyin", _("Douyin third-party mini-program app")
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


class AppTag(models.Model):
    """A label for targeting apps (issue 14): industry, customer tier, region. Per team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="app_tags")
    name = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="app_tag_name_per_team")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class App(ServiceMixin, models.Model):
    """A mini-program. Its team decides who may see and act on it. Its service on the platform
    (the emergency stop) is a state machine of its own (releases.service_model)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="apps")
    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.PROTECT, related_name="apps")
    name = models.CharField(max_length=120)
    appid = models.CharField(max_length=64)
    authorizer_refresh_token = EncryptedTextField(blank=True)
    privacy_policy_url = models.URLField(blank=True)
    # The code's home (e.g. https://github.com/acme/cafe): a release's commit links to {it}/commit/{sha}.
    repository_url = models.URLField(max_length=300, blank=True)
    # The code identity (releases/fingerprint.py code_identity) Sluice last uploaded as the
    # platform's test version: a submit uploads the release's template code only when it differs.
    test_code = models.CharField(max_length=64, blank=True)
    tags = models.ManyToManyField(AppTag, blank=True, related_name="apps")
    # Set when the platform says the app's authorization is gone (an `unauthorized` push, a refresh
    # token refused with 61023): the app is flagged and left out of campaigns until re-authorized.
    authorization_lost_at = models.DateTimeField(null=True, blank=True)
    authorization_problem = models.CharField(max_length=200, blank=True)
    # What the platform says about the authorizer (WeChat's api_get_authorizer_info): original
    # ID, principal, categories, granted permission sets. Refreshed on each authorization.
    platform_profile = models.JSONField(default=dict, blank=True)
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


# Models defined in their own module register here, where Django looks for the app's models, and
# are imported from here by the rest of the code.
from releases.audit_records import AuditChainHead, AuditEvent, AuditVerification  # noqa: E402, F401
from releases.build_records import Build  # noqa: E402, F401
from releases.campaigns.models import Campaign, CampaignApp, CampaignQrCode, CampaignState, Held  # noqa: E402, F401
from releases.gate_records import (  # noqa: E402, F401
    Approval,
    ChecklistTick,
    CheckResult,
    CheckRun,
    CheckSuppression,
    Qualification,
)
from releases.group_model import ReleaseGroup, ReleaseGroupMember  # noqa: E402, F401
from releases.release_model import (  # noqa: E402, F401
    CANCELLABLE,
    EDITABLE,
    EVER_PUBLISHED,
    FAILED_TO_IN_FLIGHT,
    IN_FLIGHT,
    IN_FLIGHT_TO_FAILED,
    IN_REVIEW,
    Release,
    S,
    State,
    can_approve,
    can_develop,
    can_manage,
    gate_condition,
    guard_text,
    may_attempt,
)
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
from releases.rollout_records import HealthSample  # noqa: E402, F401
