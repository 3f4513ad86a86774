"""REST API v1 (django-ninja: pydantic validation and the OpenAPI document for free).

Contract kept for outside clients: paths, field names and error codes named in the
issues. Every error is `{"error": {"code", "message", "details"?}}`; lists are
`{"results": [...]}`. Authentication is a bearer token from `manage.py api_token`.
Objects of another team answer 404, never 403, so ids do not leak what exists.
"""

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field, field_validator

from releases import actions, selectors
from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, NotFound, SluiceError
from releases.models import App, AuditEvent, CheckRun, Platform, PlatformAccount, Release, Role, role_at_least
from releases.services import release_create, release_update
from releases.tokens import api_token_user


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(token)
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
    return _error(request, exc.status, exc.code, exc.message, exc.details)


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
    created_at: datetime


class ReleaseIn(Strict):
    version: str = Field(min_length=1, max_length=64)
    release_notes: str = Field("", max_length=10_000)
    review_notes: str = Field("", max_length=10_000)
    build_report: dict[str, Any] = Field(default_factory=dict)


class ReleasePatch(Strict):
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


class ReleaseOut(Schema):
    id: int
    app: int
    version: str
    state: str
    revision: int
    release_notes: str
    review_notes: str
    build_report: dict[str, Any]
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
    checks: list[CheckOut]
    actions: list[ActionOut]


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
        "created_at": app.created_at,
    }


def _latest_checks(release: Release) -> list[dict]:
    run = CheckRun.objects.filter(release=release).order_by("-created_at").prefetch_related("results").first()
    if run is None:
        return []
    return [
        {
            "key": r.key,
            "title": r.title,
            "kind": r.kind,
            "severity": r.severity,
            "status": r.status,
            "message": r.message,
            "evidence": r.evidence,
        }
        for r in run.results.all()
    ]


def release_out(release: Release, user) -> dict:
    return {
        "id": release.pk,
        "app": release.app_id,
        "version": release.version,
        "state": release.state,
        "revision": release.revision,
        "release_notes": release.release_notes,
        "review_notes": release.review_notes,
        "build_report": release.build_report,
        "author": release.author.username,
        "owner": release.owner.username if release.owner_id else None,
        "approved": release.is_approved(),
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
        "checks": _latest_checks(release),
        "actions": [
            {"name": a.action.name, "enabled": a.enabled, "reason": a.reason}
            for a in actions.available_actions(release, user)
        ],
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


# -- releases ----------------------------------------------------------------------------


@api.get("/apps/{app_id}/releases", response={200: _list(ReleaseOut), **ERRORS}, tags=["releases"])
def list_releases(request, app_id: int):
    app = _get(selectors.apps_for(request.user), app_id)
    releases = selectors.releases_for(request.user).filter(app=app).order_by("-created_at")[:200]
    return {"results": [release_out(r, request.user) for r in releases]}


@api.post("/apps/{app_id}/releases", response={201: ReleaseOut, **ERRORS}, tags=["releases"])
def create_release(request, app_id: int, payload: ReleaseIn):
    app = _get(selectors.apps_for(request.user), app_id)
    release = release_create(app=app, actor=request.user, ip=_ip(request), **payload.model_dump())
    return Status(201, release_out(release, request.user))


@api.get("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def get_release(request, release_id: int):
    return release_out(_get(selectors.releases_for(request.user), release_id), request.user)


@api.patch("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def update_release(request, release_id: int, payload: ReleasePatch):
    release = _get(selectors.releases_for(request.user), release_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    release = release_update(release=release, actor=request.user, changes=changes, ip=_ip(request))
    return release_out(release, request.user)


@api.get("/releases/{release_id}/events", response={200: _list(EventOut), **ERRORS}, tags=["releases"])
def release_events(request, release_id: int):
    release = _get(selectors.releases_for(request.user), release_id)
    events = AuditEvent.objects.filter(release_id=release.pk).order_by("id")
    return {"results": [_event_out(e) for e in events]}


@api.post("/releases/{release_id}/{action}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def release_action(request, release_id: int, action: str, payload: ActionIn | None = None):
    """Actions: check, approve, send-back, submit, record-outcome, withdraw, publish, rollback, retry, cancel.

    `record-outcome` (manual platform) takes `outcome` (approved, rejected, delayed) and
    `reason`; `approve` and `send-back` take `comment`. A refused action is a 409 whose
    code names the guard (e.g. `approval_required`, `checks_failed`, `review_in_progress`).
    """
    release = _get(selectors.releases_for(request.user), release_id)
    actions.perform(
        release, action, actor=request.user, payload=payload.dict() if payload else {}, ip=_ip(request)
    )
    release = selectors.releases_for(request.user).get(pk=release.pk)
    return release_out(release, request.user)
