"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint is one JSON line: how many events the chain had, the last one's hash and id, when,
and an HMAC over those under the audit key (the same key family as the events, another purpose).
Kept where the database's users cannot write (a directory on other storage, a log shipper
reading `manage.py audit_checkpoint`), it pins the chain as it was: `verify_audit --checkpoint
FILE` then notices a chain recomputed since, even by someone holding the key, and events removed
from its end, which the chain alone cannot show.

A checkpoint is only taken of a head that holds: its signature, and the newest event's link and
signature, are checked first, so a checkpoint never vouches for a head someone forged.
"""

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from releases.audit import GENESIS, event_problem, head_problem, one_snapshot
from releases.audit_keys import CHECKPOINT, key_by_id, signing_key
from releases.models import AuditChainHead, AuditEvent

VERSION = 1
# config/cron.py writes one this often: events removed from the end of the chain after the last
# checkpoint cannot be told from events never written, so this is the window that stays open.
CHECKPOINT_EVERY_SECONDS = 300


class CheckpointError(Exception):
    """A checkpoint that cannot be taken, or a line that is not a valid checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    last_id: int | None
    at: str
    key_id: str = ""
    mac: str = ""

    def message(self) -> bytes:
        fields = {"v": VERSION, "count": self.count, "head": self.head, "last_id": self.last_id}
        fields["at"] = self.at
        return CHECKPOINT + json.dumps(fields, sort_keys=True).encode()

    def line(self) -> str:
        return json.dumps({"v": VERSION, **asdict(self)}, sort_keys=True)


def checkpoint_take() -> Checkpoint:
    """Sign the chain head as it stands now, after checking that it and the newest event hold."""
    with one_snapshot():
        head = AuditChainHead.objects.filter(pk=1).first()
        newest = AuditEvent.objects.order_by("-id").first()
        last_hash = newest.hash if newest is not None else GENESIS
        count = head.count if head is not None else 0
        problem = head_problem(head, count, last_hash)
        if not problem and newest is not None:
            problem = event_problem(newest, newest.prev_hash, keyed=bool(newest.key_id))
            problem = problem and f"event #{newest.id}: {problem}"
    if problem:
        raise CheckpointError(f"No checkpoint taken: {problem}. Run manage.py verify_audit.")
    key = signing_key()
    at = timezone.now().astimezone(UTC).isoformat(timespec="seconds")
    unsigned = Checkpoint(count, last_hash, newest.id if newest else None, at, key.id)
    return Checkpoint(**{**asdict(unsigned), "mac": key.sign(unsigned.message())})


def checkpoint_write(directory: str | os.PathLike) -> Path:
    """Append a checkpoint to this month's file in `directory` (created if missing)."""
    point = checkpoint_take()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sluice-audit-checkpoints-{point.at[:7]}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        out.write(point.line() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def checkpoint_job() -> dict:
    """RQ entry point for config/cron.py: a checkpoint into SLUICE_AUDIT_CHECKPOINT_DIR, if set."""
    if not settings.SLUICE_AUDIT_CHECKPOINT_DIR:
        return {"written": False}
    path = checkpoint_write(settings.SLUICE_AUDIT_CHECKPOINT_DIR)
    return {"written": True, "file": path.name}


def parse(lines: Iterable[str], source: str = "checkpoint") -> list[Checkpoint]:
    """Checkpoints from JSON lines; a line that is malformed or not signed by a configured key
    is an error naming it, never skipped (a forged line must not pass for a missing one)."""
    points = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{source}, line {number}"
        try:
            raw = json.loads(text)
            if raw.pop("v") != VERSION:
                raise ValueError("unknown version")
            point = Checkpoint(**raw)
            datetime.fromisoformat(point.at)
            valid = isinstance(point.count, int) and point.count >= 0 and len(point.head) == 64
            valid = valid and isinstance(point.mac, str) and isinstance(point.key_id, str)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise CheckpointError(f"{where} is not an audit checkpoint.") from None
        key = key_by_id(point.key_id)
        if key is None:
            raise CheckpointError(
                f"{where} is signed with key {point.key_id}, which SLUICE_AUDIT_KEYS does not hold."
            )
        if not valid or not key.verifies(point.message(), point.mac):
            raise CheckpointError(f"{where}: its signature does not match its content.")
        points.append(point)
    return points


def read_files(paths: Iterable[str | os.PathLike]) -> list[Checkpoint]:
    points = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as lines:
                points += parse(lines, source=str(path))
        except OSError as exc:
            raise CheckpointError(f"Cannot read {path}: {exc.strerror}.") from None
    return points


def configured_files() -> list[Path]:
    """The checkpoint files the cron job wrote (the periodic verification checks against them)."""
    if not settings.SLUICE_AUDIT_CHECKPOINT_DIR:
        return []
    return sorted(Path(settings.SLUICE_AUDIT_CHECKPOINT_DIR).glob("sluice-audit-checkpoints-*.jsonl"))
