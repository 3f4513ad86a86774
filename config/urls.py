from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from web.api import api


class FaviconRedirect(RedirectView):
    """To the icon's static URL, resolved per request (the manifest is read after start-up)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Browsers and crawlers ask for /favicon.ico whatever the page says: no 404 on every visit.
    path("favicon.ico", FaviconRedirect.as_view()),
    path("api/v1/", api.urls),
    path("callbacks/wechat/", include("reviews.urls")),
    path("callbacks/douyin/", include("reviews.platforms.douyin.urls")),
    path("analytics/", include("web.analytics.urls")),
    path("", include("web.review_urls")),
    path("", include("web.urls")),
]
if "simulator" in settings.INSTALLED_APPS:  # development only (SIMULATOR=1, and the tests)
    urlpatterns.insert(0, path("sim/", include("simulator.urls")))
    urlpatterns.insert(0, path("sim/robots/", include("robotsim.urls")))  # the robots' stand-in
    urlpatterns.insert(0, path("sim/douyin/", include("simulator.douyin.urls")))  # Douyin's stand-in
