"""The robots' paths under /sim/robots/, shaped like the real ones (minus the host)."""

from django.urls import path

from robotsim import views

app_name = "robotsim"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("wecom/cgi-bin/webhook/send", views.wecom, name="wecom"),
    path("dingtalk/robot/send", views.dingtalk, name="dingtalk"),
    path("feishu/open-apis/bot/v2/hook/<str:hook>", views.feishu, name="feishu"),
]
