"""Fleets (issue 14): authorization links and the authorizer import of a WeChat platform account,
its template library, and tags on many apps at once.

Platform calls run in the request (the contract answers with their result) and outside any
transaction; a platform failure is a 502 naming WeChat's error, and nothing changed.
"""

from django.http import Http404
from django.urls import reverse
from ninja import Query, Router, Status

from releases import fleet, selectors
from releases.errors import Forbidden, Invalid, SluiceError
from releases.models import App, Platform, PlatformAccount, Role
from releases.platforms import PlatformError
from reviews import templates as library
from reviews.authorizations import authorization_link_create, authorizers_import
from reviews.models import CodeTemplate, TemplateDraft
from web.api.core import client_ip
from web.api.paging import PageQuery, page
from web.api.schemas.common import ERRORS, ErrorOut, page_of
from web.api.schemas.fleet import (
    AppTagsIn,
    AppTagsOut,
    AuthorizationLinkIn,
    AuthorizationLinkOut,
    DraftOut,
    ImportOut,
    SyncOut,
    TargetApps,
    TargetTags,
    TemplateIn,
    TemplateOut,
)

router = Router(tags=["fleets"])
PLATFORM_ERRORS = {**ERRORS, 502: ErrorOut}
TemplatePage = page_of(TemplateOut, "TemplatePage")
DraftPage = page_of(DraftOut, "DraftPage")


class PlatformFailed(SluiceError):
    status = 502


def platform_call(call):
    """Run a platform call; its failure becomes a 502 with the platform's own code and sentence."""
    try:
        return call()
    except PlatformError as exc:
        raise PlatformFailed(exc.code, exc.message) from None


def wechat_account(user, account_id: int, minimum: str, *, wechat_only: bool = True) -> PlatformAccount:
    """A (WeChat) account of the user's teams (404 otherwise); 403 below `minimum`. Lists read any
    account: another platform's library is simply empty."""
    accounts = selectors.platform_accounts_for(user).filter(pk=account_id)
    account = (accounts.filter(platform=Platform.WECHAT) if wechat_only else accounts).first()
    if account is None:
        raise Http404
    if account.team_id not in selectors.team_ids_for(user, minimum):
        raise Forbidden("forbidden", "Your role in this team does not allow this.")
    return account


def default_redirect(request, account: PlatformAccount) -> str:
    return request.build_absolute_uri(reverse("web:account-authorized", args=[account.pk]))


@router.post(
    "/platform-accounts/{account_id}/authorization-links",
    response={201: AuthorizationLinkOut, **PLATFORM_ERRORS},
)
def create_authorization_link(request, account_id: int, payload: AuthorizationLinkIn | None = None):
    """A PC link and a mobile link for a mini program's administrator to authorize the account
    (team admins). Each link works once, until `expires_at`."""
    account = wechat_account(request.user, account_id, Role.ADMIN)
    redirect_uri = (payload.redirect_uri if payload else None) or default_redirect(request, account)
    link = platform_call(
        lambda: authorization_link_create(
            account=account, redirect_uri=redirect_uri, actor=request.user, ip=client_ip(request)
        )
    )
    return Status(201, link.__dict__)


@router.post(
    "/platform-accounts/{account_id}/import-authorizers", response={200: ImportOut, **PLATFORM_ERRORS}
)
def import_authorizers(request, account_id: int):
    """Every mini program that authorized the account becomes (or updates) an app of its team.
    Idempotent: a second import updates what the first created (team admins)."""
    account = wechat_account(request.user, account_id, Role.ADMIN)
    return platform_call(
        lambda: authorizers_import(account=account, actor=request.user, ip=client_ip(request))
    )


def _template_out(t: CodeTemplate) -> dict:
    return {f: getattr(t, f) for f in TemplateOut.model_fields}


def _draft_out(d: TemplateDraft) -> dict:
    return {f: getattr(d, f) for f in DraftOut.model_fields}


@router.get("/platform-accounts/{account_id}/templates", response={200: TemplatePage, **ERRORS})
def list_templates(request, account_id: int, paging: Query[PageQuery]):
    """The template library as last synced (POST .../templates/sync), newest first."""
    account = wechat_account(request.user, account_id, Role.VIEWER, wechat_only=False)
    return page(
        request,
        CodeTemplate.objects.filter(account=account).order_by("-template_id", "pk"),
        paging,
        _template_out,
    )


@router.get("/platform-accounts/{account_id}/template-drafts", response={200: DraftPage, **ERRORS})
def list_template_drafts(request, account_id: int, paging: Query[PageQuery]):
    """The draft box as last synced, newest first."""
    account = wechat_account(request.user, account_id, Role.VIEWER, wechat_only=False)
    return page(
        request, TemplateDraft.objects.filter(account=account).order_by("-draft_id", "pk"), paging, _draft_out
    )


@router.post("/platform-accounts/{account_id}/templates/sync", response={200: SyncOut, **PLATFORM_ERRORS})
def sync_templates(request, account_id: int):
    """Fetch the draft box and the library from WeChat (release managers and above)."""
    account = wechat_account(request.user, account_id, Role.RELEASE_MANAGER)
    return platform_call(
        lambda: library.templates_sync(account=account, actor=request.user, ip=client_ip(request))
    )


@router.post("/platform-accounts/{account_id}/templates", response={201: TemplateOut, **PLATFORM_ERRORS})
def add_template(request, account_id: int, payload: TemplateIn):
    """Turn a draft into a template. 409 `template_library_full` when the library holds 200."""
    account = wechat_account(request.user, account_id, Role.RELEASE_MANAGER)
    template = platform_call(
        lambda: library.template_add(
            account=account, draft_id=payload.draft_id, actor=request.user, ip=client_ip(request)
        )
    )
    if template is None:
        raise PlatformFailed(
            "template_not_listed", "WeChat accepted the draft but does not list it yet; sync later."
        )
    return Status(201, _template_out(template))


@router.delete(
    "/platform-accounts/{account_id}/templates/{template_id}", response={204: None, **PLATFORM_ERRORS}
)
def delete_template(request, account_id: int, template_id: int):
    account = wechat_account(request.user, account_id, Role.RELEASE_MANAGER)
    platform_call(
        lambda: library.template_delete(
            account=account, template_id=template_id, actor=request.user, ip=client_ip(request)
        )
    )
    return Status(204, None)


def _team(user, team_id: int | None) -> int:
    teams = selectors.team_ids_for(user)
    if team_id is None:
        if len(teams) != 1:
            raise Invalid(
                "team_required", "Say which team's apps to tag (`team`).", details={"team": "Required."}
            )
        return teams[0]
    if team_id not in teams:
        raise Http404
    return team_id


@router.post("/apps/tags", response={200: AppTagsOut, **ERRORS})
def tag_apps(request, payload: AppTagsIn):
    """Add and remove tags on many apps of one team: `targets` is `{"apps": [ids]}`,
    `{"tags": [...]}` (apps carrying any of them) or `{"all": true}`. Release managers and above."""
    team_id = _team(request.user, payload.team)
    apps = App.objects.filter(team_id=team_id)
    targets = payload.targets
    if isinstance(targets, TargetApps):
        apps = apps.filter(pk__in=targets.apps)
    elif isinstance(targets, TargetTags):
        apps = apps.filter(tags__name__in=[t.strip() for t in targets.tags])
    apps = App.objects.filter(pk__in=apps.values("pk"))
    changed = fleet.apps_tag(
        team_id=team_id,
        apps=apps,
        actor=request.user,
        add=payload.add,
        remove=payload.remove,
        ip=client_ip(request),
    )
    return {"matched": apps.count(), "changed": changed}
