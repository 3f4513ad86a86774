"""WeChat's authorization and template-library calls (wechat-fleet.md §1, §2), one to one.

All of them use the platform account's own token (component_access_token): they are about the
account and its authorizers, not about one app's code. A mixin of the WeChat adapter, so the
release steps and these calls share one client and one token cache.
"""

from urllib.parse import urlencode

from django.conf import settings

from reviews.platforms.wechat.schemas import (
    Answer,
    AuthorizerInfo,
    AuthorizerList,
    PreAuthCode,
    QueryAuth,
    TemplateDrafts,
    Templates,
)

PC_PAGE = "https://mp.weixin.qq.com/cgi-bin/componentloginpage"
MOBILE_PAGE = "https://open.weixin.qq.com/wxaopen/safe/bindcomponent"
AUTH_TYPE_MINI_PROGRAMS = 2  # 1 official accounts only, 2 mini programs only, 3 both (§1.2)
AUTHORIZER_LIST_MAX = 500  # api_get_authorizer_list's largest page (§1.7)


def authorization_urls(component_appid: str, pre_auth_code: str, redirect_uri: str) -> dict:
    """The PC link (scan a QR code in a browser) and the mobile link (opened inside WeChat), §1.2.

    WECHAT_AUTH_PAGES_BASE replaces both hosts (the simulator serves both pages under /sim/).
    """
    base = settings.WECHAT_AUTH_PAGES_BASE.rstrip("/")
    pc_page = f"{base}/cgi-bin/componentloginpage" if base else PC_PAGE
    mobile_page = f"{base}/wxaopen/safe/bindcomponent" if base else MOBILE_PAGE
    common = {
        "component_appid": component_appid,
        "pre_auth_code": pre_auth_code,
        "redirect_uri": redirect_uri,
        "auth_type": AUTH_TYPE_MINI_PROGRAMS,
    }
    mobile = {"action": "bindcomponent", "no_scan": 1, **common}
    return {
        "pc_url": f"{pc_page}?{urlencode(common)}",
        "mobile_url": f"{mobile_page}?{urlencode(mobile)}#wechat_redirect",
    }


class FleetCalls:
    """Needs `self.account`, `self.client` and `self.tokens` (the WeChat adapter has them)."""

    def _component_post(self, path: str, schema, body: dict):
        body = {"component_appid": self.account.component_appid, **body}
        return self.tokens.as_component(
            lambda token: self.client.post(path, schema, params={"component_access_token": token}, body=body)
        )

    def _template_call(self, method: str, path: str, schema, body: dict | None = None):
        """The template calls take the component token as `access_token` (the newer docs' form)."""
        if method == "GET":
            return self.tokens.as_component(
                lambda token: self.client.get(path, schema, params={"access_token": token, **(body or {})})
            )
        return self.tokens.as_component(
            lambda token: self.client.post(path, schema, params={"access_token": token}, body=body or {})
        )

    # -- authorization (§1) ----------------------------------------------------------------

    def create_preauthcode(self) -> PreAuthCode:
        return self._component_post("/cgi-bin/component/api_create_preauthcode", PreAuthCode, {})

    def query_auth(self, authorization_code: str) -> QueryAuth:
        return self._component_post(
            "/cgi-bin/component/api_query_auth", QueryAuth, {"authorization_code": authorization_code}
        )

    def authorizer_info(self, authorizer_appid: str) -> AuthorizerInfo:
        return self._component_post(
            "/cgi-bin/component/api_get_authorizer_info",
            AuthorizerInfo,
            {"authorizer_appid": authorizer_appid},
        )

    def get_authorizer_list(self, offset: int, count: int = AUTHORIZER_LIST_MAX) -> AuthorizerList:
        body = {"offset": offset, "count": min(count, AUTHORIZER_LIST_MAX)}
        return self._component_post("/cgi-bin/component/api_get_authorizer_list", AuthorizerList, body)

    def get_qrcode(self, app, path: str = "") -> bytes:
        """The experience (trial) version's QR code as image bytes (§3.2), with the app's token."""
        params = {"path": path} if path else {}
        return self.tokens.as_app(
            app,
            lambda token: self.client.get_image("/wxa/get_qrcode", params={"access_token": token, **params}),
        )

    # -- template library (§2) -------------------------------------------------------------

    def gettemplatedraftlist(self) -> TemplateDrafts:
        return self._template_call("GET", "/wxa/gettemplatedraftlist", TemplateDrafts)

    def gettemplatelist(self) -> Templates:
        return self._template_call("GET", "/wxa/gettemplatelist", Templates, {"template_type": 0})

    def addtotemplate(self, draft_id: int) -> Answer:
        body = {"draft_id": draft_id, "template_type": 0}  # standard templates are deprecated (§2)
        return self._template_call("POST", "/wxa/addtotemplate", Answer, body)

    def deletetemplate(self, template_id: int) -> Answer:
        return self._template_call("POST", "/wxa/deletetemplate", Answer, {"template_id": template_id})
