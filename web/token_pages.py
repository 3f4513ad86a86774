"""API tokens for CI (issue 15): a person makes one, names it, sees it once, revokes it.

The new token is shown in the answer to the POST that made it, never stored in the session or
a flash message (both outlive the page), and the page is sent with no-store so the browser's
back button does not bring it back either.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases.errors import SluiceError
from releases.models import ApiToken
from releases.tokens import api_token_issue, api_token_revoke
from web.onboarding_forms import TokenForm
from web.page_helpers import request_ip


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        new_token = api_token_issue(user=request.user, name=form.cleaned_data["name"], ip=request_ip(request))
        form = TokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
        "api_url": request.build_absolute_uri("/api/v1/"),
    }
    response = render(
        request, "web/tokens.html", context, status=400 if form.is_bound and form.errors else 200
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        api_token_revoke(user=request.user, token_id=token_id, ip=request_ip(request))
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token revoked: it no longer works."))
    return redirect("web:tokens")
