from django.urls import path

from releases import views

app_name = "releases"
urlpatterns: list = [
    path("", views.app_list, name="app-list"),
    path("apps/<int:app_id>/", views.app_detail, name="app-detail"),
    path("apps/<int:app_id>/releases/new", views.release_create, name="release-create"),
    path("releases/<int:release_id>/", views.release_detail, name="release-detail"),
    path("releases/<int:release_id>/edit", views.release_edit, name="release-edit"),
    path("releases/<int:release_id>/actions/<slug:name>", views.release_action, name="release-action"),
]
