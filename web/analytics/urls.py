"""/analytics/: mounted by config/urls.py under the "analytics" namespace."""

from django.urls import path

from web.analytics import views as analytics_views

app_name = "analytics"
urlpatterns = [path("", analytics_views.analytics_page, name="index")]
