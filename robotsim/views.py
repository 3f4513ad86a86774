"""The robots' webhook endpoints and the page that shows what they received.

Each endpoint checks what the vendor checks, in the vendor's words (team-chat-robots.md): the key
or token (WeCom 93000), the signature and its timestamp (DingTalk 310000, Feishu 19021), the rate
(20 a minute: WeCom 45009, DingTalk 130101) and the message type. Everything answers 404 unless
settings.SIMULATOR is on. The page needs a login, like the rest of the demo.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from robotsim.models import Received, Robot

PER_MINUTE = 20
SHOWN = 50


def _simulator_on() -> None:
    if not settings.SIMULATOR:
        raise Http404("The simulator is off.")


def _body(request) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _too_fast(robot: Robot) -> bool:
    since = timezone.now() - timedelta(seconds=60)
    return robot.received.filter(at__gte=since, accepted=True).count() >= PER_MINUTE


def _keep(robot: Robot, body: dict, answer: dict, accepted: bool) -> JsonResponse:
    Received.objects.create(robot=robot, body=body, answer=answer, accepted=accepted)
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def wecom(request):
    _simulator_on()
    robot = Robot.objects.filter(vendor=Robot.Vendor.WECOM, key=request.GET.get("key", "")).first()
    if robot is None:
        hint = "invalid webhook url, hint: [sim], more info at https://open.work.weixin.qq.com/devtool/query?e=93000"
        return JsonResponse({"errcode": 93000, "errmsg": hint})
    body = _body(request)
    if body is None or body.get("msgtype") not in ("text", "markdown", "template_card", "news"):
        return _keep(robot, body or {}, {"errcode": 40008, "errmsg": "invalid message type"}, False)
    content = (body.get(body["msgtype"]) or {}).get("content", "x")
    if not content:
        return _keep(robot, body, {"errcode": 44004, "errmsg": "empty content"}, False)
    if _too_fast(robot):
        return _keep(robot, body, {"errcode": 45009, "errmsg": "api freq out of limit"}, False)
    return _keep(robot, body, {"errcode": 0, "errmsg": "ok"}, True)


def _dingtalk_sign(secret: str, timestamp: str) -> str:
    raw = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(raw).decode()


@csrf_exempt
@require_POST
def dingtalk(request):
    _simulator_on()
    robot = Robot.objects.filter(
        vendor=Robot.Vendor.DINGTALK, key=request.GET.get("access_token", "")
    ).first()
    if robot is None:
        return JsonResponse({"errcode": 300001, "errmsg": "token is not exist"})
    body = _body(request) or {}
    timestamp, sign = request.GET.get("timestamp", ""), request.GET.get("sign", "")
    if robot.secret:
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
            return _keep(robot, body, {"errcode": 310000, "errmsg": "invalid timestamp"}, False)
        if not hmac.compare_digest(sign, _dingtalk_sign(robot.secret, timestamp)):
            return _keep(robot, body, {"errcode": 310000, "errmsg": "sign not match"}, False)
    if body.get("msgtype") not in ("text", "markdown", "link", "actionCard", "feedCard"):
        return _keep(robot, body, {"errcode": 40035, "errmsg": "缺少参数 json"}, False)
    if _too_fast(robot):
        return _keep(
            robot, body, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}, False
        )
    return _keep(robot, body, {"errcode": 0, "errmsg": "ok"}, True)


@csrf_exempt
@require_POST
def feishu(request, hook: str):
    _simulator_on()
    robot = Robot.objects.filter(vendor=Robot.Vendor.FEISHU, key=hook).first()
    if robot is None:
        return JsonResponse({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
    body = _body(request)
    if body is None:
        return JsonResponse({"code": 9499, "msg": "Bad Request", "data": {}})
    if robot.secret:
        timestamp = str(body.get("timestamp", ""))
        mac = hmac.new(f"{timestamp}\n{robot.secret}".encode(), b"", hashlib.sha256).digest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 3600
        if not fresh or not hmac.compare_digest(str(body.get("sign", "")), base64.b64encode(mac).decode()):
            answer = {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
            return _keep(robot, body, answer, False)
    if body.get("msg_type") not in ("text", "post", "image", "share_chat", "interactive"):
        return _keep(robot, body, {"code": 9499, "msg": "Bad Request", "data": {}}, False)
    return _keep(robot, body, {"code": 0, "msg": "success", "data": {}}, True)


# -- what the chat apps would display --------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|/)[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_FONT = re.compile(r"&lt;font color=&quot;(info|comment|warning)&quot;&gt;(.*?)&lt;/font&gt;")


def markdown(text: str) -> str:
    """The robots' markdown subset as HTML, escaped first: headings, quotes, lists, bold, links,
    WeCom's three font colours."""
    lines = []
    for line in escape(text).split("\n"):
        line = _FONT.sub(r'<span class="font-\1">\2</span>', line)
        line = _BOLD.sub(r"<strong>\1</strong>", line)
        line = _LINK.sub(r'<a href="\2">\1</a>', line)
        if line.startswith("#"):
            line = f"<h4>{line.lstrip('#').strip()}</h4>"
        elif line.startswith("&gt; "):
            line = f'<div class="quote">{line[5:]}</div>'
        elif line.startswith("- "):
            line = f'<div class="item">• {line[2:]}</div>'
        elif line:
            line = f"<div>{line}</div>"
        lines.append(line)
    return "\n".join(lines)  # built from escaped text only; display() marks the whole safe


def display(item: Received) -> dict:
    """What the chat would show: a title, the body as HTML, a button, who is @-ed."""
    body, vendor = item.body, item.robot.vendor
    shown = {"title": "", "html": "", "button": None, "mentions": [], "tone": "info"}
    if vendor == Robot.Vendor.FEISHU and body.get("msg_type") == "interactive":
        card = body.get("card", {})
        shown["title"] = card.get("header", {}).get("title", {}).get("content", "")
        shown["tone"] = card.get("header", {}).get("template", "blue")
        for element in card.get("elements", []):
            if element.get("tag") == "div":
                shown["html"] += markdown(element.get("text", {}).get("content", ""))
            for action in element.get("actions", []):
                shown["button"] = {
                    "text": action.get("text", {}).get("content", ""),
                    "url": action.get("url", ""),
                }
    elif body.get("msgtype") == "markdown":
        part = body.get("markdown", {})
        shown["title"] = part.get("title", "")
        shown["html"] = markdown(part.get("content") or part.get("text", ""))
        shown["mentions"] = body.get("at", {}).get("atMobiles", [])
    elif body.get("msgtype") == "text":
        shown["html"] = markdown(body.get("text", {}).get("content", ""))
        shown["mentions"] = body.get("text", {}).get("mentioned_mobile_list", [])
    else:
        shown["html"] = markdown(json.dumps(body, ensure_ascii=False))
    shown["html"] = mark_safe(shown["html"])  # noqa: S308 -- markdown() escaped every input first
    return shown


@login_required
def inbox(request):
    _simulator_on()
    received = list(Received.objects.select_related("robot")[:SHOWN])
    rows = [{"item": item, "shown": display(item)} for item in received]
    base = request.build_absolute_uri("/sim/robots").rstrip("/")
    paths = {
        "wecom": "/wecom/cgi-bin/webhook/send?key={}",
        "dingtalk": "/dingtalk/robot/send?access_token={}",
        "feishu": "/feishu/open-apis/bot/v2/hook/{}",
    }
    robots = [
        (robot, base + paths[robot.vendor].format(robot.key))
        for robot in Robot.objects.order_by("vendor", "name")
    ]
    return render(request, "robotsim/inbox.html", {"rows": rows, "robots": robots})
