"""The language of the pages, chosen per user (issue 6): English or Simplified Chinese.

- A signed-in user's choice is stored on `UserPreference` and copied into the session at login,
  so that reading it costs no query per request; the switcher in the top bar changes both.
- Without a choice (and for anonymous pages such as the login page) Django's LocaleMiddleware
  decides from the language cookie or Accept-Language, then settings.LANGUAGE_CODE.
- The REST API and the platform callbacks always answer in English: their messages and codes are
  a contract, whatever language the caller's browser or profile prefers.
"""

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.contrib.auth.decorators import login_required
from django.dispatch import receiver
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from releases.models import UserPreference

SESSION_KEY = "sluice_language"
ENGLISH_ONLY_PREFIXES = ("/api/", "/callbacks/")


def supported(language: str) -> bool:
    return language in dict(settings.LANGUAGES)


def preferred_language(user) -> str:
    """The user's stored choice, or "" when they made none."""
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""


def set_preferred_language(user, language: str) -> None:
    if not supported(language):
        raise ValueError(f"Unsupported language {language!r}")
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})


@receiver(user_logged_in, dispatch_uid="sluice-language-at-login")
def _remember_language_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = preferred_language(user)


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: the user's language for pages, English for the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

    @staticmethod
    def _language(request) -> str:
        if request.path_info.startswith(ENGLISH_ONLY_PREFIXES):
            return settings.LANGUAGE_CODE
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ""
        if SESSION_KEY not in request.session:  # a session from before this feature: look it up once
            request.session[SESSION_KEY] = preferred_language(user)
        language = request.session[SESSION_KEY]
        return language if supported(language) else ""


@login_required
@require_POST
def switch_language(request):
    """The top bar's switcher: store the choice, then go back to the page it was pressed on."""
    language = request.POST.get("language", "")
    if not supported(language):
        return HttpResponseBadRequest("Unknown language.", content_type="text/plain; charset=utf-8")
    set_preferred_language(request.user, language)
    request.session[SESSION_KEY] = language
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = settings.LOGIN_REDIRECT_URL
    response = redirect(target)
    # The login page after logging out keeps speaking the same language.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
