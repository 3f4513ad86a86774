"""REST API v1 (django-ninja: pydantic validation and the OpenAPI document for free).

Contract kept for outside clients: paths, field names and error codes named in the
issues. Every error is `{"error": {"code", "message", "details"?}}`; lists are
`{"results": [...]}`. Authentication is a bearer token from `manage.py api_token`.
Objects of another team answer 404, never 403, so ids do not leak what exists.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field, field_validator

from releases import actions, app_services, approvals, selectors
from releases.audit import audit_record
from releases.checks import REGISTRY
from releases.errors import Forbidden, Invalid, NotFound, SluiceError
from releases.memo import in_read_scope
from releases.models import (
    App,
    Approval,
    AuditEvent,
    CheckSuppression,
    Membership,
    Platform,
    PlatformAccount,
    Qualification,
    Release,
    Role,
    role_at_least,
)
from releases.platforms import adapter_for
from releases.services import release_confirm_check, release_create, release_update
from web.throttle import api_token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(request, token)  # 429 while the address is locked out
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Sluice API",
    version="1",
    description="Release management for mini-programs. Authenticate with `Authorization: Bearer <token>`.",
    auth=BearerToken(),
    urls_namespace="api",
    docs_url=None,
)


def _error(request, status: int, code: str, message: str, details: dict | None = None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(SluiceError)
def _sluice_error(request, exc: SluiceError):
    response = _error(request, exc.status, exc.code, exc.message, exc.details)
    for header, value in getattr(exc, "headers", {}).items():  # e.g. Retry-After of a 429
        response[header] = value
    return response


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "payload", "query", "path")]
        details[".".join(loc) or "body"] = err.get("msg", "Invalid value.")
    fields = ", ".join(details)
    return _error(request, 400, "invalid_request", f"The request is not valid: check {fields}.", details)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return _error(
        request, 401, "unauthenticated", "Send a valid API token as `Authorization: Bearer <token>`."
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "No such object, or it belongs to a team you are not in.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "http_error", str(exc))


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


# -- schemas ------------------------------------------------------------------------------


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class PlatformAccountIn(Strict):
    platform: Literal["wechat", "manual"]
    name: str = Field(min_length=1, max_length=120)
    team: int | None = None
    component_appid: str = Field("", max_length=64)
    component_appsecret: str = Field("", max_length=256)
    message_token: str = Field("", max_length=128)
    encoding_aes_key: str = Field("", max_length=64)


class CallbackUrls(Schema):
    authorization: str
    messages: str


class PlatformAccountOut(Schema):
    id: int
    team: int
    platform: str
    name: str
    component_appid: str
    secrets_set: dict[str, bool]
    callback_urls: CallbackUrls | None
    created_at: datetime


class AppIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    appid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    platform_account: int
    authorizer_refresh_token: str = Field("", max_length=512)
    privacy_policy_url: str = Field("", max_length=200)
    categories: list[str] = Field(default_factory=list, max_length=20)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("privacy_policy_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


class ChecklistItem(Schema):
    key: str
    label: str


class AppOut(Schema):
    id: int
    team: int
    name: str
    appid: str
    platform_account: int
    platform: str
    authorizer_refresh_token_set: bool
    privacy_policy_url: str
    categories: list[str]
    settings: dict[str, Any]
    checklist: list[ChecklistItem]
    required_approvals: list[str]
    created_at: datetime


class AppPatch(Strict):
    privacy_policy_url: str | None = Field(None, max_length=200)
    categories: list[str] | None = Field(None, max_length=20)


class SuppressionIn(Strict):
    key: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date


class SuppressionOut(Schema):
    id: int
    key: str
    title: str
    reason: str
    expires_on: date
    created_by: str
    created_at: datetime
    active: bool
    removed_by: str | None
    removed_at: datetime | None


class QualificationIn(Strict):
    kind: Literal["business_licence", "category_permit"]
    name: str = Field("", max_length=120)
    number: str = Field(min_length=1, max_length=64)
    expires_on: date | None = None


class QualificationOut(Schema):
    id: int
    kind: str
    name: str
    number: str
    expires_on: date | None
    problem: str | None
    created_by: str
    created_at: datetime


class ChecklistItemIn(Strict):
    key: str = Field("", max_length=48)
    label: str = Field(min_length=1, max_length=200)


class ChecklistIn(Strict):
    items: list[ChecklistItemIn] = Field(max_length=30)


class ChecklistOut(Schema):
    items: list[ChecklistItem]


class ApprovalPolicyIn(Strict):
    required: list[Literal["release_manager", "qa", "product"]]


class ApprovalPolicyOut(Schema):
    required: list[str]
    approvers: dict[str, list[str]]


class CapacitiesIn(Strict):
    capacities: list[Literal["qa", "product"]]


class MemberOut(Schema):
    username: str
    role: str
    capacities: list[str]


class CheckDefinitionOut(Schema):
    key: str
    title: str
    severity: str
    platforms: list[str]
    slow: bool
    explanation: str


class ReleaseIn(Strict):
    version: str = Field(min_length=1, max_length=64)
    release_notes: str = Field("", max_length=10_000)
    review_notes: str = Field("", max_length=10_000)
    build_report: dict[str, Any] = Field(default_factory=dict)


class ReleasePatch(Strict):
    # The revision the edit is based on (from GET /releases/{id}); another one is a 409 stale_revision.
    revision: int = Field(ge=1)
    version: str | None = Field(None, min_length=1, max_length=64)
    release_notes: str | None = Field(None, max_length=10_000)
    review_notes: str | None = Field(None, max_length=10_000)
    build_report: dict[str, Any] | None = None


class ActionOut(Schema):
    name: str
    enabled: bool
    reason: str


class CheckOut(Schema):
    key: str
    title: str
    kind: str
    severity: str
    status: str
    message: str
    evidence: dict[str, Any]


class CheckRunOut(Schema):
    id: int
    revision: int
    pending: int
    passed: bool | None
    started_by: str | None
    created_at: datetime
    finished_at: datetime | None


class ApprovalOut(Schema):
    approver: str
    capacity: str
    override: bool
    revision: int
    comment: str
    created_at: datetime


class ApprovalStatusOut(Schema):
    required: list[str]
    missing: list[str]
    complete: bool
    current: list[ApprovalOut]


class RejectionItemOut(Schema):
    text: str
    category: str
    title: str
    details: list[str]


class RejectionOut(Schema):
    reason: str
    items: list[RejectionItemOut]
    categories: list[str]
    screenshots: list[str]
    audit_id: str
    at: datetime


class RemediationTaskOut(Schema):
    key: str
    title: str
    description: str
    category: str
    required: bool
    done: bool
    done_by: str | None
    done_at: datetime | None
    note: str
    check: str | None
    evidence: str
    waived: bool
    waived_by: str | None
    waive_reason: str


class ReleaseCoreOut(Schema):
    """The fields a release has in every answer (filled by _common_out)."""

    id: int
    app: int
    version: str
    state: str
    revision: int
    author: str
    owner: str | None
    approved: bool
    platform_audit_id: str
    last_error: dict[str, str] | None
    rejection_reason: str
    review_delay: dict[str, Any] | None
    submitted_at: datetime | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ReleaseOut(ReleaseCoreOut):
    release_notes: str
    review_notes: str
    build_report: dict[str, Any]
    checks: list[CheckOut]
    check_run: CheckRunOut | None
    approvals: ApprovalStatusOut
    actions: list[ActionOut]
    rejection: RejectionOut | None = None
    remediation: list[RemediationTaskOut] = []


class ReleaseSummaryOut(ReleaseCoreOut):
    """One row of an app's release list: the release itself, without the checks, approvals and
    actions of GET /releases/{id} (which cost several queries each)."""

    url: str


class ReleasePageOut(Schema):
    results: list[ReleaseSummaryOut]
    next: str | None = None


class EventOut(Schema):
    id: int
    at: datetime
    actor: str | None
    action: str
    from_state: str
    to_state: str
    data: dict[str, Any]


class ActionIn(Schema):
    comment: str = ""
    outcome: str = ""
    reason: str = ""
    capacity: str = ""
    # approve, override-approval: the revision the approver read; another one is a 409 stale_revision.
    revision: int | None = Field(None, ge=1)


def _list(schema):
    class ListOut(Schema):
        results: list[schema]

    ListOut.__name__ = f"{schema.__name__}List"
    return ListOut


# -- serialisers --------------------------------------------------------------------------


def _callback_urls(request, account: PlatformAccount) -> dict | None:
    if account.platform != Platform.WECHAT:
        return None
    base = (settings.SLUICE_PUBLIC_URL or request.build_absolute_uri("/")).rstrip("/")
    prefix = f"{base}/callbacks/wechat/{account.callback_key}"
    return {"authorization": f"{prefix}/auth", "messages": f"{prefix}/$APPID$/events"}


def _account_out(request, account: PlatformAccount) -> dict:
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
        "callback_urls": _callback_urls(request, account),
        "created_at": account.created_at,
    }


def _app_out(app: App) -> dict:
    return {
        "id": app.pk,
        "team": app.team_id,
        "name": app.name,
        "appid": app.appid,
        "platform_account": app.platform_account_id,
        "platform": app.platform_account.platform,
        "authorizer_refresh_token_set": bool(app.authorizer_refresh_token),
        "privacy_policy_url": app.privacy_policy_url,
        "categories": app.categories,
        "settings": app.settings,
        "checklist": app.checklist or [],
        "required_approvals": approvals.required_capacities(app),
        "created_at": app.created_at,
    }


def _latest_checks(release: Release, run) -> list[dict]:
    """The latest run's automated results, then the manual checklist of the current revision."""
    automated = [
        {
            "key": r.key,
            "title": r.title,
            "kind": r.kind,
            "severity": r.severity,
            "status": r.status,
            "message": r.message,
            "evidence": r.evidence,
        }
        for r in (run.result_list if run is not None else [])
    ]
    return automated + selectors.manual_check_rows(release)


