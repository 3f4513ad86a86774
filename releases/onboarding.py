"""Onboarding writes (issue 15): platform accounts, apps, team members and their roles.

The pages and the API call these, so a rule (who may add an app, what a WeChat account needs,
that a team keeps an admin) is written once. Each validates first (bad input changes nothing),
then writes and records its audit event in one transaction. Secrets are write-only: an update
that leaves a secret empty keeps the stored one, and the audit trail names the secrets that
changed, never their values.
"""

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.models import App, Membership, Platform, PlatformAccount, Role, english, role_at_least
from releases.platforms import adapter_for
from releases.selectors import forget_memberships, role_for

SECRETS = ("component_appsecret", "message_token", "encoding_aes_key")
CREDENTIALS = ("component_appid", *SECRETS)
# Lengths of the credentials (the columns and the API document say the same).
LIMITS = {
    "name": 120,
    "component_appid": 64,
    "component_appsecret": 256,
    "message_token": 128,
    "encoding_aes_key": 64,
}
APPID = re.compile(r"^[A-Za-z0-9_\-]+$")
# "" or an http(s) URL, as the API document states it for apps (web/api/schemas/apps.py).
OPTIONAL_URL = re.compile(r"^(https?://[^\x00]*)?$")


def _require_admin(actor, team_id: int, doing: str) -> None:
    if not role_at_least(role_for(actor, team_id), Role.ADMIN):
        raise Forbidden("forbidden", gettext_noop("Only a team admin can %(doing)s.") % {"doing": doing})


def _text(fields: dict, name: str, *, required: bool, strip: bool = True) -> str:
    value = fields.get(name) or ""
    value = value.strip() if strip else value
    if required and not value:
        raise Invalid(
            "required",
            gettext_noop("%(field)s is required.") % {"field": name},
            details={name: gettext_noop("Required.")},
        )
    if len(value) > LIMITS.get(name, 10_000):
        raise Invalid(
            "too_long",
            gettext_noop("%(field)s is too long.") % {"field": name},
            details={name: gettext_noop("At most %(count)s characters.") % {"count": LIMITS[name]}},
        )
    return value


# The platforms whose accounts need all four credentials: who they are, where the credentials are
# found, and what the 43-character key is called there (message ids: English in the API, the
# reader's language on the pages).
API_PLATFORMS = {
    Platform.WECHAT: (
        gettext_noop(
            "A WeChat third-party platform needs its %(field)s (from the WeChat Open Platform console)."
        ),
        gettext_noop("WeChat's EncodingAESKey is 43 characters long."),
    ),
    Platform.DOUYIN: (
        gettext_noop(
            "A Douyin third-party mini-program app needs its %(field)s (from the Douyin console, 开发配置)."
        ),
        gettext_noop("Douyin's 消息加密解密 KEY is 43 characters long."),
    ),
}


def _credentials(platform: str, fields: dict, *, keep: PlatformAccount | None = None) -> dict:
    """The credentials to store: a WeChat component needs all four (43 characters for the
    EncodingAESKey); on an update an empty secret keeps the stored one."""
    values = {}
    for name in CREDENTIALS:
        # Kept as given (the forms strip what a paste brings along; the API document states them).
        value = _text(fields, name, required=False, strip=False)
        if keep is not None and name in SECRETS and not value:
            continue
        values[name] = value
    if platform in API_PLATFORMS:
        where = API_PLATFORMS[platform]
        for name in CREDENTIALS:
            if not ((values.get(name) or "").strip() or (keep is not None and getattr(keep, name))):
                raise Invalid(
                    "required",
                    where[0] % {"field": name},
                    details={name: gettext_noop("Required.")},
                )
        key = values.get("encoding_aes_key")
        if key is not None and len(key) != 43:
            raise Invalid(
                "invalid_aes_key",
                where[1],
                details={"encoding_aes_key": gettext_noop("43 characters, as the console shows it.")},
            )
    return values


def platform_account_create(*, team_id: int, actor, platform: str, ip=None, **fields) -> PlatformAccount:
    _require_admin(actor, team_id, gettext_noop("add platform accounts"))
    if platform not in Platform.values:
        raise Invalid(
            "invalid_platform",
            gettext_noop("Unknown platform “%(platform)s”.") % {"platform": platform},
            details={"platform": gettext_noop("Unknown.")},
        )
    name = _text(fields, "name", required=True)
    values = _credentials(platform, fields)
    try:
        with transaction.atomic():
            account = PlatformAccount.objects.create(team_id=team_id, platform=platform, name=name, **values)
            audit_record(
                action="platform_account_create",
                actor=actor,
                target=account,
                team_id=team_id,
                data={"name": name, "platform": platform},
                ip=ip,
            )
    except IntegrityError:
        raise Refused(
            "name_taken",
            gettext_noop("The team already has an account named “%(name)s”.") % {"name": name},
            details={"name": gettext_noop("Already used.")},
        ) from None
    return account


def platform_account_update(*, account: PlatformAccount, actor, changes: dict, ip=None) -> PlatformAccount:
    """Rename, or replace credentials; an empty secret keeps the stored one."""
    _require_admin(actor, account.team_id, gettext_noop("change platform accounts"))
    values = _credentials(account.platform, changes, keep=account)
    if "name" in changes:
        values["name"] = _text(changes, "name", required=True)
    changed = {k: v for k, v in values.items() if getattr(account, k) != v}
    if not changed:
        return account
    try:
        with transaction.atomic():
            for field, value in changed.items():
                setattr(account, field, value)
            account.save(update_fields=list(changed))
            audit_record(
                action="platform_account_update",
                actor=actor,
                target=account,
                team_id=account.team_id,
                data={
                    "changed": sorted(changed),
                    **{k: v for k, v in changed.items() if k not in SECRETS},  # secrets by name only
                },
                ip=ip,
            )
    except IntegrityError:
        raise Refused(
            "name_taken",
            gettext_noop("The team already has an account named “%(name)s”.") % {"name": values["name"]},
            details={"name": gettext_noop("Already used.")},
        ) from None
    return account


