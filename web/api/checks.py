"""Checks: the definitions, an app's suppressions and manual checklist, and ticking an item."""

from django.utils import timezone
from ninja import Query, Router, Status

from releases import app_services, selectors
from releases.checks import REGISTRY
from releases.models import CheckSuppression
from releases.services import release_confirm_check
from web.api.core import client_ip, get_or_404
from web.api.paging import PageQuery, page
from web.api.release_out import release_out
from web.api.schemas.apps import (
    CheckDefinitionOut,
    ChecklistIn,
    ChecklistOut,
    SuppressionIn,
    SuppressionOut,
)
from web.api.schemas.common import ERRORS, page_of
from web.api.schemas.releases import ReleaseOut

router = Router()
CheckDefinitionPage = page_of(CheckDefinitionOut, "CheckDefinitionPage")
SuppressionPage = page_of(SuppressionOut, "SuppressionPage")


def _suppression_out(s: CheckSuppression) -> dict:
    check = REGISTRY.get(s.key)
    return {
        "id": s.pk,
        "key": s.key,
        "title": str(check.title) if check else s.key,
        "reason": s.reason,
        "expires_on": s.expires_on,
        "created_by": s.created_by.get_username(),
        "created_at": s.created_at,
        "active": s.applies_on(timezone.localdate()),
        "removed_by": s.removed_by.get_username() if s.removed_by_id else None,
        "removed_at": s.removed_at,
    }


def _definition_out(check) -> dict:
    return {
        "key": check.key,
        "title": str(check.title),
        "severity": check.severity,
        "platforms": list(check.platforms),
        "slow": check.slow,
        "explanation": str(check.explanation),
    }


@router.get("/checks", response={200: CheckDefinitionPage, **ERRORS}, tags=["checks"])
def list_check_definitions(request, paging: Query[PageQuery]):
    """Every automated check with its explanation: why the reviewer cares and how to fix it."""
    return page(request, list(REGISTRY.values()), paging, _definition_out)


@router.get("/apps/{app_id}/suppressions", response={200: SuppressionPage, **ERRORS}, tags=["checks"])
def list_suppressions(request, app_id: int, paging: Query[PageQuery]):
    """Suppressions of this app's checks, in force or not (expired and removed ones stay listed)."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    rows = (
        CheckSuppression.objects.filter(app=app)
        .select_related("created_by", "removed_by")
        .order_by("key", "-created_at", "-pk")
    )
    return page(request, rows, paging, _suppression_out)


@router.post("/apps/{app_id}/suppressions", response={201: SuppressionOut, **ERRORS}, tags=["checks"])
def create_suppression(request, app_id: int, payload: SuppressionIn):
    """Suppress one automated check for this app until `expires_on` (inclusive). Release managers+."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    suppression = app_services.app_suppress_check(
        app=app, actor=request.user, ip=client_ip(request), **payload.dict()
    )
    return Status(201, _suppression_out(suppression))


@router.delete(
    "/apps/{app_id}/suppressions/{suppression_id}", response={200: SuppressionOut, **ERRORS}, tags=["checks"]
)
def delete_suppression(request, app_id: int, suppression_id: int):
    app = get_or_404(selectors.apps_for(request.user), app_id)
    suppression = app_services.app_unsuppress_check(
        app=app, actor=request.user, suppression_id=suppression_id, ip=client_ip(request)
    )
    return _suppression_out(suppression)


@router.get("/apps/{app_id}/checklist", response={200: ChecklistOut, **ERRORS}, tags=["checks"])
def get_checklist(request, app_id: int):
    return {"items": get_or_404(selectors.apps_for(request.user), app_id).checklist or []}


@router.put("/apps/{app_id}/checklist", response={200: ChecklistOut, **ERRORS}, tags=["checks"])
def put_checklist(request, app_id: int, payload: ChecklistIn):
    """Replace the manual checklist (release managers+). Omit `key` to derive it from the label."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    items = [item.dict() for item in payload.items]
    return {
        "items": app_services.app_set_checklist(
            app=app, actor=request.user, items=items, ip=client_ip(request)
        )
    }


@router.post(
    "/releases/{release_id}/checks/{key}/confirm", response={200: ReleaseOut, **ERRORS}, tags=["checks"]
)
def confirm_check(request, release_id: int, key: str):
    """Tick one manual checklist item for the current revision (developers and above).

    Records who and when; an edit (new revision) voids the ticks. The tick that completes
    the checklist of a release whose automated checks passed moves it to `checked`.
    """
    release = get_or_404(selectors.releases_for(request.user), release_id)
    release_confirm_check(release=release, actor=request.user, key=key, ip=client_ip(request))
    return release_out(selectors.releases_for(request.user).get(pk=release.pk), request.user)