def _run_out(run) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "revision": run.revision,
        "pending": sum(1 for r in run.result_list if r.status == "pending"),
        "passed": run.passed if run.finished_at else None,
        "started_by": run.actor_name if run.actor_id else None,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _approvals_out(release: Release) -> dict:
    status = approvals.policy_status(release)
    return {
        "required": status.required,
        "missing": [] if status.complete else status.missing,
        "complete": status.complete,
        "current": [
            {
                "approver": a.approver.get_username(),
                "capacity": a.capacity,
                "override": a.override,
                "revision": a.revision,
                "comment": a.comment,
                "created_at": a.created_at,
            }
            for a in status.approvals
        ],
    }


def _release_extras(release: Release) -> dict:
    """Rejection and remediation tasks of the release."""
    from web.api.reviews import release_extras

    return release_extras(release)


def _common_out(release: Release, *, approved: bool) -> dict:
    return {
        "id": release.pk,
        "app": release.app_id,
        "version": release.version,
        "state": release.state,
        "revision": release.revision,
        "author": release.author.username,
        "owner": release.owner.username if release.owner_id else None,
        "approved": approved,
        "platform_audit_id": release.platform_audit_id,
        "last_error": {"code": release.last_error_code, "message": release.last_error}
        if release.last_error
        else None,
        "rejection_reason": release.rejection_reason,
        "review_delay": (
            {"at": release.review_delayed_at, "reason": release.review_delay_reason}
            if release.review_delayed_at
            else None
        ),
        "submitted_at": release.submitted_at,
        "decided_at": release.decided_at,
        "created_at": release.created_at,
        "updated_at": release.updated_at,
    }


