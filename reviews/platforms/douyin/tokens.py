"""Douyin's v2 component and authorizer tokens: shared through the cache, fetched by one worker.

Why v2 (README "Douyin"): the v1 and v2 generations cannot be mixed, new APIs are v2-only, and
the audit call with `host_names` is `apps/v2`. v2 has a rule v1 did not (douyin.md §2.1):
**a new component token retires the previous one after a 5-minute grace period, and only the
latest two are kept**. A worker that fetched "its own" token would silently kill the tokens of
every other worker five minutes later. Hence:

- one token per account in the cache (CACHE_URL, encrypted, as every platform secret), read by
  every worker and process; fetched under a Redis lock by one of them, the others wait and read it;
- kept until 10 minutes before Douyin expires it: a fetch never happens while the cached token
  is good (never needlessly), and the one that replaces it leaves the old usable for 5 minutes,
  so a call already holding it still succeeds;
- a call refused with a token error (28001003/28001008) drops the token only if it is still the
  cached one (another worker may already have replaced it: then the newer one is simply used),
  and retries once.

The authorizer token (one per merchant app) comes from its refresh token, and every refresh
returns a new refresh token while clearing the old one (single use): it is saved on the app at
once, before the access token is even cached, and only one worker refreshes at a time.
"""

import json
import logging
import time

from releases.crypto import decrypt, encrypt
from reviews.models import ComponentTicket
from reviews.platforms.douyin.client import DouyinClient, require
from reviews.platforms.douyin.errors import DouyinError, transient
from reviews.platforms.token_cache import CachedTokens, cache_seconds

logger = logging.getLogger(__name__)


COMPONENT_TOKEN_PATH = "/openapi/v2/auth/tp/token/"  # noqa: S105 - a path, not a secret
AUTH_TOKEN_PATH = "/api/tpapp/v2/auth/get_auth_token/"  # noqa: S105 - a path, not a secret


class Tokens(CachedTokens):
    platform = "douyin"
    display = "Douyin"
    error = DouyinError
    timeout_setting = "DOUYIN_HTTP_TIMEOUT_SECONDS"

    def __init__(self, account, client: DouyinClient | None = None, redis=None) -> None:
        super().__init__(account, client or DouyinClient(), redis)

    def _transient(self, name: str, message: str) -> DouyinError:
        return transient(name, message)

    def _refused_again(self, exc: DouyinError) -> DouyinError:
        return DouyinError(
            exc.message, err_no=exc.err_no, err_msg=exc.err_msg, name=exc.name, permanent=False
        )

    def authorize(self, app, authorization_code: str) -> None:
        """Exchange an authorization code (an AUTHORIZED push, or a retrieved code) for the app's tokens."""
        key = self._authorizer_key(app)
        with self._lock(key):
            data = self.as_component(
                lambda token: self.client.get(
                    AUTH_TOKEN_PATH,
                    token=token,
                    params={
                        "grant_type": "app_to_tp_authorization_code",
                        "authorization_code": authorization_code,
                    },
                )
            )
            token, expires_in = self._keep_refresh_token(app, data)
            self._store(key, token, expires_in)

    # -- fetching ---------------------------------------------------------------------

    def _fetch_component_token(self) -> tuple[str, int]:
        ticket = ComponentTicket.objects.filter(account=self.account).first()
        if ticket is None:
            raise DouyinError(
                f"Douyin has not pushed a component_ticket for {self.account.name} yet, so Sluice cannot get "
                "an access token: check the authorization event URL in the Douyin console (tickets arrive "
                "every 10 minutes).",
                name="no_ticket",
                permanent=True,
            )
        data = self.client.get(
            COMPONENT_TOKEN_PATH,
            params={
                "component_appid": self.account.component_appid,
                "component_appsecret": self.account.component_appsecret,
                "component_ticket": ticket.ticket,
            },
        )
        require(data, "token", "component_access_token", "expires_in")
        logger.info("Fetched a Douyin component token for account %s", self.account.pk)
        return data["component_access_token"], int(data["expires_in"])

    def _fetch_authorizer_token(self, app) -> tuple[str, int]:
        if not app.authorizer_refresh_token:
            raise DouyinError(
                f"{app.name} ({app.appid}) has not authorized the component app: it has no refresh token. "
                "Its administrator must authorize the third-party app first.",
                name="not_authorized",
                permanent=True,
            )
        data = self.as_component(
            lambda token: self.client.get(
                AUTH_TOKEN_PATH,
                token=token,
                params={
                    "grant_type": "app_to_tp_refresh_token",
                    "authorizer_refresh_token": app.authorizer_refresh_token,
                },
            )
        )
        return self._keep_refresh_token(app, data)

    def _keep_refresh_token(self, app, data: dict) -> tuple[str, int]:
        """Save the new single-use refresh token before anything else can fail."""
        require(data, "get_auth_token", "authorizer_access_token", "expires_in")
        refresh = data.get("authorizer_refresh_token") or ""
        if refresh and refresh != app.authorizer_refresh_token:
            app.authorizer_refresh_token = refresh
            app.save(update_fields=["authorizer_refresh_token"])
        return data["authorizer_access_token"], int(data["expires_in"])

    # -- cache, lock, refresh ---------------------------------------------------------

    def _read(self, key: str) -> str | None:
        """The cached token while it is good by this clock (Redis's own expiry is only a backstop)."""
        value = self.redis.get(key)
        if not value:
            return None
        held = json.loads(decrypt(value.decode()))
        return held["token"] if held["until"] > time.time() else None

    def _store(self, key: str, token: str, expires_in: int) -> None:
        keep = cache_seconds(expires_in)
        held = json.dumps({"token": token, "until": time.time() + keep})
        self.redis.set(key, encrypt(held), ex=keep + 60)
