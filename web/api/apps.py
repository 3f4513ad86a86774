"""Apps: registration, their settings, qualifications (licence and permits) and approval policy."""

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from ninja import Query, Router, Status

from releases import app_services, approvals, fleet, onboarding, selectors
from releases.errors import NotFound
from releases.models import App, Membership, Qualification
from web.api.core import client_ip, get_or_404
from web.api.paging import PageQuery, page
from web.api.schemas.apps import (
    AppIn,
    AppOut,
    AppPatch,
    ApprovalPolicyIn,
    ApprovalPolicyOut,
    QualificationIn,
    QualificationOut,
)
from web.api.schemas.common import ERRORS, page_of

router = Router()
AppPage = page_of(AppOut, "AppPage")
QualificationPage = page_of(QualificationOut, "QualificationPage")


def apps_of(user):
    """The user's apps as the API shows them. Whether a refresh token is stored is asked of the
    column itself: the encrypted token is never loaded, so never decrypted (a list of 2,000 apps
    decrypted 2,000 tokens, and one undecryptable secret failed the whole list)."""
    return (
        selectors.apps_for(user)
        .select_related("platform_account")
        .defer("authorizer_refresh_token", "platform_account__component_appsecret")
        .defer("platform_account__message_token", "platform_account__encoding_aes_key")
        .annotate(
            refresh_token_set=ExpressionWrapper(~Q(authorizer_refresh_token=""), output_field=BooleanField())
        )
        .prefetch_related("tags")
    )


def _app_out(app: App) -> dict:
    return {
        "id": app.pk,
        "team": app.team_id,
        "name": app.name,
        "appid": app.appid,
        "platform_account": app.platform_account_id,
        "platform": app.platform_account.platform,
        "authorizer_refresh_token_set": app.refresh_token_set,
        "privacy_policy_url": app.privacy_policy_url,
        "repository_url": app.repository_url,
        "categories": app.categories,
        "settings": app.settings,
        "checklist": app.checklist or [],
        "required_approvals": approvals.required_capacities(app),
        "tags": sorted(t.name for t in app.tags.all()),
        "authorization_lost_at": app.authorization_lost_at,
        "authorization_problem": app.authorization_problem,
        "created_at": app.created_at,
    }


@router.get("/apps", response={200: AppPage, **ERRORS}, tags=["apps"])
def list_apps(request, paging: Query[PageQuery], tag: str | None = None):
    """`?tag=` keeps the apps carrying that tag (tags are per team)."""
    apps = apps_of(request.user)
    if tag is not None:
        apps = apps.filter(tags__name=tag.strip())
    return page(request, apps.order_by("name", "pk"), paging, _app_out)


@router.post("/apps", response={201: AppOut, **ERRORS}, tags=["apps"])
def create_app(request, payload: AppIn):
    account = selectors.platform_accounts_for(request.user).filter(pk=payload.platform_account).first()
    if account is None:
        raise NotFound("not_found", "No such platform account, or it belongs to a team you are not in.")
    app = onboarding.app_create(
        account=account,
        actor=request.user,
        ip=client_ip(request),
        **payload.model_dump(exclude={"platform_account"}),
    )
    return Status(201, _app_out(apps_of(request.user).get(pk=app.pk)))


@router.get("/apps/{app_id}", response={200: AppOut, **ERRORS}, tags=["apps"])
def get_app(request, app_id: int):
    return _app_out(get_or_404(apps_of(request.user), app_id))


@router.patch("/apps/{app_id}", response={200: AppOut, **ERRORS}, tags=["apps"])
def update_app(request, app_id: int, payload: AppPatch):
    """Change the privacy policy URL, the categories or the tags (release managers and above);
    `tags` replaces the app's tags."""
    app = get_or_404(apps_of(request.user), app_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    tags = changes.pop("tags", None)
    with transaction.atomic():
        if tags is not None:
            fleet.app_set_tags(app=app, actor=request.user, tags=tags, ip=client_ip(request))
        app_services.app_update(app=app, actor=request.user, changes=changes, ip=client_ip(request))
    return _app_out(apps_of(request.user).get(pk=app.pk))


def _qualification_out(q: Qualification, problems: dict) -> dict:
    return {
        "id": q.pk,
        "kind": q.kind,
        "name": q.name,
        "number": q.number,
        "expires_on": q.expires_on,
        "problem": problems.get(q.pk),
        "created_by": q.created_by.get_username(),
        "created_at": q.created_at,
    }


def _problems(app: App) -> dict:
    from releases.checks.qualifications import qualification_problems

    return {p["id"]: p["message"] for p in qualification_problems(app)}


@router.get("/apps/{app_id}/qualifications", response={200: QualificationPage, **ERRORS}, tags=["apps"])
def list_qualifications(request, app_id: int, paging: Query[PageQuery]):
    """Business licence and category permits; `problem` says if one is expired or expires within
    the 7-day review window."""
    app = get_or_404(apps_of(request.user), app_id)
    problems = _problems(app)
    rows = app.qualifications.select_related("created_by").order_by("kind", "expires_on", "pk")
    return page(request, rows, paging, lambda q: _qualification_out(q, problems))


@router.post("/apps/{app_id}/qualifications", response={201: QualificationOut, **ERRORS}, tags=["apps"])
def create_qualification(request, app_id: int, payload: QualificationIn):
    app = get_or_404(apps_of(request.user), app_id)
    q = app_services.app_add_qualification(
        app=app, actor=request.user, ip=client_ip(request), **payload.dict()
    )
    return Status(201, _qualification_out(q, _problems(app)))


@router.delete(
    "/apps/{app_id}/qualifications/{qualification_id}", response={204: None, **ERRORS}, tags=["apps"]
)
def delete_qualification(request, app_id: int, qualification_id: int):
    app = get_or_404(apps_of(request.user), app_id)
    app_services.app_remove_qualification(
        app=app, actor=request.user, qualification_id=qualification_id, ip=client_ip(request)
    )
    return Status(204, None)


def _policy_out(app: App) -> dict:
    members = Membership.objects.filter(team_id=app.team_id).select_related("user").order_by("user__username")
    approvers: dict[str, list[str]] = {c: [] for c in approvals.required_capacities(app)}
    for m in members:
        for capacity in approvals.capacities_of(m.user, app):
            approvers.setdefault(capacity, []).append(m.user.get_username())
    return {"required": approvals.required_capacities(app), "approvers": approvers}


@router.get("/apps/{app_id}/approval-policy", response={200: ApprovalPolicyOut, **ERRORS}, tags=["apps"])
def get_approval_policy(request, app_id: int):
    """The capacities that must approve each revision, and who can approve in each."""
    return _policy_out(get_or_404(apps_of(request.user), app_id))


@router.put("/apps/{app_id}/approval-policy", response={200: ApprovalPolicyOut, **ERRORS}, tags=["apps"])
def put_approval_policy(request, app_id: int, payload: ApprovalPolicyIn):
    """Team admins only; a release manager is always required."""
    app = get_or_404(apps_of(request.user), app_id)
    app_services.app_set_approval_policy(
        app=app, actor=request.user, required=payload.required, ip=client_ip(request)
    )
    app.refresh_from_db()
    return _policy_out(app)