def release_out(release: Release, user) -> dict:
    run = actions.latest_check_run(release)  # once: the checks, the run and the guards read it
    return {
        **_common_out(release, approved=release.is_approved()),
        "release_notes": release.release_notes,
        "review_notes": release.review_notes,
        "build_report": release.build_report,
        "checks": _latest_checks(release, run),
        "check_run": _run_out(run),
        "approvals": _approvals_out(release),
        "actions": [
            {"name": a.action.name, "enabled": a.enabled, "reason": a.reason}
            for a in actions.available_actions(release, user)
        ],
        **_release_extras(release),
    }


def _event_out(event: AuditEvent) -> dict:
    return {
        "id": event.pk,
        "at": event.at,
        "actor": event.actor_name or None,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": event.data,
    }


def _get(queryset, pk: int):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


# -- platform accounts --------------------------------------------------------------------


@api.get(
    "/platform-accounts", response={200: _list(PlatformAccountOut), **ERRORS}, tags=["platform accounts"]
)
def list_platform_accounts(request):
    accounts = selectors.platform_accounts_for(request.user).order_by("name")
    return {"results": [_account_out(request, a) for a in accounts]}


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


WECHAT_REQUIRED = ("component_appid", "component_appsecret", "message_token", "encoding_aes_key")


@api.post("/platform-accounts", response={201: PlatformAccountOut, **ERRORS}, tags=["platform accounts"])
def create_platform_account(request, payload: PlatformAccountIn):
    team_id = _admin_team(request.user, payload.team)
    data = payload.model_dump(exclude={"team"})
    if payload.platform == Platform.WECHAT:
        missing = {
            f: "Required for a WeChat platform account." for f in WECHAT_REQUIRED if not data[f].strip()
        }
        if len(data["encoding_aes_key"]) not in (0, 43):
            missing["encoding_aes_key"] = "WeChat's EncodingAESKey is exactly 43 characters."
        if missing:
            raise Invalid(
                "invalid_request", "Some WeChat credentials are missing or malformed.", details=missing
            )
    try:
        with transaction.atomic():
            account = PlatformAccount.objects.create(team_id=team_id, **data)
            audit_record(
                action="platform_account_create",
                actor=request.user,
                target=account,
                team_id=team_id,
                data={"name": account.name, "platform": account.platform},
                ip=_ip(request),
            )
    except IntegrityError:
        raise Invalid(
            "name_taken",
            f"The team already has an account named “{payload.name}”.",
            details={"name": "Already used in this team."},
        ) from None
    return Status(201, _account_out(request, account))


