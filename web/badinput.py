"""Bad input is a 4xx before any view sees it, and on the API always in the error envelope.

- A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, decided from Content-Length before anything
  reads it (Django would raise RequestDataTooBig wherever the body is first touched).
- A NUL character in the path, the query string or a form field is a 400: PostgreSQL refuses NUL
  in text and jsonb, so the query would fail with a 500. (JSON bodies: the API's schemas.)
- Under /api/, Django's HTML 404 (no such path) and django-ninja's plain-text 405 (wrong verb)
  become the envelope, `not_found` and `method_not_allowed` (the Allow header kept).
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse

API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _envelope(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _refuse(request, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _envelope(status, code, message)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _has_nul(request) -> bool:
    params = list(request.GET.lists())
    if request.method == "POST" and request.content_type in FORM_TYPES:
        params += request.POST.lists()
    return "\x00" in request.path or any("\x00" in k or any("\x00" in v for v in vs) for k, vs in params)


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "invalid_request", "The Content-Length header is not a number.")
        if limit is not None and length > limit:
            return _refuse(
                request, 413, "payload_too_large", f"The request body is over the limit of {limit} bytes."
            )
        if _has_nul(request):
            return _refuse(request, 400, "invalid_request", "NUL characters are not allowed in requests.")
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code in (404, 405):
            return _as_envelope(response)
        return response


def _as_envelope(response: HttpResponse) -> HttpResponse:
    """The API's own 404s are already JSON; the resolver's and the 405s are not."""
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    if response.status_code == 405:
        allowed = response.get("Allow", "")
        answer = _envelope(405, "method_not_allowed", f"This path accepts {allowed or 'no other method'}.")
        answer["Allow"] = allowed
        return answer
    return _envelope(404, "not_found", "There is no such API path.")
