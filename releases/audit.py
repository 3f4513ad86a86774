"""The audit trail: one hash-chained row per change, written in the change's transaction."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from releases.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _canonical(event: AuditEvent, prev_hash: str) -> bytes:
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
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder).encode()


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(event, prev_hash)).hexdigest()


def _lock_head() -> AuditChainHead:
    """Serialise writers on the chain head so two transactions never link to the same parent.

    SELECT ... FOR UPDATE holds the row lock on PostgreSQL until commit; on SQLite every
    transaction is IMMEDIATE (see settings), so it already holds the database write lock.
    """
    AuditChainHead.objects.get_or_create(pk=1)
    return AuditChainHead.objects.select_for_update().get(pk=1)


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
    head = _lock_head()
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
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event, head.last_hash)
    event.save()
    AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash, count=head.count + 1)
    return event


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _events(batch: int = 5000) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=batch)


def audit_verify() -> ChainReport:
    """Walk the chain in order and name the first event whose hash or link does not hold."""
    prev = GENESIS
    checked = 0
    with transaction.atomic():
        for event in _events():
            if event.prev_hash != prev:
                return ChainReport(checked, event.id, "its link to the previous event is broken")
            if event_hash(event, prev) != event.hash:
                return ChainReport(checked, event.id, "its content does not match its hash")
            prev = event.hash
            checked += 1
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is not None and head.last_hash != prev:
            return ChainReport(
                checked, None, f"events after #{checked} are missing (the chain head disagrees)"
            )
    return ChainReport(checked)
