"""WeChat's paths under /sim/ (point WECHAT_API_BASE at http://host/sim), and the reviewer console."""

from django.urls import path

from simulator import auth_views, views
from simulator import fleet as fl
from simulator import operations as op

app_name = "simulator"

# path, HTTP verb, operation, authentication (platform-apis.md §1, §2)
API = [
    ("cgi-bin/component/api_component_token", "POST", op.component_token, "none"),
    ("cgi-bin/component/api_authorizer_token", "POST", op.authorizer_token, "component"),
    ("cgi-bin/component/api_get_authorizer_info", "POST", op.authorizer_info, "component"),
    ("cgi-bin/component/api_create_preauthcode", "POST", fl.create_preauthcode, "component"),
    ("cgi-bin/component/api_query_auth", "POST", fl.query_auth, "component"),
    ("cgi-bin/component/api_get_authorizer_list", "POST", fl.authorizer_list, "component"),
    ("wxa/gettemplatedraftlist", "GET", fl.gettemplatedraftlist, "component"),
    ("wxa/gettemplatelist", "GET", fl.gettemplatelist, "component"),
    ("wxa/addtotemplate", "POST", fl.addtotemplate, "component"),
    ("wxa/deletetemplate", "POST", fl.deletetemplate, "component"),
    ("wxa/commit", "POST", fl.commit, "authorizer"),
    ("wxa/submit_audit", "POST", op.submit_audit, "authorizer"),
    ("wxa/get_auditstatus", "POST", op.get_auditstatus, "authorizer"),
    ("wxa/get_latest_auditstatus", "GET", op.get_latest_auditstatus, "authorizer"),
    ("wxa/undocodeaudit", "GET", op.undocodeaudit, "authorizer"),
    ("wxa/speedupaudit", "POST", op.speedupaudit, "authorizer"),
    ("wxa/release", "POST", op.release, "authorizer"),
    ("wxa/grayrelease", "POST", op.grayrelease, "authorizer"),
    ("wxa/getgrayreleaseplan", "GET", op.getgrayreleaseplan, "authorizer"),
    ("wxa/revertgrayrelease", "GET", op.revertgrayrelease, "authorizer"),
    ("wxa/revertcoderelease", "GET", op.revertcoderelease, "authorizer"),
    ("wxa/queryquota", "GET", op.queryquota, "authorizer"),
    ("wxa/security/get_code_privacy_info", "GET", op.get_code_privacy_info, "authorizer"),
    ("wxa/getversioninfo", "POST", op.getversioninfo, "authorizer"),
    ("wxa/change_visitstatus", "POST", op.change_visitstatus, "authorizer"),
    ("wxa/getvisitstatus", "POST", op.getvisitstatus, "authorizer"),
]

urlpatterns: list = [
    path(route, views.api_view(route, verb, operation, auth), name=route.rsplit("/", 1)[-1])
    for route, verb, operation, auth in API
] + [
    path("wxa/get_qrcode", auth_views.get_qrcode, name="get_qrcode"),
    # The pages a mini program's administrator opens from an authorization link (§1.2).
    path("cgi-bin/componentloginpage", auth_views.authorize_page, name="authorize"),
    path("wxaopen/safe/bindcomponent", auth_views.authorize_page, name="authorize-mobile"),
    path("console/fleet", auth_views.fleet_settings, name="fleet"),
    path("cgi-bin/material/get_material", views.material_view, name="get_material"),
    path("cgi-bin/media/get", views.material_view, {"temporary": True}, name="media_get"),
    path("console/", views.console, name="console"),
    path("console/audits/<int:auditid>/decide", views.decide, name="decide"),
    path("console/media/<str:media_id>.png", views.console_media, name="console-media"),
    path("console/settings", views.update_settings, name="settings"),
    path("console/tickets", views.push_tickets, name="push-tickets"),
]
