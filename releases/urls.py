from django.urls import path

from releases import views

app_name = "releases"
urlpatterns: list = [
    path("", views.app_list, name="app-list"),
    path("apps/<int:app_id>/", views.app_detail, name="app-detail"),
    path("apps/<int:app_id>/settings", views.app_settings, name="app-settings"),
    path("apps/<int:app_id>/suppressions", views.suppression_create, name="suppression-create"),
    path(
        "apps/<int:app_id>/suppressions/<int:suppression_id>/remove",
        views.suppression_remove,
        name="suppression-remove",
    ),
    path("apps/<int:app_id>/qualifications", views.qualification_create, name="qualification-create"),
    path(
        "apps/<int:app_id>/qualifications/<int:qualification_id>/remove",
        views.qualification_remove,
        name="qualification-remove",
    ),
    path("apps/<int:app_id>/checklist", views.checklist_update, name="checklist-update"),
    path("apps/<int:app_id>/approval-policy", views.approval_policy_update, name="approval-policy-update"),
    path(
        "apps/<int:app_id>/members/<int:membership_id>/capacities",
        views.member_capacities_update,
        name="member-capacities-update",
    ),
    path("apps/<int:app_id>/releases/new", views.release_create, name="release-create"),
    path("releases/<int:release_id>/", views.release_detail, name="release-detail"),
    path("releases/<int:release_id>/edit", views.release_edit, name="release-edit"),
    path("releases/<int:release_id>/checks.json", views.release_check_status, name="release-check-status"),
    path(
        "releases/<int:release_id>/checks/<slug:key>/confirm", views.release_confirm, name="release-confirm"
    ),
    path("releases/<int:release_id>/actions/<slug:name>", views.release_action, name="release-action"),
    path("demo/privacy-policy/", views.demo_privacy_policy, name="demo-privacy-policy"),
    path(
        "demo/privacy-policy/no-location/",
        views.demo_privacy_policy,
        {"variant": "no-location"},
        name="demo-privacy-policy-no-location",
    ),
]
