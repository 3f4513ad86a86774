"""Pages of rejections, remediation and playbooks; mounted at the site root by config/urls.py."""

from django.urls import path

from web import review_pages as pages

app_name = "remediation"
urlpatterns = [
    path("releases/<int:release_id>/remediation/<str:key>/done", pages.task_done, name="task-done"),
    path("releases/<int:release_id>/remediation/override", pages.override, name="override"),
    path(
        "releases/<int:release_id>/screenshots/<int:picture_id>",
        pages.rejection_screenshot,
        name="rejection-screenshot",
    ),
    path("playbooks/", pages.playbook_list, name="playbook-list"),
]
