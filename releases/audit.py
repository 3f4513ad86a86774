"""The audit trail: one keyed, hash-chained row per change, written in the change's transaction.

Each event stores the hash of the previous one and its own hash, an HMAC-SHA256 of its content
and that link under a key from SLUICE_AUDIT_KEYS (releases/audit_keys.py), named by `key_id`.
Rows written before the chain was keyed have an empty `key_id` and a plain SHA-256; they verify
as legacy up to the first keyed event, never after it. The chain head (one row) holds the count
and the last hash, signed with the same keys, so it can neither be rewound nor made to agree with
a rewritten chain without the key. Checkpoints written outside the database
(releases/audit_checkpoints.py) pin the chain as it was, against someone who has the key too.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from releases.audit_keys import AuditKey, head_message, key_by_id, signing_key
from releases.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _canonical(event: AuditEvent, prev_hash: str, key_id: str = "") -> bytes:
    payload = {
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "team_id": event.team_id,
        "app_id": event.app_id,
        "release_id": event.release_id,
        "data": event.data,
        "ip": event.ip,
        "prev_hash": prev_hash,
    }
    if key_id:  # legacy rows were hashed without it; keyed ones bind their key
        payload["key_id"] = key_id
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder).encode()


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """The legacy, unkeyed hash (rows written before SLUICE_AUDIT_KEYS): verification only."""
    return hashlib.sha256(_canonical(event, prev_hash)).hexdigest()


def event_mac(event: AuditEvent, prev_hash: str, key: AuditKey) -> str:
    return key.sign(_canonical(event, prev_hash, key.id))


def head_values(count: int, last_hash: str, key: AuditKey) -> dict:
    """The chain head's fields for `count` events ending in `last_hash`, signed with `key`."""
    mac = key.sign(head_message(count, last_hash))
    return {"count": count, "last_hash": last_hash, "key_id": key.id, "mac": mac}


def _lock_head() -> tuple[str, int]:
    """Serialise writers on the chain head so two transactions never link to the same parent.

    SELECT ... FOR UPDATE holds the row lock on PostgreSQL until commit; on SQLite every
    transaction is IMMEDIATE (see settings), so it already holds the database write lock. The
    head exists from the migrations on; it is created here only after a flush (tests).
    """
    head = AuditChainHead.objects.select_for_update().filter(pk=1).values_list("last_hash", "count")
    found = head.first()
    if found is None:
        AuditChainHead.objects.get_or_create(pk=1)
        found = head.first()
    return found


def _chain_and_save(event: AuditEvent) -> None:
    """Link, sign and insert the event, and move the head: the one part that runs under the lock."""
    key = signing_key()
    last_hash, count = _lock_head()
    event.prev_hash = last_hash
    event.key_id = key.id
    event.hash = event_mac(event, last_hash, key)
    event.save()
    AuditChainHead.objects.filter(pk=1).update(**head_values(count + 1, event.hash, key))


def audit_record(
    *,
    action: str,
    actor=None,
    target=None,
    release=None,
    app=None,
    team_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    target = target if target is not None else release if release is not None else app
    if release is not None:
        app = release.app
    if app is not None and team_id is None:
        team_id = app.team_id
    event = AuditEvent(
        at=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_name=getattr(actor, "username", "") if actor is not None else "",
        action=action,
        from_state=from_state,
        to_state=to_state,
        target_type=target._meta.model_name if target is not None else "",
        target_id=getattr(target, "pk", None),
        team_id=team_id,
        app_id=getattr(app, "pk", None),
        release_id=getattr(release, "pk", None),
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        ip=ip,
    )
    _chain_and_save(event)
    return event


# -- verification ------------------------------------------------------------------------------


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str = ""
    legacy: int = 0  # events from before the chain was keyed, verified by their plain hash
    checkpoints: int = 0  # checkpoints the chain was found to agree with

    @property
    def ok(self) -> bool:
        return not self.problem


@contextmanager
def one_snapshot():
    """One consistent view of the trail for a walk or a checkpoint.

    On PostgreSQL, outside a transaction, a REPEATABLE READ one: events appended by others while
    the walk runs (minutes at scale) neither appear half-way nor put the head ahead of the rows
    read. On SQLite a transaction already reads one snapshot.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    with transaction.atomic():
        yield


def _events(batch: int = 5000) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=batch)


def event_problem(event: AuditEvent, prev: str, keyed: bool) -> str:
    if event.prev_hash != prev:
        return "its link to the previous event is broken"
    if not event.key_id:
        if keyed:
            return "it is unsigned, after events signed with a key (rewritten without the key)"
        return "" if event_hash(event, prev) == event.hash else "its content does not match its hash"
    key = key_by_id(event.key_id)
    if key is None:
        return f"it is signed with key {event.key_id}, which SLUICE_AUDIT_KEYS does not hold"
    if not key.verifies(_canonical(event, prev, key.id), event.hash):
        return "its content does not match its hash"
    return ""


def head_problem(head: AuditChainHead | None, count: int, last_hash: str) -> str:
    """Why the chain head does not vouch for `count` events ending in `last_hash` ("" if it does)."""
    if head is None:
        return "" if count == 0 else "the chain head is missing"
    if head.last_hash != last_hash or head.count != count:
        return f"events after #{count} are missing (the chain head disagrees: it counts {head.count})"
    if not head.key_id:
        return "" if count == 0 else "the chain head is not signed"
    key = key_by_id(head.key_id)
    if key is None:
        return f"the chain head is signed with key {head.key_id}, which SLUICE_AUDIT_KEYS does not hold"
    if not key.verifies(head_message(head.count, head.last_hash), head.mac):
        return "the chain head's signature does not match it (it was rewritten)"
    return ""


def audit_verify(checkpoints: Iterable = ()) -> ChainReport:
    """Walk the chain in order and name the first event whose hash, link or key does not hold.

    With checkpoints (releases/audit_checkpoints.Checkpoint), the event at each checkpoint's
    position must carry the hash it recorded: a chain recomputed since, even with the key,
    does not.
    """
    pinned = {}
    for point in checkpoints:
        pinned.setdefault(point.count, []).append(point)
    prev, checked, legacy = GENESIS, 0, 0
    matched = 0
    with transaction.atomic():
        for event in _events():
            problem = event_problem(event, prev, keyed=checked > legacy)
            if problem:
                return ChainReport(checked, event.id, problem, legacy)
            prev = event.hash
            checked += 1
            legacy += not event.key_id
            for point in pinned.get(checked, ()):
                if point.head != event.hash:
                    problem = (
                        f"the chain up to it differs from the checkpoint of {point.at} (it was recomputed)"
                    )
                    return ChainReport(checked - 1, event.id, problem, legacy, matched)
                matched += 1
        missing = [point for count, points in pinned.items() if count > checked for point in points]
        if missing:
            seen = max(missing, key=lambda point: point.count)
            problem = (
                f"events were removed: the checkpoint of {seen.at} saw {seen.count}, the chain has {checked}"
            )
            return ChainReport(checked, None, problem, legacy, matched)
        problem = head_problem(AuditChainHead.objects.filter(pk=1).first(), checked, prev)
    return ChainReport(checked, None, problem, legacy, matched)
