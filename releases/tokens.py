"""API bearer tokens: random, shown once, stored as SHA-256 so a database leak reveals none."""

import hashlib
import secrets

from django.utils import timezone

from releases.models import ApiToken

PREFIX = "slc_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user, name: str = "") -> str:
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=token[:10], key_hash=_digest(token))
    return token


def api_token_user(token: str):
    """The active user a bearer token belongs to, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = ApiToken.objects.select_related("user").filter(key_hash=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or (timezone.now() - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
