"""The simulated Douyin's code management (douyin.md §3): upload, hosts, audit, revoke, versions,
release, rollback, with its error codes and audit states 0-3; and the reviewer's decision, pushed
as PACKAGE_AUDIT to the component's message URL (signed and encrypted as Douyin does)."""

import json
import logging
import secrets
import time

import httpx

from reviews.platforms.douyin.crypto import encrypted_envelope
from reviews.platforms.douyin.events import format_beijing
from simulator.douyin.state import AUDIT_INTERVAL, HOST_NAMES, SimError, changing, load

logger = logging.getLogger(__name__)


def _version(doc: dict, stage: str) -> dict | None:
    return doc.get(stage)


def upload(appid: str, body: dict) -> dict:
    for name in ("template_id", "user_version", "user_desc", "ext_json"):
        if body.get(name) in (None, ""):
            raise SimError(40001, f"{name} 缺失")
    if not isinstance(body["template_id"], int) or body["template_id"] <= 0:
        raise SimError(40029)
    if not isinstance(body["ext_json"], str):
        raise SimError(40001, "ext_json 须为字符串")
    try:
        json.loads(body["ext_json"])
    except ValueError:
        raise SimError(40001, "ext_json 不是 JSON") from None
    with changing("app", appid) as doc:
        doc["latest"] = {
            "version": str(body["user_version"]),
            "summary": str(body["user_desc"]),
            "template_id": body["template_id"],
            "ext_json": body["ext_json"],
            "ctime": int(time.time()),
            "has_audit": 0,
        }
    return {}


def audit_hosts(appid: str) -> dict:
    doc = load("app", appid)
    released = list((doc.get("current") or {}).get("hosts") or [])
    return {"host_names": doc["hosts"], "released_host_names": released}


def audit(appid: str, body: dict) -> dict:
    hosts = body.get("host_names")
    if not isinstance(hosts, list) or not hosts:
        raise SimError(40001, "host_names 必填")
    with changing("app", appid) as doc:
        if set(hosts) - set(doc["hosts"]):
            raise SimError(40001, "host_names 不在可选宿主端内")
        if not doc["latest"]:
            raise SimError(11302)
        if doc["audit"] and doc["audit"]["status"] == 0:
            raise SimError(11303)
        now = int(time.time())
        if now - doc["last_audit_at"] < AUDIT_INTERVAL:
            raise SimError(11301)
        ctime = max(now, (doc["audit"] or {}).get("ctime", 0) + 1)  # grows, even within a second
        doc["last_audit_at"] = now
        doc["latest"]["has_audit"] = 1
        doc["audit"] = {
            **{k: doc["latest"][k] for k in ("version", "summary", "template_id")},
            "ctime": ctime,
            "status": 0,
            "hosts": hosts,
            "audit_note": str(body.get("audit_note") or "")[:200],
            "reason": "",
            "reason_detail": {},
            "approved_apps": [],
            "has_publish": 0,
            "is_illegal_version": False,
        }
    return {}


def revoke_audit(appid: str) -> dict:
    with changing("app", appid) as doc:
        audit = doc["audit"]
        if not audit:
            raise SimError(11402)
        if audit["status"] == 3:
            raise SimError(11601)
        if audit["status"] != 0:
            raise SimError(11603)
        audit["status"] = 3
    return {}


def release(appid: str) -> dict:
    with changing("app", appid) as doc:
        audit = doc["audit"]
        if not audit or audit.get("has_publish") or audit["status"] == 3:
            raise SimError(11402)
        if audit["status"] == 0:
            raise SimError(11403)
        if audit["status"] != 1:
            raise SimError(11404)
        audit["has_publish"] = 1
        doc["previous"] = doc["current"]
        doc["current"] = {"version": audit["version"], "ctime": int(time.time()), "hosts": audit["hosts"]}
        doc["can_rollback"] = doc["previous"] is not None  # never from the first version
    return {}


def rollback(appid: str) -> dict:
    with changing("app", appid) as doc:
        if not doc["can_rollback"] or not doc["previous"]:
            raise SimError(10003)
        doc["current"], doc["previous"] = doc["previous"], None
        doc["can_rollback"] = False  # at most one rollback per release
    return {}


def _common(version: dict) -> dict:
    return {
        "version": version["version"],
        "summary": version.get("summary", ""),
        "ctime": version["ctime"],
        "categories": [],
        "developer_id": "sim",
        "developer_name": "Sluice",
    }


def versions(appid: str) -> dict:
    doc = load("app", appid)
    data = {}
    if doc["latest"]:
        data["latest"] = {**_common(doc["latest"]), "has_audit": doc["latest"]["has_audit"], "screenshot": ""}
    if doc["audit"]:
        audit = doc["audit"]
        data["audit"] = {
            **_common(audit),
            "status": audit["status"],
            "approved_apps": audit["approved_apps"],
            "reason": audit["reason"],
            "reason_detail": audit["reason_detail"],
            "attachInfo": {},  # Douyin's sample mixes the casings (douyin.md §3.6)
            "has_publish": audit["has_publish"],
            "is_illegal_version": audit["is_illegal_version"],
        }
    if doc["current"]:
        last = (doc["previous"] or {}).get("version", "")
        data["current"] = {
            **_common(doc["current"]),
            "approved_apps": [HOST_NAMES.get(h, h) for h in doc["current"].get("hosts") or []],
            "not_approved_apps": [],
            "has_down": 0,
            "rollback": {"can_rollback": doc["can_rollback"], "last_version": last},
        }
    return data


# -- the reviewer -----------------------------------------------------------------------------


def decide(appid: str, *, approve: bool, reason: str = "", push: bool = True) -> None:
    """Decide the audit in review and push PACKAGE_AUDIT (unless `push` is off: a lost push)."""
    with changing("app", appid) as doc:
        audit = doc["audit"]
        if not audit or audit["status"] != 0:
            raise SimError(11402, "没有审核中的版本")
        audit["status"] = 1 if approve else 2
        names = [HOST_NAMES.get(h, h) for h in audit["hosts"]]
        audit["approved_apps"] = names if approve else []
        audit["reason"] = "" if approve else reason
        audit["reason_detail"] = {} if approve else {names[0]: [reason]}
        hosts = audit["hosts"]
    if push:
        results = [
            {
                "hostName": host,
                "status": 1 if approve else 0,
                "reason": [] if approve else [reason],
                "auditDetail": None
                if approve
                else [{"reason": reason, "modifyGuide": None, "detailFile": ""}],
            }
            for host in hosts
        ]
        send(doc["component"], "events", {"AppId": appid, "Event": "PACKAGE_AUDIT", "AuditResults": results})


def push_ticket(component_appid: str) -> str:
    from simulator.douyin.state import new_ticket

    ticket = new_ticket(component_appid)
    send(
        component_appid,
        "auth",
        {
            "Ticket": ticket,
            "FromUserName": "ByteDanceMicroApp",
            "CreateTime": format_beijing_now(),
            "MsgType": "Ticket",
            "Event": "PUSH",
        },
    )
    return ticket


def format_beijing_now() -> str:
    from datetime import UTC, datetime

    return format_beijing(datetime.now(tz=UTC))


def send(component_appid: str, url_kind: str, message: dict) -> int | None:
    """POST one push as Douyin does; the status Sluice answered (None: unreachable)."""
    component = load("component", component_appid)
    url = component["auth_url" if url_kind == "auth" else "events_url"]
    if not url:
        return None
    if url_kind == "events":
        message = {"TpAppId": component_appid, "EventTime": format_beijing_now(), **message}
    body = encrypted_envelope(
        json.dumps(message, ensure_ascii=False),
        token=component["token"],
        encoding_aes_key=component["key"],
        appid=component_appid,
        timestamp=str(int(time.time())),
        nonce=str(secrets.randbelow(10**9)),
    )
    try:
        response = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
    except httpx.HTTPError as exc:
        logger.warning("The simulated Douyin could not push to %s: %s", url, exc)
        return None
    return response.status_code
