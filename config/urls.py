from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from releases.api import api
from reviews.api import router as reviews_router

# Before api.urls is read: ninja refuses routers added later.
api.add_router("", reviews_router)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("callbacks/wechat/", include("reviews.urls")),
    path("sim/", include("reviews.simulator.urls")),
    path("analytics/", include("reviews.analytics_urls")),
    path("", include("reviews.page_urls")),
    path("", include("releases.urls")),
]
