"""Fleets (issue 14): apps that arrive by authorizing the platform account, lose that authorization,
and carry tags for targeting. Nothing platform-specific: reviews/ asks the platform who authorized
and hands the answer here; every change to an app is audited in its own transaction.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid
from releases.models import App, AppTag, PlatformAccount, Role, role_at_least
from releases.selectors import role_for

TAG_MAX = 64
TAGS_PER_CALL = 20
NAME_MAX = 120
TAG = re.compile(r"^[^\x00-\x1f,]{1,64}$")


def app_authorization_record(
    *,
    account: PlatformAccount,
    appid: str,
    name: str,
    refresh_token: str,
    profile: dict,
    source: str,
    ip=None,
) -> tuple[App, bool]:
    """Create or update the app `appid` of `account` as the platform reports it authorized.

    Idempotent on the appid: a second report updates the refresh token and the profile and clears a
    lost authorization. A new app is named after the platform's nickname; an existing app keeps the
    name people gave it. Returns (app, created).
    """
    with transaction.atomic():
        app = App.objects.select_for_update().filter(platform_account=account, appid=appid).first()
        created = app is None
        if created:
            try:
                with transaction.atomic():
                    app = App.objects.create(
                        team_id=account.team_id,
                        platform_account=account,
                        appid=appid,
                        name=(name or appid)[:NAME_MAX],
                        authorizer_refresh_token=refresh_token,
                        platform_profile=profile,
                    )
            except IntegrityError:  # a concurrent twin created it: update that one instead
                created = False
                app = App.objects.select_for_update().get(platform_account=account, appid=appid)
        changed = created or _update(app, refresh_token, profile)
        if changed:
            audit_record(
                action="app_authorized",
                app=app,
                data={
                    "appid": appid,
                    "created": created,
                    "source": source,
                    "refresh_token_stored": bool(refresh_token),
                    "permission_sets": profile.get("permission_sets", []),
                },
                ip=ip,
            )
    return app, created


def _update(app: App, refresh_token: str, profile: dict) -> bool:
    fields = []
    if refresh_token and refresh_token != app.authorizer_refresh_token:
        app.authorizer_refresh_token = refresh_token
        fields.append("authorizer_refresh_token")
    if profile and profile != app.platform_profile:
        app.platform_profile = profile
        fields.append("platform_profile")
    if app.authorization_lost_at is not None:
        app.authorization_lost_at, app.authorization_problem = None, ""
        fields += ["authorization_lost_at", "authorization_problem"]
    if fields:
        app.save(update_fields=fields)
    return bool(fields)


def app_authorization_lost(*, app: App, problem: str, source: str, ip=None) -> bool:
    """Flag the app: its authorization is gone (unauthorized push, refresh token refused). Campaigns
    leave it out until it authorizes again. False when it was flagged already (nothing recorded)."""
    with transaction.atomic():
        locked = App.objects.select_for_update().filter(pk=app.pk).first()
        if locked is None or locked.authorization_lost_at is not None:
            return False
        locked.authorization_lost_at, locked.authorization_problem = timezone.now(), problem[:200]
        locked.save(update_fields=["authorization_lost_at", "authorization_problem"])
        audit_record(
            action="app_authorization_lost", app=locked, data={"problem": problem, "source": source}, ip=ip
        )
    app.authorization_lost_at, app.authorization_problem = locked.authorization_lost_at, problem[:200]
    return True


def authorized_apps(apps: QuerySet[App]) -> QuerySet[App]:
    """The apps a campaign may target: those whose authorization is not known to be lost."""
    return apps.filter(authorization_lost_at__isnull=True)


# -- tags ------------------------------------------------------------------------------------------


def clean_tags(tags) -> list[str]:
    """Tag names as stored: stripped, deduplicated, order kept. Refuses what cannot be a tag."""
    if not isinstance(tags, list | tuple) or len(tags) > TAGS_PER_CALL:
        raise Invalid(
            "invalid_tags",
            gettext_noop("Tags must be a list of at most 20 names."),
            details={"tags": "A list of names."},
        )
    names: list[str] = []
    for tag in tags:
        name = tag.strip() if isinstance(tag, str) else ""
        if not TAG.match(name):
            raise Invalid(
                "invalid_tags",
                gettext_noop("A tag is 1 to 64 characters, without commas."),
                details={"tags": "1 to 64 characters, no commas."},
            )
        if name not in names:
            names.append(name)
    return names


def _tag_rows(team_id: int, names: list[str]) -> list[AppTag]:
    for name in names:
        AppTag.objects.get_or_create(team_id=team_id, name=name)
    return list(AppTag.objects.filter(team_id=team_id, name__in=names))


def _require_manager(actor, team_id: int) -> None:
    if not role_at_least(role_for(actor, team_id), Role.RELEASE_MANAGER):
        raise Forbidden("forbidden", gettext_noop("Only a release manager or admin can tag apps."))


def app_set_tags(*, app: App, actor, tags, ip=None) -> App:
    """Replace the app's tags (release managers and above)."""
    _require_manager(actor, app.team_id)
    names = clean_tags(tags)
    before = sorted(app.tags.values_list("name", flat=True))
    if before == sorted(names):
        return app
    with transaction.atomic():
        app.tags.set(_tag_rows(app.team_id, names))
        audit_record(
            action="app_tags_update", actor=actor, app=app, data={"before": before, "after": names}, ip=ip
        )
    return app


def apps_tag(*, team_id: int, apps: QuerySet[App], actor, add=(), remove=(), ip=None) -> int:
    """Add and remove tags on many apps of one team at once; returns how many apps changed.

    One audit event per app changed, in one transaction: all change or none.
    """
    _require_manager(actor, team_id)
    add, remove = clean_tags(list(add)), clean_tags(list(remove))
    if not add and not remove:
        return 0
    apps = list(apps.filter(team_id=team_id).prefetch_related("tags"))
    changed = 0
    with transaction.atomic():
        added = _tag_rows(team_id, add)
        removed = list(AppTag.objects.filter(team_id=team_id, name__in=remove))
        for app in apps:
            before = {t.name for t in app.tags.all()}
            after = (before | set(add)) - set(remove)
            if after == before:
                continue
            app.tags.add(*[t for t in added if t.name not in remove])
            app.tags.remove(*removed)
            audit_record(
                action="app_tags_update",
                actor=actor,
                app=app,
                data={"before": sorted(before), "after": sorted(after), "bulk": True},
                ip=ip,
            )
            changed += 1
    return changed
