"""Platform accounts (the WeChat component or the manual platform a team publishes through)
and team members' approval capacities."""

from django.conf import settings
from django.http import Http404
from ninja import Query, Router, Status

from releases import app_services, onboarding, selectors
from releases.errors import Forbidden, Invalid, NotFound
from releases.models import Membership, Platform, PlatformAccount, Role
from web.api.core import client_ip
from web.api.paging import PageQuery, page
from web.api.schemas.apps import CapacitiesIn, MemberOut, PlatformAccountIn, PlatformAccountOut
from web.api.schemas.common import ERRORS, page_of

router = Router()
PlatformAccountPage = page_of(PlatformAccountOut, "PlatformAccountPage")


def callback_urls(request, account: PlatformAccount) -> dict | None:
    """Where the platform pushes: WeChat's message URL names the app ($APPID$, WeChat fills it in);
    Douyin's carries the app inside the signed message, so one URL serves every app."""
    if account.platform not in (Platform.WECHAT, Platform.DOUYIN):
        return None
    base = (settings.SLUICE_PUBLIC_URL or request.build_absolute_uri("/")).rstrip("/")
    prefix = f"{base}/callbacks/{account.platform}/{account.callback_key}"
    messages = f"{prefix}/$APPID$/events" if account.platform == Platform.WECHAT else f"{prefix}/events"
    return {"authorization": f"{prefix}/auth", "messages": messages}


def _account_out(request, account: PlatformAccount, admin_teams) -> dict:
    """`callback_urls` carry the account's callback key: only its team's admins see them."""
    return {
        "id": account.pk,
        "team": account.team_id,
        "platform": account.platform,
        "name": account.name,
        "component_appid": account.component_appid,
        "secrets_set": {
            "component_appsecret": bool(account.component_appsecret),
            "message_token": bool(account.message_token),
            "encoding_aes_key": bool(account.encoding_aes_key),
        },
        "callback_urls": callback_urls(request, account) if account.team_id in admin_teams else None,
        "created_at": account.created_at,
    }


@router.get("/platform-accounts", response={200: PlatformAccountPage, **ERRORS}, tags=["platform accounts"])
def list_platform_accounts(request, paging: Query[PageQuery]):
    accounts = selectors.platform_accounts_for(request.user).order_by("name", "pk")
    admin_teams = selectors.team_ids_for(request.user, Role.ADMIN)
    return page(request, accounts, paging, lambda a: _account_out(request, a, admin_teams))


def _admin_team(user, team_id: int | None) -> int:
    admin_teams = selectors.team_ids_for(user, Role.ADMIN)
    if team_id is None:
        if len(admin_teams) != 1:
            raise Invalid(
                "team_required", "Say which team owns this account (`team`).", details={"team": "Required."}
            )
        return admin_teams[0]
    if team_id not in selectors.team_ids_for(user):
        raise NotFound("not_found", "No such team, or you are not in it.")
    if team_id not in admin_teams:
        raise Forbidden("forbidden", "Only a team admin can add platform accounts.")
    return team_id


@router.post("/platform-accounts", response={201: PlatformAccountOut, **ERRORS}, tags=["platform accounts"])
def create_platform_account(request, payload: PlatformAccountIn):
    """A WeChat account needs its four credentials (the schema says which); a manual one none."""
    team_id = _admin_team(request.user, payload.team)
    account = onboarding.platform_account_create(
        team_id=team_id, actor=request.user, ip=client_ip(request), **payload.model_dump(exclude={"team"})
    )
    return Status(201, _account_out(request, account, [team_id]))


@router.put("/teams/{team_id}/members/{username}", response={200: MemberOut, **ERRORS}, tags=["apps"])
def put_member_capacities(request, team_id: int, username: str, payload: CapacitiesIn):
    """Give a member approval capacities besides their role (qa, product). Team admins only."""
    if team_id not in selectors.team_ids_for(request.user):
        raise Http404
    membership = (
        Membership.objects.filter(team_id=team_id, user__username=username).select_related("user").first()
    )
    if membership is None:
        raise Http404
    membership = app_services.member_set_capacities(
        team_id=team_id,
        actor=request.user,
        user=membership.user,
        capacities=payload.capacities,
        ip=client_ip(request),
    )
    return {"username": username, "role": membership.role, "capacities": membership.capacities}
