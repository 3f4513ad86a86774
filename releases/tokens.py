"""API bearer tokens: random, shown once, stored as SHA-256 so a database leak reveals none.

A token's `last_used_at` is the last time it was used to change something (a POST, PUT, PATCH
or DELETE), kept to the minute. Reads never write (issue 10), and that includes the token's
own row: a GET is answered without touching the database beyond its SELECTs, so it needs no
write lock and never contends with the writers. A token used only to read therefore shows the
last change made with it (or none); what a leaked token could have changed is what matters.
The admin lists tokens with it (web/admin.py).
"""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import NotFound
from releases.models import ApiToken

PREFIX = "slc_"
# The methods that read (RFC 9110's safe methods): they leave `last_used_at` alone.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user, name: str = "") -> str:
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name[:100], prefix=token[:10], key_hash=_digest(token))
    return token


def api_token_issue(*, user, name: str, ip: str | None = None) -> str:
    """A token someone made for themselves on the tokens page (e.g. for CI): audited by name and
    prefix, never the token, which is returned once and kept only as its hash."""
    with transaction.atomic():
        token = api_token_create(user=user, name=name)
        row = ApiToken.objects.get(key_hash=_digest(token))
        audit_record(
            action="api_token_create",
            actor=user,
            target=row,
            data={"name": row.name, "prefix": row.prefix},
            ip=ip,
        )
    return token


def api_token_revoke(*, user, token_id: int, ip: str | None = None) -> None:
    """Revoke one of the user's own tokens: it stops working at once (404 for anyone else's)."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if row is None:
            raise NotFound("not_found", gettext_noop("No such token of yours."))
        audit_record(
            action="api_token_revoke",
            actor=user,
            target=row,
            data={"name": row.name, "prefix": row.prefix},
            ip=ip,
        )
        row.delete()


def api_token_user(token: str, *, method: str = "GET"):
    """The active user a bearer token belongs to, or None.

    `method` is the request's: a writing one records the token's use (at most once a minute).
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = ApiToken.objects.select_related("user").filter(key_hash=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    if method.upper() not in SAFE_METHODS and (
        row.last_used_at is None or (timezone.now() - row.last_used_at).total_seconds() > 60
    ):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
