"""The simulated Douyin's state and rules (douyin.md §2-§3), in the database (SimDouyinDoc) so the
web process that serves the API, the console, the demo seed and the tests all see one Douyin.

One JSON document per component app and per authorized mini program, changed under a row lock.
Times are time.time(), so a test can travel (time-machine) through token lifetimes and the
5-minute grace period a new component token gives the previous one.
"""

import secrets
import time
from contextlib import contextmanager

from django.db import transaction

from simulator.douyin.models import SimDouyinDoc

CAT_LIFETIME = 7200
CAT_GRACE = 300  # a new component token retires the previous one 5 minutes later
AAT_LIFETIME = 7200
AUDIT_INTERVAL = 10  # 11301: one submission per 10 seconds
HOSTS = ["douyin", "toutiao", "douyin_lite", "tt_lite", "xigua", "huoshan"]
HOST_NAMES = {
    "douyin": "抖音",
    "toutiao": "今日头条",
    "douyin_lite": "抖音lite",
    "tt_lite": "今日头条lite",
    "xigua": "西瓜视频",
    "huoshan": "抖音火山版",
}


class SimError(Exception):
    def __init__(self, err_no: int, err_msg: str = "") -> None:
        super().__init__(err_msg)
        self.err_no, self.err_msg = err_no, err_msg or MESSAGES.get(err_no, "error")


MESSAGES = {
    28001003: "access_token无效",
    28001007: "参数不合法",
    28001008: "access_token过期",
    28001018: "授权小程序未授予第三方小程序对应的调用权限",
    40001: "参数错误",
    40003: "找不到第三方小程序应用",
    40004: "找不到授权小程序",
    40021: "refresh_token 不正确或过期",
    40029: "模板不存在",
    40037: "无效 ticket",
    40038: "无效 secret",
    10003: "没有找到记录",
    11301: "提审太过频繁, 10 秒后重试",
    11302: "测试版本未找到",
    11303: "已有版本在审核中",
    11402: "审核版本未找到",
    11403: "审核中",
    11404: "未通过审核",
    11501: "回退太过频繁, 10 分钟后重试",
    11601: "已撤回",
    11603: "已处理完成不可撤回",
}


@contextmanager
def changing(kind: str, appid: str):
    """The document, saved on leaving; one writer at a time (the row is locked)."""
    with transaction.atomic():
        row = SimDouyinDoc.objects.select_for_update().filter(kind=kind, appid=appid).first()
        if row is None:
            raise SimError(40003 if kind == "component" else 40004)
        yield row.doc
        row.save(update_fields=["doc"])


def load(kind: str, appid: str) -> dict | None:
    row = SimDouyinDoc.objects.filter(kind=kind, appid=appid).first()
    return row.doc if row else None


def _save(kind: str, appid: str, doc: dict) -> None:
    SimDouyinDoc.objects.update_or_create(kind=kind, appid=appid, defaults={"doc": doc})


def _all(kind: str) -> list[dict]:
    return [row.doc for row in SimDouyinDoc.objects.filter(kind=kind).order_by("appid")]


def all_apps() -> list[dict]:
    return _all("app")


def register_component(
    *, appid: str, secret: str, token: str, key: str, auth_url: str, events_url: str
) -> None:
    doc = {
        "appid": appid,
        "secret": secret,
        "token": token,
        "key": key,
        "auth_url": auth_url,
        "events_url": events_url,
        "ticket": "",
        "tokens": [],  # newest last: {"token", "issued", "expires", "retires"}
        "fetches": 0,
    }
    _save("component", appid, doc)


