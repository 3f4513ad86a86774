"""The API object itself: bearer authentication, the error envelope and its handlers.

Every error is `{"error": {"code", "message", "details"?}}`. Objects of another team answer
404, never 403, so ids do not leak what exists. The resource modules (accounts, apps, checks,
releases, reviews) add their routers to `api` in web/api/__init__.py.
"""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from releases.errors import SluiceError
from web.throttle import api_token_authenticate, client_address


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(request, token)  # 429 while the address is locked out
        if user is not None:
            request.user = user
        return user


class SluiceAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """`web_api_<view>` whichever module of the package holds the view, so a client's
        generated method names survive moving an endpoint between modules."""
        return f"web_api_{operation.view_func.__name__}"


api = SluiceAPI(
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


# Parts of a pydantic error location that name no field: where the value came from, and the
# branch of a union body (the platform of an account: `wechat.component_appid` is `component_appid`).
NOT_FIELDS = {"body", "payload", "query", "path", "paging", "filters", "wechat", "manual"}
NOT_FIELDS |= {"wecom", "dingtalk", "feishu", "email", "webhook"}  # the kinds of a notification channel


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in NOT_FIELDS]
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


def client_ip(request) -> str | None:
    """Who made the request, as audit events record it (web.throttle: proxy-aware)."""
    return client_address(request)


def get_or_404(queryset, pk: int):
    """The object of that id among those the caller may see; any other id is a 404."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj
