"""The audit events: their data as releases.services and releases.remediation write it, numbered,
HMAC-chained with the audit key and linked to the chain head, so `manage.py verify_audit` passes."""

import json
import random

from bench.scale.clock import django_json_datetime, dt, micros, platform_at
from bench.scale.rows import Rows
from bench.scale.shape import ACTIONS, DELAY_REASON, HUMAN
from bench.scale.tables import COPY_ESCAPES, Writer, copy_text, first_free_id
from bench.scale.world import World
from releases.audit import event_mac, head_values
from releases.audit_keys import signing_key
from releases.models import (
    DEFAULT_CHECKLIST,
    AuditChainHead,
    AuditEvent,
)


class _Hashable:
    """The attributes releases.audit.event_mac reads, without building a model instance."""

    __slots__ = (
        "at", "actor_id", "actor_name", "action", "from_state", "to_state", "target_type",
        "target_id", "team_id", "app_id", "release_id", "data", "ip",
    )  # fmt: skip


def app_level_events(world: World, rng: random.Random, events: list, start_us: int, extra: int) -> None:
    """platform_account_create, app_create, and app_update for whatever the target still asks."""
    for info in world.teams:
        for account in (info.wechat, info.manual):
            events.append(
                (
                    start_us - 60 * 86_400 * 1_000_000,
                    None,
                    None,
                    "platform_account_create",
                    info.admin,
                    account,
                )
            )
    for app_index, app in enumerate(world.apps):
        info = world.team_of_app[app_index]
        events.append((micros(app.created_at), None, app_index, "app_create", info.admin, None))
    for number in range(extra):
        app_index = number % len(world.apps)
        info = world.team_of_app[app_index]
        at = start_us + rng.randrange(world.now_us - start_us)
        events.append((at, None, app_index, "app_update", rng.choice(info.managers), number))


def _data(code: str, arg, at_us: int) -> dict:
    if code == "create":
        return {"version": arg[0]}
    if code == "checklist_confirm":
        key, label = DEFAULT_CHECKLIST[arg]
        return {"key": key, "label": label, "revision": 1}
    if code == "check":
        return {"check_run": arg}
    if code == "approve":
        return {"revision": 1, "comment": arg}
    if code == "submit":
        return {"revision": 1}
    if code == "submit_succeeded":
        return {"audit_id": arg}
    if code in ("submit_failed", "publish_failed"):
        return {"code": arg[0], "message": arg[1]}
    if code in ("review_approved", "review_rejected", "review_delayed"):
        source, audit_id = arg[0], arg[1]
        data = {}
        if source:
            screenshots = arg[2]["screenshots"] if code == "review_rejected" else []
            data = {"source": source, "screenshots": screenshots, "audit_id": audit_id}
            if code != "review_delayed":
                data["platform_at"] = platform_at(at_us)
        if code == "review_rejected":
            data["reason"] = arg[2]["reason"]
        elif code == "review_delayed":
            data["reason"] = DELAY_REASON
        return data
    if code == "remediation_planned":
        rejection, created, reopened = arg
        return {
            "rejection": rejection["id"],
            "categories": rejection["categories"],
            "created": created,
            "reopened": reopened,
        }
    if code == "remediation_done":
        return {"key": arg[0], "note": arg[1]}
    if code == "expire":
        return {"decided_at": None}  # replaced by the caller with the rejection's time
    return {}


def write_events(world: World, rows: Rows, events: list[tuple]) -> int:
    """Number, hash-chain and COPY the events (sorted by time); link them to the chain head."""
    writer = Writer(
        AuditEvent,
        [
            "id", "at", "actor_id", "actor_name", "action", "from_state", "to_state", "target_type",
            "target_id", "team_id", "app_id", "release_id", "data", "ip", "prev_hash", "hash", "key_id",
        ],
    )  # fmt: skip
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    key = signing_key()
    prev = head.last_hash
    next_id = first_free_id(AuditEvent)
    first_id = next_id
    usernames = world.usernames
    apps = world.apps
    decided_at: dict[int, int] = {}
    state_of: dict[int, str] = {}
    escape = COPY_ESCAPES
    ev = _Hashable()
    ev.ip = None
    for at_us, release_id, app_index, code, actor, arg in events:
        at = dt(at_us)
        if code in ("platform_account_create", "app_create", "app_update"):
            team_id, app_id = (
                (arg.team_id, None)
                if code == "platform_account_create"
                else (apps[app_index].team_id, apps[app_index].pk)
            )
            from_state = to_state = ""
            if code == "platform_account_create":
                target_type, target_id = "platformaccount", arg.pk
                data = {"name": arg.name, "platform": arg.platform}
            elif code == "app_create":
                target_type, target_id = "app", app_id
                data = {"name": apps[app_index].name, "appid": apps[app_index].appid}
            else:
                target_type, target_id = "app", app_id
                data = {
                    "before": {"privacy_policy_url": f"https://example.com/apps/{app_id}/privacy"},
                    "after": {"privacy_policy_url": f"https://example.com/apps/{app_id}/privacy?v={arg}"},
                }
            action = code
        else:
            app = apps[app_index]
            team_id, app_id = app.team_id, app.pk
            target_type, target_id = "release", release_id
            action = code
            from_state, to_state = ACTIONS[code]
            current = state_of.get(release_id, "")
            if from_state is None:
                from_state = current
            if code in ("remediation_planned", "remediation_done"):
                from_state = to_state = ""
            elif code == "cancel":
                from_state = current
            else:
                state_of[release_id] = to_state
            data = _data(code, arg, at_us)
            if code in ("review_approved", "review_rejected"):
                decided_at[release_id] = at_us
            if code == "expire":
                data = {"decided_at": django_json_datetime(dt(decided_at[release_id]))}
            if code == "review_rejected":
                arg[2]["event_id"] = next_id
        ev.at = at
        ev.actor_id = actor
        ev.actor_name = usernames.get(actor, "") if actor is not None else ""
        ev.action = action
        ev.from_state = str(from_state)
        ev.to_state = str(to_state)
        ev.target_type = target_type
        ev.target_id = target_id
        ev.team_id = team_id
        ev.app_id = app_id
        ev.release_id = release_id
        ev.data = data
        ip = (
            f"10.{20 + team_id % 200}.{actor % 250}.{(at_us // 1_000_000) % 250 + 1}"
            if actor is not None and action in HUMAN
            else None
        )
        ev.ip = ip
        digest = event_mac(ev, prev, key)
        if not writer.postgres:
            writer.add(
                (next_id, at, actor, ev.actor_name, action, ev.from_state, ev.to_state, target_type)
                + (target_id, team_id, app_id, release_id, data, ip, prev, digest, key.id)
            )
            prev = digest
            next_id += 1
            continue
        writer.add_line(
            "\t".join(
                (
                    str(next_id), at.isoformat(), "\\N" if actor is None else str(actor),
                    ev.actor_name.translate(escape), action, ev.from_state, ev.to_state, target_type,
                    copy_text(target_id), copy_text(team_id), copy_text(app_id), copy_text(release_id),
                    json.dumps(data, ensure_ascii=False).translate(escape), copy_text(ip),
                    prev, digest, key.id,
                )
            )
        )  # fmt: skip
        prev = digest
        next_id += 1
    writer.flush()
    count = next_id - first_id
    if count:  # the head only moves forward (a trigger refuses an update that does not add events)
        AuditChainHead.objects.filter(pk=1).update(**head_values(head.count + count, prev, key))
    return count
