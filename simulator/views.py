"""HTTP for the simulator: WeChat's API (thin: parse, authenticate, call `operations`, log) and the
reviewer console. Everything is a 404 unless settings.SIMULATOR is on, checked per request."""

import json
import random
import re
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from simulator import operations, pictures, services
from simulator.forms import DecisionForm, SettingsForm
from simulator.models import (
    SimCall,
    SimComponent,
    SimPush,
    SimSettings,
    SimSubmission,
    SimToken,
)
from simulator.operations import SimError

CALLS_SHOWN = 100
PUSHES_SHOWN = 50


def _require_simulator() -> None:
    if not settings.SIMULATOR:
        raise Http404("The simulator is off.")


# --- WeChat's API -------------------------------------------------------------------------------


def _parse_body(raw: str) -> dict | None:
    """None for an empty body; 47001 for anything that is not a JSON object."""
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise SimError(47001) from None
    if not isinstance(body, dict):
        raise SimError(47001)
    return body


def _inject_faults(conf: SimSettings) -> None:
    if conf.latency_ms:
        time.sleep(conf.latency_ms / 1000)
    if conf.error_rate_pct and random.randrange(100) < conf.error_rate_pct:
        raise SimError(-1)


def _answer(request, method: str, operation: Callable, auth: str, seen: dict) -> dict:
    """`auth`: "none" (component token call), "component" (authorizer token call) or "authorizer"
    (every /wxa/ call). `seen["appid"]` is set once the token names the mini-program, for the log."""
    _inject_faults(SimSettings.load())
    if request.method != method:
        raise SimError(43002 if method == "POST" else 43001)
    query = request.GET.dict()
    raw = request.body.decode("utf-8", errors="replace")
    if auth == "none":
        return operation(_parse_body(raw) or {})
    if auth == "component":
        token = query.get("component_access_token") or query.get("access_token", "")
        return operation(token, query if method == "GET" else _parse_body(raw) or {})
    authorizer = operations.resolve_token(query.get("access_token", ""), SimToken.Kind.AUTHORIZER).authorizer
    seen["appid"] = authorizer.appid
    if operation is operations.release:
        try:
            body = _parse_body(raw)
        except SimError:
            body = None  # anything but `{}` is 44002 for release
        return operation(authorizer, body)
    if method == "GET":
        return operation(authorizer, query)
    body = _parse_body(raw)
    if body is None:
        raise SimError(44002)
    return operation(authorizer, body)


def api_view(path: str, method: str, operation: Callable, auth: str = "authorizer") -> Callable:
    @csrf_exempt
    def view(request):
        _require_simulator()
        started, seen = time.monotonic(), {"appid": ""}
        try:
            response = _answer(request, method, operation, auth, seen)
        except SimError as error:
            response = {"errcode": error.errcode, "errmsg": error.errmsg}
        services.record_call(
            method=request.method,
            path=path,
            appid=seen["appid"] or _appid_in_body(request),
            query=request.GET.dict(),
            raw_body=request.body.decode("utf-8", errors="replace"),
            response=response,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return JsonResponse(response, json_dumps_params={"ensure_ascii": False})

    view.__name__ = "sim_" + path.replace("/", "_")
    return view


@csrf_exempt
def material_view(request, temporary: bool = False):
    """get_material (POST {"media_id"}) or the temporary media/get (GET ?media_id=): the picture's
    bytes as a file, or WeChat's JSON error."""
    _require_simulator()
    started, seen = time.monotonic(), {"appid": ""}
    path = "cgi-bin/media/get" if temporary else "cgi-bin/material/get_material"

    def fetch(authorizer, body_or_query):
        return operations.material(authorizer, (body_or_query or {}).get("media_id"))

    try:
        picture = _answer(request, "GET" if temporary else "POST", fetch, "authorizer", seen)
    except SimError as error:
        answer = {"errcode": error.errcode, "errmsg": error.errmsg}
        response = JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
    else:
        answer = {"file": f"image/png, {len(picture)} bytes"}
        response = HttpResponse(picture, content_type="image/png")
        response["Content-Disposition"] = 'attachment; filename="screenshot.png"'
    services.record_call(
        method=request.method,
        path=path,
        appid=seen["appid"],
        query=request.GET.dict(),
        raw_body=request.body.decode("utf-8", errors="replace"),
        response=answer,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return response


def _appid_in_body(request) -> str:
    """For the log of the token calls and of calls refused before the token was read."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("authorizer_appid") or body.get("component_appid") or "")


# --- the reviewer console -----------------------------------------------------------------------


def staff_only(view: Callable) -> Callable:
    @wraps(view)
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
    in_review = (
        SimSubmission.objects.filter(
            status__in=[SimSubmission.Status.IN_REVIEW, SimSubmission.Status.DELAYED]
        )
        .select_related("authorizer")
        .order_by("submitted_at", "pk")
    )
    decided = SimSubmission.objects.exclude(pk__in=in_review.values("pk")).select_related("authorizer")[:20]
    push_counts = dict(SimPush.objects.values_list("status").annotate(n=Count("pk")).order_by())
    components = SimComponent.objects.prefetch_related("authorizers").order_by("appid")
    return render(
        request,
        "simulator/console.html",
        {
            "in_review": [
                (s, DecisionForm(prefix=str(s.auditid)), services.fake_media_ids(2)) for s in in_review
            ],
            "decided": decided,
            "components": [(c, operations.quota(c)) for c in components],
            "calls": SimCall.objects.all()[:CALLS_SHOWN],
            "pushes": SimPush.objects.all()[:PUSHES_SHOWN],
            "push_counts": push_counts,
            "settings_form": SettingsForm(instance=SimSettings.load()),
            "catalogue": services.reason_catalogue(),
        },
    )


@staff_only
@require_POST
def decide(request, auditid: int):
    form = DecisionForm(request.POST, prefix=str(auditid))
    if not form.is_valid():
        messages.error(request, f"Audit {auditid}: " + " ".join(m for e in form.errors.values() for m in e))
        return redirect("simulator:console")
    try:
        submission = services.sim_decide(
            auditid=auditid,
            outcome=form.cleaned_data["outcome"],
            reason=form.reason(),
            screenshots=form.screenshot_ids(),
        )
    except services.SimRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Audit {auditid} is now {submission.get_status_display()}.")
    return redirect("simulator:console")


MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


@staff_only
def console_media(request, media_id: str):
    """The picture a screenshot media id stands for, for the reviewer's previews in the console."""
    if not MEDIA_ID.fullmatch(media_id):
        raise Http404("Not a media id.")
    response = HttpResponse(pictures.screenshot(media_id), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_only
@require_POST
def update_settings(request):
    form = SettingsForm(request.POST, instance=SimSettings.load())
    if not form.is_valid():
        messages.error(request, "Settings not saved: " + " ".join(m for e in form.errors.values() for m in e))
        return redirect("simulator:console")
    form.save()
    note = ""
    if form.cleaned_data["expire_tokens"]:
        note = f" {services.sim_expire_tokens()} token(s) expired."
    messages.success(request, "Simulator settings saved." + note)
    return redirect("simulator:console")


@staff_only
@require_POST
def push_tickets(request):
    for component in SimComponent.objects.all():
        services.sim_push_ticket(component.appid)
    messages.success(request, "A fresh component_verify_ticket was pushed to every platform.")
    return redirect("simulator:console")