# -- apps -----------------------------------------------------------------------------------


@api.get("/apps", response={200: _list(AppOut), **ERRORS}, tags=["apps"])
def list_apps(request):
    return {"results": [_app_out(a) for a in selectors.apps_for(request.user).order_by("name")]}


@api.post("/apps", response={201: AppOut, **ERRORS}, tags=["apps"])
def create_app(request, payload: AppIn):
    account = selectors.platform_accounts_for(request.user).filter(pk=payload.platform_account).first()
    if account is None:
        raise Invalid(
            "invalid_request",
            "No such platform account in your teams.",
            details={"platform_account": "Unknown platform account."},
        )
    if not role_at_least(selectors.role_for(request.user, account.team_id), Role.RELEASE_MANAGER):
        raise Forbidden("forbidden", "Only a release manager or admin can add apps.")
    try:
        with transaction.atomic():
            app = App.objects.create(
                team_id=account.team_id,
                **payload.model_dump(exclude={"platform_account"}),
                platform_account=account,
            )
            audit_record(
                action="app_create",
                actor=request.user,
                app=app,
                data={"name": app.name, "appid": app.appid},
                ip=_ip(request),
            )
            adapter_for(account).on_app_added(app)
    except IntegrityError:
        raise Invalid(
            "appid_taken",
            f"{payload.appid} is already registered on this platform account.",
            details={"appid": "Already registered."},
        ) from None
    return Status(201, _app_out(app))


@api.get("/apps/{app_id}", response={200: AppOut, **ERRORS}, tags=["apps"])
def get_app(request, app_id: int):
    return _app_out(_get(selectors.apps_for(request.user), app_id))


