"""What every platform's access tokens have in common: cached (encrypted) in CACHE_URL's Redis,
fetched under a lock by one worker while the others wait and read it, and refreshed once when the
platform refuses one.

WeChat's and Douyin's tokens (reviews/platforms/<name>/tokens.py) differ in how a token is fetched
and, for Douyin, in how long a cached one counts as good; the rest is here, once. A subclass names
its `platform` (the cache keys), its `error` class (whose `is_token_error` says "fetch a new one"),
the setting of its HTTP timeout, and how a refused token's error becomes a transient one.
"""

import functools
import logging
from collections.abc import Callable
from contextlib import contextmanager, suppress
from typing import TypeVar

import redis as redis_py
from django.conf import settings
from redis.exceptions import LockError

from releases.crypto import decrypt, encrypt
from releases.platforms import PlatformError

logger = logging.getLogger(__name__)

T = TypeVar("T")

EXPIRY_MARGIN_SECONDS = 600


def cache_seconds(expires_in: int) -> int:
    """Keep a token until 10 minutes before the platform expires it (half its life if shorter)."""
    return max(expires_in - EXPIRY_MARGIN_SECONDS, expires_in // 2, 1)


@functools.cache
def cache_redis(url: str) -> redis_py.Redis:
    """The Redis of CACHE_URL (one client per process): it may evict, and an evicted token is
    simply fetched again, so tokens stay out of the queues' Redis, which must never evict."""
    return redis_py.Redis.from_url(url)


class CachedTokens:
    platform = ""  # the cache keys' prefix: sluice:<platform>:<account>:...
    display = ""  # the platform's name in messages
    error: type[PlatformError] = PlatformError
    timeout_setting = ""  # the settings name of the platform's HTTP timeout

    def __init__(self, account, client, redis=None) -> None:
        self.account = account
        self.client = client
        self.redis = redis or cache_redis(settings.CACHE_URL)

    # -- what a subclass provides --------------------------------------------------------

    def _fetch_component_token(self) -> tuple[str, int]:
        raise NotImplementedError

    def _fetch_authorizer_token(self, app) -> tuple[str, int]:
        raise NotImplementedError

    def _refused_again(self, exc: PlatformError) -> PlatformError:
        """The error to raise when a fresh token is refused too: transient, so the step retries."""
        raise NotImplementedError

    def _transient(self, name: str, message: str) -> PlatformError:
        raise NotImplementedError

    # -- public -----------------------------------------------------------------------------

    def component_token(self) -> str:
        return self._cached(self._component_key(), self._fetch_component_token)

    def authorizer_token(self, app) -> str:
        return self._cached(self._authorizer_key(app), lambda: self._fetch_authorizer_token(app))

    def as_component(self, call: Callable[[str], T]) -> T:
        """Run `call(component token)`, refreshing the token once if the platform refuses it."""
        return self._with_refresh(self._component_key(), self.component_token, call)

    def as_app(self, app, call: Callable[[str], T]) -> T:
        """Run `call(authorizer token)`, refreshing the token once if the platform refuses it."""
        return self._with_refresh(self._authorizer_key(app), lambda: self.authorizer_token(app), call)

    def renew_component_token(self) -> str:
        """A new component token now, cached at once (the connection test: a cached token proves
        nothing about the credentials as they are today)."""
        key = self._component_key()
        with self._lock(key):
            token, expires_in = self._fetch_component_token()
            self._store(key, token, expires_in)
            return token

    def forget(self, key: str, token: str) -> None:
        """Drop `token` from the cache unless another worker already replaced it."""
        if self._read(key) == token:
            self.redis.delete(key)

    # -- cache, lock, refresh ---------------------------------------------------------------

    def _component_key(self) -> str:
        return f"sluice:{self.platform}:{self.account.pk}:component_token"

    def _authorizer_key(self, app) -> str:
        return f"sluice:{self.platform}:{self.account.pk}:authorizer_token:{app.appid}"

    def _read(self, key: str) -> str | None:
        value = self.redis.get(key)
        return decrypt(value.decode()) if value else None

    def _store(self, key: str, token: str, expires_in: int) -> None:
        self.redis.set(key, encrypt(token), ex=cache_seconds(expires_in))

    def _cached(self, key: str, fetch: Callable[[], tuple[str, int]]) -> str:
        token = self._read(key)
        if token:
            return token
        with self._lock(key):
            token = self._read(key)  # another worker may have fetched it while we waited
            if token:
                return token
            token, expires_in = fetch()
            self._store(key, token, expires_in)
            return token

    @contextmanager
    def _lock(self, key: str):
        # Long enough for a token fetch that itself fetches the component token first.
        hold = 3 * getattr(settings, self.timeout_setting) + 5
        lock = self.redis.lock(f"{key}:lock", timeout=hold, blocking_timeout=hold)
        if not lock.acquire():
            raise self._transient(
                "token_lock", f"Another worker is fetching the {self.display} access token; retrying."
            )
        try:
            yield
        finally:
            # Held past its timeout and taken over: nothing left to release.
            with suppress(LockError):
                lock.release()

    def _with_refresh(self, key: str, get_token: Callable[[], str], call: Callable[[str], T]) -> T:
        token = get_token()
        try:
            return call(token)
        except self.error as exc:
            if not exc.is_token_error:
                raise
            logger.info("%s refused a cached token (%s); refreshing once", self.display, exc.code)
            self.forget(key, token)
        token = get_token()
        try:
            return call(token)
        except self.error as exc:
            if not exc.is_token_error:
                raise
            # Refused again: tokens were renewed or expired elsewhere at that moment (each new token
            # voids the previous one). A later attempt, with the token then current, may well pass,
            # so this is transient; a credential that stays refused exhausts the step's retries.
            self.forget(key, token)
            raise self._refused_again(exc) from exc
