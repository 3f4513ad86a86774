"""WeChat's push URLs under /callbacks/wechat/, in the shapes releases/api.py `_callback_urls` gives."""

from django.urls import path

from reviews import callbacks

app_name = "reviews"
urlpatterns = [
    path("<str:callback_key>/auth", callbacks.auth_events, name="wechat_auth_events"),
    path("<str:callback_key>/<str:appid>/events", callbacks.message_events, name="wechat_message_events"),
]