def register_app(
    *, component_appid: str, appid: str, refresh_token: str, name: str = "", online: str = ""
) -> None:
    """An authorized mini program; `online` makes it already have a released version (rollbacks)."""
    doc = {
        "appid": appid,
        "name": name or appid,
        "component": component_appid,
        "refresh_token": refresh_token,
        "access_token": "",
        "access_expires": 0,
        "refreshes": 0,
        "permissions": [1, 2],
        "hosts": list(HOSTS[:4]),
        "latest": None,
        "audit": None,
        "current": {"version": online, "ctime": int(time.time())} if online else None,
        "previous": None,
        "can_rollback": False,
        "last_audit_at": 0,
        "calls": [],
    }
    _save("app", appid, doc)


def new_ticket(component_appid: str) -> str:
    with changing("component", component_appid) as doc:
        doc["ticket"] = "ticket-" + secrets.token_hex(16)
        return doc["ticket"]


# -- tokens ---------------------------------------------------------------------------------


def component_token(query: dict) -> dict:
    appid = query.get("component_appid", "")
    if not load("component", appid):
        raise SimError(40003)
    with changing("component", appid) as doc:
        if query.get("component_appsecret") != doc["secret"]:
            raise SimError(40038)
        if not doc["ticket"] or query.get("component_ticket") != doc["ticket"]:
            raise SimError(40037)
        now = time.time()
        if doc["tokens"]:
            doc["tokens"][-1]["retires"] = now + CAT_GRACE  # the previous token lives 5 more minutes
        token = "clt." + secrets.token_hex(16)
        doc["tokens"] = (doc["tokens"] + [{"token": token, "issued": now, "expires": now + CAT_LIFETIME}])[
            -2:
        ]
        doc["fetches"] += 1
        return {"component_access_token": token, "expires_in": CAT_LIFETIME}


def check_component_token(token: str) -> dict:
    """The component whose token this is; 28001003 unknown or retired, 28001008 expired."""
    now = time.time()
    for doc in _all("component"):
        for held in doc["tokens"]:
            if held["token"] == token:
                if held.get("retires") and held["retires"] <= now:
                    raise SimError(28001003)
                if held["expires"] <= now:
                    raise SimError(28001008)
                return doc
    raise SimError(28001003)


def issue_auth_code(appid: str) -> str:
    """What an AUTHORIZED push carries: a one-hour code for the app's first tokens."""
    with changing("app", appid) as doc:
        doc["auth_code"] = "code-" + secrets.token_hex(8)
        return doc["auth_code"]


def _matches(app: dict, component: dict, query: dict) -> bool:
    if app["component"] != component["appid"]:
        return False
    if query.get("grant_type") == "app_to_tp_authorization_code":
        return bool(app.get("auth_code")) and app.get("auth_code") == query.get("authorization_code")
    return app["refresh_token"] == query.get("authorizer_refresh_token", "")


def authorizer_token(component: dict, query: dict) -> dict:
    grant = query.get("grant_type")
    if grant not in ("app_to_tp_refresh_token", "app_to_tp_authorization_code"):
        raise SimError(40001, "无效 grant_type")
    for app in all_apps():
        if _matches(app, component, query):
            with changing("app", app["appid"]) as doc:
                # Single use: the old refresh and access tokens are cleared.
                doc["refresh_token"] = "rt." + secrets.token_hex(12)
                doc["access_token"] = "isvact." + secrets.token_hex(16)
                doc["access_expires"] = time.time() + AAT_LIFETIME
                doc["refreshes"] += 1
                doc["auth_code"] = ""  # a code works once
                return {
                    "authorizer_access_token": doc["access_token"],
                    "expires_in": AAT_LIFETIME,
                    "authorizer_refresh_token": doc["refresh_token"],
                    "refresh_expires_in": 2592000,
                    "authorizer_appid": doc["appid"],
                    "authorize_permission": [{"id": p} for p in doc["permissions"]],
                }
    raise SimError(40021)


def check_authorizer_token(token: str) -> str:
    for app in all_apps():
        if token and app["access_token"] == token:
            if app["access_expires"] <= time.time():
                raise SimError(28001008)
            if 1 not in app["permissions"]:
                raise SimError(28001018)
            return app["appid"]
    raise SimError(28001003)
