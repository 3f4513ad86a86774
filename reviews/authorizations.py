"""Onboarding by authorization (issue 14, wechat-fleet.md §1): an authorization link to hand to a
mini program's administrator, the exchange of the AuthorizationCode WeChat pushes once they confirm,
and the import of every authorizer the platform account already has.

Platform calls happen here, outside any transaction; what they answer is recorded by
releases.fleet, which creates or updates the app (team of the account) and audits it. The
exchange and the import are idempotent on the appid: a repeated push or a second import
updates what is there.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.fleet import app_authorization_lost, app_authorization_record
from releases.models import App, PlatformAccount
from releases.platforms import PlatformError, adapter_for
from reviews.models import AuthorizerIdentity
from reviews.platforms.wechat.fleet import authorization_urls
from reviews.platforms.wechat.schemas import AuthorizerInfo

logger = logging.getLogger(__name__)

PERMISSION_CODE_MANAGEMENT = 18  # 开发管理: commit, submit_audit, release (§1.5)


@dataclass(frozen=True)
class AuthorizationLink:
    pc_url: str
    mobile_url: str
    pre_auth_code: str
    expires_at: datetime


def authorization_link_create(
    *, account: PlatformAccount, redirect_uri: str, actor=None, ip=None
) -> AuthorizationLink:
    """A fresh pre-auth code (usable once, for `expires_in` seconds) and the two links built on it."""
    answer = adapter_for(account).create_preauthcode()
    expires_at = timezone.now() + timedelta(seconds=answer.expires_in)
    urls = authorization_urls(account.component_appid, answer.pre_auth_code, redirect_uri)
    with transaction.atomic():
        audit_record(
            action="authorization_link_create",
            actor=actor,
            target=account,
            team_id=account.team_id,
            data={"expires_at": expires_at.isoformat()},
            ip=ip,
        )
    return AuthorizationLink(pre_auth_code=answer.pre_auth_code, expires_at=expires_at, **urls)


def profile_of(info: AuthorizerInfo, permission_sets: list[int]) -> dict:
    """What Sluice keeps of api_get_authorizer_info (App.platform_profile)."""
    who = info.authorizer_info
    categories = who.mini_program_info.categories if who.mini_program_info else []
    return {
        "original_id": who.user_name,
        "nick_name": who.nick_name,
        "principal_name": who.principal_name,
        "account_status": who.account_status,
        "categories": [f"{c.first}/{c.second}".strip("/") for c in categories],
        "permission_sets": permission_sets,
        "code_management": PERMISSION_CODE_MANAGEMENT in permission_sets,
    }


def _record(account: PlatformAccount, appid: str, refresh_token: str, permission_sets, source: str, ip=None):
    """Ask who the authorizer is, then create or update its app. Returns (app, created)."""
    info = adapter_for(account).authorizer_info(appid)
    if info.authorization_info is not None:
        refresh_token = refresh_token or info.authorization_info.authorizer_refresh_token
        permission_sets = permission_sets or info.authorization_info.permission_sets
    profile = profile_of(info, list(permission_sets or []))
    app, created = app_authorization_record(
        account=account,
        appid=appid,
        name=info.authorizer_info.nick_name,
        refresh_token=refresh_token,
        profile=profile,
        source=source,
        ip=ip,
    )
    AuthorizerIdentity.objects.update_or_create(
        app=app, defaults={"original_id": profile["original_id"], "learned_at": timezone.now()}
    )
    return app, created


def authorization_exchange(*, account: PlatformAccount, authorization_code: str, source: str, ip=None) -> App:
    """api_query_auth: the AuthorizationCode of an `authorized` / `updateauthorized` push (or of
    the redirect) becomes the app's refresh token. Raises PlatformError."""
    granted = adapter_for(account).query_auth(authorization_code).authorization_info
    app, _ = _record(
        account,
        granted.authorizer_appid,
        granted.authorizer_refresh_token,
        granted.permission_sets,
        source,
        ip=ip,
    )
    return app


def authorization_revoked(*, account: PlatformAccount, appid: str, source: str, ip=None) -> App | None:
    """An `unauthorized` push: the app is flagged and left out of campaigns. Runs in the push's
    transaction (no platform call)."""
    app = App.objects.filter(platform_account=account, appid=appid).first()
    if app is not None:
        app_authorization_lost(
            app=app, problem=gettext_noop("The mini program revoked the authorization."), source=source, ip=ip
        )
    return app


def authorizers_import(
    *, account: PlatformAccount, page_size: int | None = None, actor=None, ip=None
) -> dict:
    """Every authorizer of the account (api_get_authorizer_list, paged), created or updated.

    Returns {"imported": new apps, "updated": apps already known, "total": WeChat's total_count}.
    A token missing from the list (it happens, §1.7) keeps the stored one. An authorizer WeChat
    refuses to describe (permanently) is skipped and logged; a transient failure stops the import.
    """
    adapter = adapter_for(account)
    count = page_size or settings.WECHAT_AUTHORIZER_PAGE_SIZE
    offset, total, imported, updated = 0, None, 0, 0
    while total is None or offset < total:
        page = adapter.get_authorizer_list(offset, count)
        total = page.total_count
        for item in page.authorizers:
            try:
                _, created = _record(account, item.authorizer_appid, item.refresh_token, [], "import")
            except PlatformError as exc:
                if not exc.permanent:
                    raise  # the job is retried; what was imported is updated, not duplicated
                logger.warning(
                    "Skipped authorizer %s of account %s: %s", item.authorizer_appid, account.pk, exc.message
                )
                continue
            imported, updated = imported + created, updated + (not created)
        if not page.authorizers:
            break
        offset += len(page.authorizers)
    counts = {"imported": imported, "updated": updated, "total": total or 0}
    with transaction.atomic():  # the audit trail says what an import (often a queued job) found
        audit_record(
            action="authorizers_import",
            actor=actor,
            target=account,
            team_id=account.team_id,
            data=counts,
            ip=ip,
        )
    return counts