@api.patch("/apps/{app_id}", response={200: AppOut, **ERRORS}, tags=["apps"])
def update_app(request, app_id: int, payload: AppPatch):
    """Change the privacy policy URL or the categories (release managers and above)."""
    app = _get(selectors.apps_for(request.user), app_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    return _app_out(app_services.app_update(app=app, actor=request.user, changes=changes, ip=_ip(request)))


# -- app configuration: suppressions, qualifications, checklist, approvals ---------------------


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


@api.get("/checks", response={200: _list(CheckDefinitionOut), **ERRORS}, tags=["checks"])
def list_check_definitions(request):
    """Every automated check with its explanation: why the reviewer cares and how to fix it."""
    return {
        "results": [
            {
                "key": c.key,
                "title": str(c.title),
                "severity": c.severity,
                "platforms": list(c.platforms),
                "slow": c.slow,
                "explanation": str(c.explanation),
            }
            for c in REGISTRY.values()
        ]
    }


@api.get("/apps/{app_id}/suppressions", response={200: _list(SuppressionOut), **ERRORS}, tags=["checks"])
def list_suppressions(request, app_id: int):
    """Suppressions of this app's checks, in force or not (expired and removed ones stay listed)."""
    app = _get(selectors.apps_for(request.user), app_id)
    rows = CheckSuppression.objects.filter(app=app).select_related("created_by", "removed_by")
    return {"results": [_suppression_out(s) for s in rows]}


@api.post("/apps/{app_id}/suppressions", response={201: SuppressionOut, **ERRORS}, tags=["checks"])
def create_suppression(request, app_id: int, payload: SuppressionIn):
    """Suppress one automated check for this app until `expires_on` (inclusive). Release managers+."""
    app = _get(selectors.apps_for(request.user), app_id)
    suppression = app_services.app_suppress_check(
        app=app, actor=request.user, ip=_ip(request), **payload.dict()
    )
    return Status(201, _suppression_out(suppression))


@api.delete(
    "/apps/{app_id}/suppressions/{suppression_id}", response={200: SuppressionOut, **ERRORS}, tags=["checks"]
)
def delete_suppression(request, app_id: int, suppression_id: int):
    app = _get(selectors.apps_for(request.user), app_id)
    suppression = app_services.app_unsuppress_check(
        app=app, actor=request.user, suppression_id=suppression_id, ip=_ip(request)
    )
    return _suppression_out(suppression)


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


@api.get("/apps/{app_id}/qualifications", response={200: _list(QualificationOut), **ERRORS}, tags=["apps"])
def list_qualifications(request, app_id: int):
    """Business licence and category permits; `problem` says if one is expired or expires within
    the 7-day review window."""
    app = _get(selectors.apps_for(request.user), app_id)
    problems = _problems(app)
    rows = app.qualifications.select_related("created_by")
    return {"results": [_qualification_out(q, problems) for q in rows]}


@api.post("/apps/{app_id}/qualifications", response={201: QualificationOut, **ERRORS}, tags=["apps"])
def create_qualification(request, app_id: int, payload: QualificationIn):
    app = _get(selectors.apps_for(request.user), app_id)
    q = app_services.app_add_qualification(app=app, actor=request.user, ip=_ip(request), **payload.dict())
    return Status(201, _qualification_out(q, _problems(app)))


@api.delete("/apps/{app_id}/qualifications/{qualification_id}", response={204: None, **ERRORS}, tags=["apps"])
def delete_qualification(request, app_id: int, qualification_id: int):
    app = _get(selectors.apps_for(request.user), app_id)
    app_services.app_remove_qualification(
        app=app, actor=request.user, qualification_id=qualification_id, ip=_ip(request)
    )
    return Status(204, None)


@api.get("/apps/{app_id}/checklist", response={200: ChecklistOut, **ERRORS}, tags=["checks"])
def get_checklist(request, app_id: int):
    return {"items": _get(selectors.apps_for(request.user), app_id).checklist or []}


@api.put("/apps/{app_id}/checklist", response={200: ChecklistOut, **ERRORS}, tags=["checks"])
def put_checklist(request, app_id: int, payload: ChecklistIn):
    """Replace the manual checklist (release managers+). Omit `key` to derive it from the label."""
    app = _get(selectors.apps_for(request.user), app_id)
    items = [item.dict() for item in payload.items]
    return {
        "items": app_services.app_set_checklist(app=app, actor=request.user, items=items, ip=_ip(request))
    }


def _policy_out(app: App) -> dict:
    members = Membership.objects.filter(team_id=app.team_id).select_related("user").order_by("user__username")
    approvers: dict[str, list[str]] = {c: [] for c in approvals.required_capacities(app)}
    for m in members:
        for capacity in approvals.capacities_of(m.user, app):
            approvers.setdefault(capacity, []).append(m.user.get_username())
    return {"required": approvals.required_capacities(app), "approvers": approvers}


@api.get("/apps/{app_id}/approval-policy", response={200: ApprovalPolicyOut, **ERRORS}, tags=["apps"])
def get_approval_policy(request, app_id: int):
    """The capacities that must approve each revision, and who can approve in each."""
    return _policy_out(_get(selectors.apps_for(request.user), app_id))


@api.put("/apps/{app_id}/approval-policy", response={200: ApprovalPolicyOut, **ERRORS}, tags=["apps"])
def put_approval_policy(request, app_id: int, payload: ApprovalPolicyIn):
    """Team admins only; a release manager is always required."""
    app = _get(selectors.apps_for(request.user), app_id)
    app_services.app_set_approval_policy(
        app=app, actor=request.user, required=payload.required, ip=_ip(request)
    )
    app.refresh_from_db()
    return _policy_out(app)


@api.put("/teams/{team_id}/members/{username}", response={200: MemberOut, **ERRORS}, tags=["apps"])
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
        ip=_ip(request),
    )
    return {"username": username, "role": membership.role, "capacities": membership.capacities}


