"""The keys of the audit chain: HMAC-SHA256 keys from SLUICE_AUDIT_KEYS, never from the database.

Whoever can write to the database can append rows and, owning the tables, even rewrite them;
with a plain hash chain they could then recompute every hash after their change. Each event's
hash is an HMAC under a key the database never sees, so a rewritten row cannot be given a hash
that verifies. The first key signs; the others only verify (a rotation prepends a new key and
keeps the old ones). A key is named in the rows by its id, a short fingerprint of the key, so
the operator never has to pick names and two different keys never share one.

The same keys sign the chain head and the checkpoints, each under its own purpose prefix
(events are canonical JSON, so no prefix can collide with an event).
"""

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

HEAD = b"sluice-audit-head\n"
CHECKPOINT = b"sluice-audit-checkpoint\n"


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes = b""

    def sign(self, message: bytes) -> str:
        return hmac.digest(self.secret, message, "sha256").hex()

    def verifies(self, message: bytes, mac: str) -> bool:
        return hmac.compare_digest(self.sign(message), mac)

    def __repr__(self) -> str:  # never the secret, even in a traceback
        return f"AuditKey({self.id!r})"


def key_id_for(secret: str) -> str:
    return "k" + hashlib.sha256(b"sluice-audit-key-id\n" + secret.encode()).hexdigest()[:12]


@lru_cache(maxsize=8)
def _ring(secrets: tuple[str, ...]) -> tuple[AuditKey, ...]:
    return tuple(AuditKey(key_id_for(secret), secret.encode()) for secret in secrets)


def keyring() -> tuple[AuditKey, ...]:
    """The configured keys, newest (the signing one) first."""
    return _ring(tuple(settings.SLUICE_AUDIT_KEYS))


def signing_key() -> AuditKey:
    return keyring()[0]


def key_by_id(key_id: str) -> AuditKey | None:
    return next((key for key in keyring() if key.id == key_id), None)


def head_message(count: int, last_hash: str) -> bytes:
    return HEAD + f"{count}\n{last_hash}".encode()
