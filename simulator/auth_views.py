"""The simulated WeChat's pages for fleets: the authorization page an authorization link opens
(PC and mobile forms alike), the experience QR code (raw image bytes, like WeChat), and the
console's fleet form (more authorizers, a draft in the draft box)."""

import secrets
import time
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from releases.messages import localize
from simulator import fleet, services
from simulator.models import SimToken
from simulator.operations import SimError, resolve_token
from simulator.views import _require_simulator, staff_only

APPID_CHARS = "0123456789abcdef"


def _safe_redirect(uri: str) -> str | None:
    """Only an http(s) URL is followed (WeChat checks the domain against the platform's config)."""
    return uri if urlsplit(uri).scheme in ("http", "https") else None


def authorize_page(request):
    """GET: what the administrator sees after scanning (who asks, for which mini program).
    POST: they confirm; `authorized` is pushed and the browser goes to redirect_uri?auth_code=."""
    _require_simulator()
    params = request.POST if request.method == "POST" else request.GET
    component_appid, code = params.get("component_appid", ""), params.get("pre_auth_code", "")
    redirect_uri = _safe_redirect(params.get("redirect_uri", ""))
    context = {"component_appid": component_appid, "pre_auth_code": code, "redirect_uri": redirect_uri or ""}
    try:
        fleet.pre_auth_code_check(component_appid, code)
    except fleet.AuthorizationRefused as refused:
        return render(
            request, "simulator/authorize.html", {**context, "error": localize(str(refused))}, status=400
        )
    if request.method != "POST":
        context["appid"] = "wxsim" + "".join(secrets.choice(APPID_CHARS) for _ in range(11))
        return render(request, "simulator/authorize.html", context)
    appid = params.get("appid", "").strip()
    if not appid.isalnum() or not 3 <= len(appid) <= 32:
        return render(
            request,
            "simulator/authorize.html",
            {**context, "error": _("The appid must be letters and digits.")},
            status=400,
        )
    try:
        auth_code = fleet.sim_authorize(
            component_appid=component_appid,
            pre_auth_code=code,
            appid=appid,
            nick_name=params.get("nick_name", ""),
        )
    except fleet.AuthorizationRefused as refused:
        return render(
            request, "simulator/authorize.html", {**context, "error": localize(str(refused))}, status=400
        )
    if redirect_uri is None:
        return render(request, "simulator/authorize.html", {**context, "done": True})
    sep = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(
        f"{redirect_uri}{sep}{urlencode({'auth_code': auth_code, 'expires_in': 600})}"
    )


@csrf_exempt
def get_qrcode(request):
    """GET /wxa/get_qrcode?access_token=AAT[&path=]: image bytes, or a JSON error (§3.2)."""
    _require_simulator()
    started = time.monotonic()
    try:
        if request.method != "GET":
            raise SimError(43001)
        authorizer = resolve_token(request.GET.get("access_token", ""), SimToken.Kind.AUTHORIZER).authorizer
        image = fleet.get_qrcode(authorizer, request.GET.dict())
    except SimError as error:
        response = {"errcode": error.errcode, "errmsg": error.errmsg}
        _log(request, response, started)
        return JsonResponse(response)
    _log(request, {"errcode": 0, "errmsg": "ok", "bytes": len(image)}, started, appid=authorizer.appid)
    answer = HttpResponse(image, content_type="image/png")
    answer["Content-Disposition"] = 'attachment; filename="QRCode.png"'
    return answer


def _log(request, response: dict, started: float, appid: str = "") -> None:
    services.record_call(
        method=request.method,
        path="wxa/get_qrcode",
        appid=appid,
        query=request.GET.dict(),
        raw_body="",
        response=response,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


@staff_only
def fleet_settings(request):
    """Console: N more authorizers for a component, or a draft in its draft box."""
    if request.method == "POST":
        component = request.POST.get("component_appid", "")
        try:
            if request.POST.get("action") == "draft":
                draft = fleet.sim_add_draft(component, request.POST.get("user_version", "1.0.0")[:64], "")
                messages.success(request, f"Draft {draft.draft_id} added.")
            else:
                count = max(0, min(int(request.POST.get("count") or 0), 20000))
                total = fleet.sim_seed_authorizers(component, count)
                messages.success(request, f"{component} now has {total} authorizers.")
        except (ValueError, ObjectDoesNotExist) as exc:
            messages.error(request, str(exc))
    return redirect("simulator:console")