# -- releases ----------------------------------------------------------------------------


RELEASES_PER_PAGE = 50


@api.get("/apps/{app_id}/releases", response={200: ReleasePageOut, **ERRORS}, tags=["releases"])
def list_releases(request, app_id: int, offset: int = 0):
    """The app's releases, newest first, 50 at a time: `next` is the path of the following page
    (null on the last). Each row is a summary; GET /releases/{id} has checks, approvals, actions."""
    app = _get(selectors.apps_for(request.user), app_id)
    offset = max(0, offset)
    rows = list(release_summaries(app)[offset : offset + RELEASES_PER_PAGE + 1])
    more = len(rows) > RELEASES_PER_PAGE
    path = f"{request.path}?offset={offset + RELEASES_PER_PAGE}"
    return {
        "results": [_summary_out(r) for r in rows[:RELEASES_PER_PAGE]],
        "next": path if more else None,
    }


def release_summaries(app: App):
    """The app's releases newest first, with `approved` computed in SQL: an override, or an
    approval in every capacity the app requires, for the current revision (policy_status)."""
    current = Approval.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision"))
    every_capacity = Q()
    for capacity in approvals.required_capacities(app):
        every_capacity &= Q(Exists(current.filter(capacity=capacity, override=False)))
    return (
        Release.objects.filter(app=app)
        .select_related("author", "owner")
        .only(
            *SUMMARY_FIELDS,
            "author__username",
            "owner__username",
        )
        .annotate(
            approved=ExpressionWrapper(
                Q(Exists(current.filter(override=True))) | every_capacity, output_field=BooleanField()
            )
        )
        .order_by("-created_at", "-pk")
    )


SUMMARY_FIELDS = (
    "pk",
    "app_id",
    "version",
    "state",
    "revision",
    "author",
    "owner",
    "platform_audit_id",
    "last_error",
    "last_error_code",
    "rejection_reason",
    "review_delayed_at",
    "review_delay_reason",
    "submitted_at",
    "decided_at",
    "created_at",
    "updated_at",
)


