"""Douyin's v2 paths under /sim/douyin/ (point DOUYIN_API_BASE at http://host/sim/douyin), and the console."""

from django.urls import path

from simulator.douyin import operations as op
from simulator.douyin import views

app_name = "douyin_sim"
P = "api/apps/v1/package_version/"
urlpatterns = [
    path("openapi/v2/auth/tp/token/", views.component_token),
    path("api/tpapp/v2/auth/get_auth_token/", views.auth_token),
    path(P + "upload/", views.app_api("POST", op.upload, takes_body=True)),
    path(P + "get_audit_hosts/", views.app_api("GET", op.audit_hosts)),
    path("api/apps/v2/package_version/audit/", views.app_api("POST", op.audit, takes_body=True)),
    path(P + "revoke_audit/", views.app_api("POST", op.revoke_audit)),
    path(P + "release/", views.app_api("POST", op.release)),
    path(P + "rollback/", views.app_api("POST", op.rollback)),
    path(P + "versions/", views.app_api("GET", op.versions)),
    path("console/", views.console, name="console"),
    path("console/<str:appid>/decide", views.decide, name="decide"),
]
