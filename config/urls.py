from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from web.api import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("callbacks/wechat/", include("reviews.urls")),
    path("analytics/", include("web.analytics.urls")),
    path("", include("web.review_urls")),
    path("", include("web.urls")),
]
if "simulator" in settings.INSTALLED_APPS:  # development only (SIMULATOR=1, and the tests)
    urlpatterns.insert(0, path("sim/", include("simulator.urls")))
    urlpatterns.insert(0, path("sim/robots/", include("robotsim.urls")))  # the robots' stand-in
