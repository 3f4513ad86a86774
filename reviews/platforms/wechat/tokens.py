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

from reviews.models import ComponentTicket
from reviews.platforms.token_cache import CachedTokens, cache_seconds  # noqa: F401 -- named here for callers
from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.errors import WeChatError, transient
from reviews.platforms.wechat.schemas import AuthorizerToken, ComponentToken

REFRESH_TOKEN_INVALID = 61023  # wechat-fleet.md §0: mark the app "needs re-auth"


class Tokens(CachedTokens):
    platform = "wechat"
    display = "WeChat"
    error = WeChatError
    timeout_setting = "WECHAT_HTTP_TIMEOUT_SECONDS"

    def __init__(self, account, client: WeChatClient | None = None, redis=None) -> None:
        super().__init__(account, client or WeChatClient(), redis)

    def _transient(self, name: str, message: str) -> WeChatError:
        return transient(name, message)

    def _refused_again(self, exc: WeChatError) -> WeChatError:
        return WeChatError(
            exc.message, errcode=exc.errcode, errmsg=exc.errmsg, name=exc.name, permanent=False
        )

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