def app_create(
    *,
    account: PlatformAccount,
    actor,
    name: str,
    appid: str,
    authorizer_refresh_token: str = "",
    privacy_policy_url: str = "",
    repository_url: str = "",
    categories=(),
    settings: dict | None = None,
    ip=None,
) -> App:
    """An app of the account's team (release managers and above); its platform learns of it in
    the same transaction (the adapter queues what it needs, e.g. WeChat's original id)."""
    if not role_at_least(role_for(actor, account.team_id), Role.RELEASE_MANAGER):
        raise Forbidden("forbidden", gettext_noop("Only a release manager or admin can add apps."))
    fields = {"name": name}
    name = _text(fields, "name", required=True)
    appid = (appid or "").strip()
    if not APPID.match(appid) or len(appid) > 64:
        raise Invalid(
            "invalid_appid",
            gettext_noop("“%(appid)s” is not an appid.") % {"appid": appid},
            details={"appid": gettext_noop("Letters, digits, _ and -.")},
        )
    for field, url in (("privacy_policy_url", privacy_policy_url), ("repository_url", repository_url)):
        if not OPTIONAL_URL.match(url or ""):
            raise Invalid(
                "invalid_url",
                gettext_noop("“%(url)s” is not an http(s) URL.") % {"url": url},
                details={field: gettext_noop("An http(s) URL.")},
            )
    categories = list(categories or [])
    if not all(isinstance(c, str) and c.strip() for c in categories):
        raise Invalid(
            "invalid_field",
            gettext_noop("Categories must be names."),
            details={"categories": gettext_noop("A list of names.")},
        )
    try:
        with transaction.atomic():
            app = App.objects.create(
                team_id=account.team_id,
                platform_account=account,
                name=name,
                appid=appid,
                authorizer_refresh_token=authorizer_refresh_token or "",
                privacy_policy_url=privacy_policy_url or "",
                repository_url=repository_url or "",
                categories=[c.strip() for c in categories],
                settings=settings or {},
            )
            audit_record(
                action="app_create", actor=actor, app=app, data={"name": name, "appid": appid}, ip=ip
            )
            adapter_for(account).on_app_added(app)
    except IntegrityError:
        raise Refused(
            "appid_taken",
            gettext_noop("%(appid)s is already registered on this platform account.") % {"appid": appid},
            details={"appid": gettext_noop("Already registered.")},
        ) from None
    return app


# -- members ------------------------------------------------------------------------------------


def _role(value: str) -> str:
    if value not in Role.values:
        raise Invalid(
            "invalid_role",
            gettext_noop("Unknown role “%(role)s”.") % {"role": value},
            details={"role": ", ".join(Role.values)},
        )
    return value


def _keep_an_admin(team_id: int, membership: Membership, new_role: str | None) -> None:
    """A team without an admin could never add a member or an account again."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    if not Membership.objects.filter(team_id=team_id, role=Role.ADMIN).exclude(pk=membership.pk).exists():
        raise Refused(
            "last_admin", gettext_noop("The team's last admin stays an admin: make someone else admin first.")
        )


def member_add(*, team_id: int, actor, username: str, role: str, ip=None) -> Membership:
    """Add an existing Sluice user to the team (team admins only)."""
    _require_admin(actor, team_id, gettext_noop("add members"))
    role = _role(role)
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise NotFound(
            "no_such_user",
            gettext_noop("No active user named “%(username)s”.") % {"username": username},
            details={"username": gettext_noop("Unknown.")},
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team_id=team_id, user=user, role=role)
            audit_record(
                action="member_add",
                actor=actor,
                target=membership,
                team_id=team_id,
                data={"user": user.get_username(), "role": role},
                ip=ip,
            )
    except IntegrityError:
        raise Refused(
            "already_member", gettext_noop("%(user)s is already in the team.") % {"user": user.get_username()}
        ) from None
    forget_memberships(user)
    return membership


def _membership(team_id: int, user_id: int) -> Membership:
    membership = Membership.objects.select_for_update().filter(team_id=team_id, user_id=user_id).first()
    if membership is None:
        raise NotFound("not_found", gettext_noop("No such member of this team."))
    return membership


def member_set_role(*, team_id: int, actor, user_id: int, role: str, ip=None) -> Membership:
    _require_admin(actor, team_id, gettext_noop("change roles"))
    role = _role(role)
    with transaction.atomic():
        membership = _membership(team_id, user_id)
        if membership.role == role:
            return membership
        _keep_an_admin(team_id, membership, role)
        before, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        audit_record(
            action="member_role_update",
            actor=actor,
            target=membership,
            team_id=team_id,
            data={"user": membership.user.get_username(), "before": before, "after": role},
            ip=ip,
        )
    forget_memberships(membership.user)
    forget_memberships(actor)
    return membership


def member_remove(*, team_id: int, actor, user_id: int, ip=None) -> None:
    _require_admin(actor, team_id, gettext_noop("remove members"))
    with transaction.atomic():
        membership = _membership(team_id, user_id)
        _keep_an_admin(team_id, membership, None)
        user = membership.user
        audit_record(
            action="member_remove",
            actor=actor,
            target=membership,
            team_id=team_id,
            data={"user": user.get_username(), "role": english(Role(membership.role).label)},
            ip=ip,
        )
        membership.delete()
    forget_memberships(user)
    forget_memberships(actor)
