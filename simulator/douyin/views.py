"""HTTP for the simulated Douyin: its v2 paths and envelope, and the reviewer console.
Everything is a 404 unless settings.SIMULATOR is on, checked per request."""

import json
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from simulator.douyin import operations as op
from simulator.douyin import state
from simulator.douyin.state import SimError


def _require_simulator() -> None:
    if not settings.SIMULATOR:
        raise Http404("The simulator is off.")


def _envelope(data: dict | None = None, err_no: int = 0, err_msg: str = "") -> JsonResponse:
    return JsonResponse(
        {"err_no": err_no, "err_msg": err_msg, "log_id": "sim" + secrets.token_hex(6), "data": data or {}},
        json_dumps_params={"ensure_ascii": False},
    )


def _body(request) -> dict:
    raw = request.body.decode("utf-8", errors="replace").strip()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise SimError(40001, "请求体不是 JSON") from None
    if not isinstance(body, dict):
        raise SimError(40001, "请求体须为对象")
    return body


@csrf_exempt
def component_token(request):
    """Bare fields on success, errno/message on error (douyin.md §2.1)."""
    _require_simulator()
    try:
        return JsonResponse(state.component_token(request.GET.dict()))
    except SimError as exc:
        return JsonResponse({"errno": exc.err_no, "message": exc.err_msg})


@csrf_exempt
def auth_token(request):
    _require_simulator()
    try:
        component = state.check_component_token(request.headers.get("access-token", ""))
        return _envelope(state.authorizer_token(component, request.GET.dict()))
    except SimError as exc:
        return _envelope(err_no=exc.err_no, err_msg=exc.err_msg)


def app_api(method: str, operation: Callable, *, takes_body: bool = False) -> Callable:
    @csrf_exempt
    def view(request):
        _require_simulator()
        try:
            if request.method != method:
                raise SimError(40001, f"须用 {method}")
            appid = state.check_authorizer_token(request.headers.get("access-token", ""))
            data = operation(appid, _body(request)) if takes_body else operation(appid)
            return _envelope(data)
        except SimError as exc:
            return _envelope(err_no=exc.err_no, err_msg=exc.err_msg)

    return view


def staff_only(view: Callable) -> Callable:
    def wrapped(request, *args, **kwargs):
        _require_simulator()
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("Only staff users can use the simulator's reviewer console.")
        return view(request, *args, **kwargs)

    return wrapped


@staff_only
def console(request):
    return render(request, "simulator/douyin_console.html", {"apps": state.all_apps()})


@staff_only
@require_POST
def decide(request, appid: str):
    approve = request.POST.get("decision") == "approve"
    reason = request.POST.get("reason", "").strip() or _(
        "The mini program's service category does not match."
    )
    try:
        op.decide(appid, approve=approve, reason=reason, push="push" in request.POST)
    except SimError as exc:
        messages.error(request, f"{exc.err_no} {exc.err_msg}")
    else:
        messages.success(request, _("Decided; PACKAGE_AUDIT pushed.") if approve else _("Rejected; pushed."))
    return redirect("douyin_sim:console")
