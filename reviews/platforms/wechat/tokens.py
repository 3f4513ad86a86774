"""The two access tokens every WeChat call needs, cached in Redis and fetched by one worker.

- component_access_token: the platform account's own token, from its app secret and the
  latest component_verify_ticket WeChat pushed (reviews.models.ComponentTicket).
- authorizer_access_token: one per mini program, from App.authorizer_refresh_token.

Both live 2 hours and fetching them counts against WeChat's daily limits, so they are
cached (encrypted, like every platform secret) until 10 minutes before they expire, and a
Redis lock around the fetch makes concurrent workers wait for the one that is fetching
instead of stampeding the token endpoint. A call refused with 40001/40014/42001 drops the
token it used (only if no one replaced it meanwhile), fetches a new one and retries once; refused
again, the call fails transiently (the step that made it is tried again later, within its bounds).
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
from reviews.models import ComponentTicket
from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.errors import WeChatError, transient
from reviews.platforms.wechat.schemas import AuthorizerToken, ComponentToken

logger = logging.getLogger(__name__)

T = TypeVar("T")

EXPIRY_MARGIN_SECONDS = 600
REFRESH_TOKEN_INVALID = 61023  # wechat-fleet.md §0: mark the app "needs re-auth"


def cache_seconds(expires_in: int) -> int:
    """Keep a token until 10 minutes before WeChat expires it (half its life if it is shorter)."""
    return max(expires_in - EXPIRY_MARGIN_SECONDS, expires_in // 2, 1)


@functools.cache
def cache_redis(url: str) -> redis_py.Redis:
    """The Redis of CACHE_URL (one client per process): it may evict, and an evicted token is
    simply fetched again, so tokens stay out of the queues' Redis, which must never evict."""
    return redis_py.Redis.from_url(url)


class Tokens:
    def __init__(self, account, client: WeChatClient | None = None, redis=None) -> None:
        self.account = account
        self.client = client or WeChatClient()
        self.redis = redis or cache_redis(settings.CACHE_URL)

    # -- public -----------------------------------------------------------------------

    def component_token(self) -> str:
        return self._cached(self._component_key(), self._fetch_component_token)

    def authorizer_token(self, app) -> str:
        return self._cached(self._authorizer_key(app), lambda: self._fetch_authorizer_token(app))

    def as_component(self, call: Callable[[str], T]) -> T:
        """Run `call(component_access_token)`, refreshing the token once if WeChat refuses it."""
        return self._with_refresh(self._component_key(), self.component_token, call)

    def as_app(self, app, call: Callable[[str], T]) -> T:
        """Run `call(authorizer_access_token)`, refreshing the token once if WeChat refuses it."""
        return self._with_refresh(self._authorizer_key(app), lambda: self.authorizer_token(app), call)

    # -- fetching ---------------------------------------------------------------------

    def _fetch_component_token(self) -> tuple[str, int]:
        ticket = ComponentTicket.objects.filter(account=self.account).first()
        if ticket is None:
            raise WeChatError(
                f"WeChat has not pushed a component_verify_ticket for {self.account.name} yet, so Sluice "
                "cannot get an access token: check the authorization-event callback URL in the WeChat "
                "Open Platform (tickets arrive every 10 minutes).",
                name="no_ticket",
                permanent=True,
            )
        answer = self.client.post(
            "/cgi-bin/component/api_component_token",
            ComponentToken,
            body={
                "component_appid": self.account.component_appid,
                "component_appsecret": self.account.component_appsecret,
                "component_verify_ticket": ticket.ticket,
            },
        )
        return answer.component_access_token, answer.expires_in

    def _fetch_authorizer_token(self, app) -> tuple[str, int]:
        if not app.authorizer_refresh_token:
            raise WeChatError(
                f"{app.name} ({app.appid}) has not authorized the platform account: it has no authorizer "
                "refresh token. Its administrator must authorize the third-party platform first.",
                name="not_authorized",
                permanent=True,
            )
        try:
            answer = self.as_component(
                lambda token: self.client.post(
                    "/cgi-bin/component/api_authorizer_token",
                    AuthorizerToken,
                    params={"component_access_token": token},
                    body={
                        "component_appid": self.account.component_appid,
                        "authorizer_appid": app.appid,
                        "authorizer_refresh_token": app.authorizer_refresh_token,
                    },
                )
            )
        except WeChatError as exc:
            if exc.errcode == REFRESH_TOKEN_INVALID:
                # The administrator must authorize again: flagged, the app is left out of campaigns.
                from releases.fleet import app_authorization_lost

                app_authorization_lost(app=app, problem=exc.message, source="token")
            raise
        if (
            answer.authorizer_refresh_token
            and answer.authorizer_refresh_token != app.authorizer_refresh_token
        ):
            app.authorizer_refresh_token = answer.authorizer_refresh_token
            app.save(update_fields=["authorizer_refresh_token"])
        return answer.authorizer_access_token, answer.expires_in

    # -- cache, lock, refresh ---------------------------------------------------------

    def _component_key(self) -> str:
        return f"sluice:wechat:{self.account.pk}:component_token"

    def _authorizer_key(self, app) -> str:
        return f"sluice:wechat:{self.account.pk}:authorizer_token:{app.appid}"

    def _read(self, key: str) -> str | None:
        value = self.redis.get(key)
        return decrypt(value.decode()) if value else None

    def _cached(self, key: str, fetch: Callable[[], tuple[str, int]]) -> str:
        token = self._read(key)
        if token:
            return token
        with self._lock(key):
            token = self._read(key)  # another worker may have fetched it while we waited
            if token:
                return token
            token, expires_in = fetch()
            self.redis.set(key, encrypt(token), ex=cache_seconds(expires_in))
            return token

    @contextmanager
    def _lock(self, key: str):
        # Long enough for a token fetch that itself fetches the component token first.
        hold = 3 * settings.WECHAT_HTTP_TIMEOUT_SECONDS + 5
        lock = self.redis.lock(f"{key}:lock", timeout=hold, blocking_timeout=hold)
        if not lock.acquire():
            raise transient("token_lock", "Another worker is fetching the WeChat access token; retrying.")
        try:
            yield
        finally:
            # Held past its timeout and taken over: nothing left to release.
            with suppress(LockError):
                lock.release()

    def renew_component_token(self) -> str:
        """Ask WeChat for a new component token now and cache it (the connection test: a cached
        token proves nothing about the credentials as they are today)."""
        key = self._component_key()
        with self._lock(key):
            token, expires_in = self._fetch_component_token()
            self.redis.set(key, encrypt(token), ex=cache_seconds(expires_in))
            return token

    def forget(self, key: str, token: str) -> None:
        """Drop `token` from the cache unless another worker already replaced it."""
        if self._read(key) == token:
            self.redis.delete(key)

    def _with_refresh(self, key: str, get_token: Callable[[], str], call: Callable[[str], T]) -> T:
        token = get_token()
        try:
            return call(token)
        except WeChatError as exc:
            if not exc.is_token_error:
                raise
            logger.info("WeChat refused a cached token (errcode %s); refreshing once", exc.errcode)
            self.forget(key, token)
        token = get_token()
        try:
            return call(token)
        except WeChatError as exc:
            if not exc.is_token_error:
                raise
            # Refused again: tokens were renewed or expired elsewhere at that moment (each new token
            # voids the previous one). A later attempt, with the token then current, may well pass,
            # so this is transient; a credential that stays refused exhausts the step's retries.
            self.forget(key, token)
            raise WeChatError(
                exc.message, errcode=exc.errcode, errmsg=exc.errmsg, name=exc.name, permanent=False
            ) from exc
