"""Douyin's push URLs under /callbacks/douyin/, as web/api/accounts.py `callback_urls` gives them."""

from django.urls import path

from reviews.platforms.douyin import push

app_name = "douyin"
urlpatterns = [
    path("<str:callback_key>/auth", push.auth_events, name="auth_events"),
    path("<str:callback_key>/events", push.message_events, name="message_events"),
]
