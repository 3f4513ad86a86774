"""Guessing passwords and API tokens is throttled, and every lockout is in the audit trail.

- Passwords: django-axes counts wrong passwords per (username, address) in its AccessAttempt
  table and refuses that pair for LOCKOUT_MINUTES after LOGIN_FAILURE_LIMIT of them (settings).
  `login_lockout_record` writes the audit event, once per lockout: axes signals every refused
  try, and only the one that reached the limit is recorded.
- API tokens: unknown bearer tokens are counted per address in the shared cache, over a window of
  LOCKOUT_MINUTES from the first one; at API_TOKEN_FAILURE_LIMIT the address is locked out of the
  API for LOCKOUT_MINUTES, valid tokens included (otherwise guessing would simply go on), with a 429
  `too_many_attempts` and Retry-After. The counters are in the cache, not the queue Redis: losing
  one to eviction only gives a guesser a fresh window, and a flood of addresses cannot fill the
  Redis the queues need. With the cache unreachable, tokens are checked unthrottled (logged).

Unlock early: `manage.py axes_reset_username NAME` (or axes_reset_ip ADDRESS) for logins,
`manage.py api_token_unlock ADDRESS` for the API.
"""

import ipaddress
import logging
import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import render

from releases.audit import audit_record
from releases.errors import SluiceError
from releases.models import Membership
from releases.tokens import api_token_user

log = logging.getLogger(__name__)

FAILURES_KEY = "sluice:api-token-failures:{address}"
LOCKED_KEY = "sluice:api-token-lockout:{address}"


class TooManyAttempts(SluiceError):
    status = 429

    def __init__(self, seconds: int) -> None:
        minutes = max(1, round(seconds / 60))
        super().__init__(
            "too_many_attempts",
            f"Too many unknown API tokens from this address: try again in {minutes} minute(s).",
            details={"retry_after_seconds": seconds},
        )
        self.headers = {"Retry-After": str(seconds)}


def client_address(request) -> str | None:
    """The address limits count by (also axes', AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR, or behind
    TRUSTED_PROXY_COUNT reverse proxies the address the outermost one was called from. Each proxy
    appends its caller to X-Forwarded-For; entries further left come from the client and could be
    anything, so they are never used."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not proxies or len(hops) < proxies:
        return remote
    try:  # a count larger than the real chain would reach the client's own text
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


def _lockout_seconds() -> int:
    return settings.LOCKOUT_MINUTES * 60


# -- API tokens ------------------------------------------------------------------------------------


def api_token_authenticate(request, token: str):
    """The user of a bearer token, or None; TooManyAttempts while the address is locked out."""
    address = client_address(request) or "unknown"
    remaining = api_token_lockout_remaining(address)
    if remaining:
        raise TooManyAttempts(remaining)
    user = api_token_user(token, method=request.method)
    if user is None:
        _api_token_failure(address)
    return user


def api_token_lockout_remaining(address: str) -> int:
    """Seconds until the address may use the API again (0: not locked out)."""
    try:
        unlock_at = cache.get(LOCKED_KEY.format(address=address))
    except Exception:  # the cache's own errors vary by backend
        log.warning("Could not read the API token lockout of %s", address, exc_info=True)
        return 0
    return max(0, int(unlock_at - time.time())) if unlock_at else 0


def api_token_unlock(address: str) -> bool:
    """Lift a lockout and forget the failures counted; True if the address was locked out."""
    was_locked = api_token_lockout_remaining(address) > 0
    cache.delete_many([FAILURES_KEY.format(address=address), LOCKED_KEY.format(address=address)])
    return was_locked


def _api_token_failure(address: str) -> None:
    key, seconds = FAILURES_KEY.format(address=address), _lockout_seconds()
    try:
        failures = 1 if cache.add(key, 1, timeout=seconds) else cache.incr(key)
        if failures < settings.API_TOKEN_FAILURE_LIMIT:
            return
        cache.delete(key)  # a new window starts after the lockout
        locked = cache.add(LOCKED_KEY.format(address=address), time.time() + seconds, timeout=seconds)
    except ValueError:  # the counter expired between add and incr: this try starts a new window
        return
    except Exception:
        log.warning("Could not count a failed API token from %s", address, exc_info=True)
        return
    if locked:  # once per lockout, however many requests reached the limit together
        log.warning("Locked %s out of the API for %s minutes after unknown tokens", address, seconds // 60)
        with transaction.atomic():
            audit_record(
                action="api_token_lockout",
                data={"failures": failures, "minutes": seconds // 60},
                ip=None if address == "unknown" else address,
            )


# -- logins (django-axes) --------------------------------------------------------------------------


@receiver(user_locked_out, dispatch_uid="sluice_login_lockout_record")
def login_lockout_record(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """Audit a lockout in the team(s) of the user it protects (so their admins see it in /audit/);
    a name that is no user is recorded without it, as it may be a password typed in the wrong field."""
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return  # a try refused during a lockout already recorded
    user_model = get_user_model()
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True)) if user else []
    data = {"failures": settings.AXES_FAILURE_LIMIT, "minutes": settings.LOCKOUT_MINUTES}
    if user is not None:
        data["username"] = user.get_username()
    with transaction.atomic():
        for team_id in team_ids or [None]:
            audit_record(action="login_lockout", target=user, team_id=team_id, data=data, ip=ip_address)


def login_lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets instead of the form (AXES_LOCKOUT_CALLABLE)."""
    context = {"lockout_minutes": settings.LOCKOUT_MINUTES}
    return render(request, "registration/locked_out.html", context, status=429)
