"""Rendered pages kept in the shared cache until something they show changes.

A page of two thousand apps costs tens of milliseconds to compute and render; the same user
asking for it again (a reload, the live refresh of an open page, going back to the overview)
gets the stored copy as long as nothing changed. "Nothing changed" is the key: the user, their
language and the exact URL, the change counters of every team the user is in
(releases/generations.py: any saved row a page shows moves its team's counter when its
transaction commits), and the current minute, so that countdowns, ages and working days move
on their own. A stored page is dropped at the latest after PAGE_CACHE_SECONDS (at most a
minute: the next minute has another key anyway), which also bounds anything missed.

Not cached: anything but a GET answered 200 with HTML, and a request with flash messages
waiting (they are shown once). The CSRF token differs per session: a page is rendered with a
placeholder in its place (see `csrf` below, the context processor that supplies it) and each
answer gets the requester's own token.

PAGE_CACHE_SECONDS=0 turns it off (bench/pages.py --no-page-cache measures the pages without it).
"""

import hashlib
import logging
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.context_processors import csrf as django_csrf
from django.utils.translation import get_language

from releases import selectors
from web import generations

PLACEHOLDER = "sluicecsrfplaceholder0000000000000000000000000000000000000000000000"
BUCKET_SECONDS = 60
PREFIX = "sluice:page:v1:"
HTML = "text/html"
log = logging.getLogger(__name__)


def csrf(request):
    """Django's csrf context processor, except while a page is rendered for the cache."""
    if getattr(request, "_sluice_page_render", False):
        return {"csrf_token": PLACEHOLDER}
    return django_csrf(request)


def page_key(request) -> str:
    user = request.user
    parts = (
        request.resolver_match.view_name if request.resolver_match else "",
        str(user.pk),
        "s" if user.is_staff else "",
        "a" if user.is_superuser else "",
        get_language() or "",
        request.get_full_path(),
        request.headers.get("X-Sluice-Live", ""),
        generations.current(selectors.team_ids_for(user)),
        str(int(time.time()) // BUCKET_SECONDS),
    )
    return PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _lifetime() -> int:
    return min(settings.PAGE_CACHE_SECONDS, BUCKET_SECONDS)


def _store(key: str, value) -> None:
    try:
        cache.set(key, value, _lifetime())
    except Exception:  # not stored: the next load renders again
        log.warning("Page cache unreachable; %s not stored", key, exc_info=True)


def _cacheable_request(request) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and request.user.is_authenticated
        and not len(messages.get_messages(request))
    )


def _answer(request, html: str, headers: dict) -> HttpResponse:
    answer = HttpResponse(
        html.replace(PLACEHOLDER, get_token(request)), content_type=f"{HTML}; charset=utf-8"
    )
    for header, value in headers.items():
        answer[header] = value
    return answer


def cached_page(view):
    """Serve `view`'s page from the cache while nothing it shows has changed (see the module)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        try:
            key = page_key(request)
            stored = cache.get(key)
        except Exception:  # the cache is unreachable: the page as if there were none
            log.warning("Page cache unreachable; rendering %s", request.path, exc_info=True)
            return view(request, *args, **kwargs)
        if stored is not None:
            headers, html = stored
            return _answer(request, html, headers)
        request._sluice_page_render = True
        try:
            response = view(request, *args, **kwargs)
        finally:
            request._sluice_page_render = False
        if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith(HTML):
            return response
        html = response.content.decode(response.charset or "utf-8")
        headers = {k: v for k, v in response.items() if k.lower() not in ("content-type", "content-length")}
        if response.status_code == 200 and not response.cookies:
            _store(key, (headers, html))
        answer = _answer(request, html, headers)
        answer.status_code = response.status_code
        for cookie in response.cookies.values():
            answer.cookies[cookie.key] = cookie
        return answer

    return wrapper


def cached_answer(endpoint):
    """For an API GET endpoint (django-ninja): the data it returns, kept under the same key as a
    page (user, URL, team counters, minute). The schema still validates and serializes it on
    every answer; errors are raised, so never kept."""

    @wraps(endpoint)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if settings.PAGE_CACHE_SECONDS <= 0 or user is None or not user.is_authenticated:
            return endpoint(request, *args, **kwargs)
        try:
            key = page_key(request)
            found = cache.get(key)
        except Exception:
            log.warning("Page cache unreachable; answering %s", request.path, exc_info=True)
            return endpoint(request, *args, **kwargs)
        if found is None:
            found = endpoint(request, *args, **kwargs)
            if isinstance(found, dict):
                _store(key, found)
        return found

    return wrapper