def _summary_out(release: Release) -> dict:
    """A list row: the fields every representation shares, and where the full one lives."""
    return {**_common_out(release, approved=release.approved), "url": f"/api/v1/releases/{release.pk}"}


@api.post("/apps/{app_id}/releases", response={201: ReleaseOut, **ERRORS}, tags=["releases"])
def create_release(request, app_id: int, payload: ReleaseIn):
    app = _get(selectors.apps_for(request.user), app_id)
    release = release_create(app=app, actor=request.user, ip=_ip(request), **payload.model_dump())
    return Status(201, release_out(release, request.user))


@api.get("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
@in_read_scope
def get_release(request, release_id: int):
    return release_out(_get(selectors.releases_for(request.user), release_id), request.user)


@api.patch("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def update_release(request, release_id: int, payload: ReleasePatch):
    """Edit the content, based on `revision` (required): if the release is no longer at that
    revision the answer is a 409 `stale_revision` and nothing changes; GET it again and redo the edit.
    """
    release = _get(selectors.releases_for(request.user), release_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    revision = changes.pop("revision")
    release = release_update(
        release=release, actor=request.user, changes=changes, revision=revision, ip=_ip(request)
    )
    return release_out(release, request.user)


@api.get("/releases/{release_id}/events", response={200: _list(EventOut), **ERRORS}, tags=["releases"])
def release_events(request, release_id: int):
    release = _get(selectors.releases_for(request.user), release_id)
    events = AuditEvent.objects.filter(release_id=release.pk).order_by("id")
    return {"results": [_event_out(e) for e in events]}


@api.post(
    "/releases/{release_id}/checks/{key}/confirm", response={200: ReleaseOut, **ERRORS}, tags=["checks"]
)
def confirm_check(request, release_id: int, key: str):
    """Tick one manual checklist item for the current revision (developers and above).

    Records who and when; an edit (new revision) voids the ticks. The tick that completes
    the checklist of a release whose automated checks passed moves it to `checked`.
    """
    release = _get(selectors.releases_for(request.user), release_id)
    release_confirm_check(release=release, actor=request.user, key=key, ip=_ip(request))
    return release_out(selectors.releases_for(request.user).get(pk=release.pk), request.user)


@api.post("/releases/{release_id}/{action}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def release_action(request, release_id: int, action: str, payload: ActionIn | None = None):
    """Actions: check, approve, override-approval, send-back, submit, record-outcome, withdraw,
    publish, rollback, retry, cancel.

    `check` runs the fast checks at once; slow ones (privacy policy, platform scan) run in a
    worker: the answer is then 200 with the release still in draft, `check_run.pending` > 0
    and those checks "pending"; poll `GET /releases/{id}` until `check_run.finished_at` is
    set. The release moves to `checked` when the run passes and every manual checklist item
    is ticked (`POST /releases/{id}/checks/{key}/confirm`), whichever comes last.
    `approve` takes `comment` and optionally `capacity` (release_manager, qa, product);
    `override-approval` (team admins) takes a required `reason`; `send-back` takes
    `comment`; `record-outcome` (manual platform) takes `outcome` (approved, rejected,
    delayed) and `reason`. `approve` and `override-approval` take an optional `revision`, the one
    the approver read: another is a 409 `stale_revision`. Nobody who created or edited the content
    approves it (403 `self_approval`). A refused action is a 409 whose code names the guard (e.g.
    `approval_required`, `checks_failed`, `checklist_incomplete`, `qualification_expired`,
    `review_in_progress`).
    """
    release = _get(selectors.releases_for(request.user), release_id)
    actions.perform(
        release, action, actor=request.user, payload=payload.dict() if payload else {}, ip=_ip(request)
    )
    release = selectors.releases_for(request.user).get(pk=release.pk)
    return release_out(release, request.user)


# Rejections, remediation and limits: their own module, on the same API (auth, error envelope).
from web.api.reviews import router as reviews_router  # noqa: E402

api.add_router("", reviews_router)
