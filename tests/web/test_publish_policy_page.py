"""The publish policy page: a team admin edits the weekly windows (Beijing time) and the freezes
of the team, or gives one app its own; mistakes are marked on their row and save nothing."""

import pytest
from django.urls import reverse

from releases.models import App, AuditEvent, Team


def team_form(**rows) -> dict:
    """The POST of the page: management forms for two window rows and two freeze rows."""
    data = {
        "windows-TOTAL_FORMS": "2",
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "14",
        "freezes-TOTAL_FORMS": "2",
        "freezes-INITIAL_FORMS": "0",
        "freezes-MIN_NUM_FORMS": "0",
        "freezes-MAX_NUM_FORMS": "50",
    }
    data.update(rows)
    return data


WEEKDAYS = {
    "windows-0-days": ["mon", "tue", "wed", "thu"],
    "windows-0-start": "10:00",
    "windows-0-end": "16:00",
}
DOUBLE_11 = {
    "freezes-0-start": "2026-11-09T00:00",
    "freezes-0-end": "2026-11-12T00:00",
    "freezes-0-reason": "Double 11",
}


def test_an_admin_saves_windows_and_a_freeze_for_the_team(login, team, adam):
    path = reverse("web:team-publish-policy", args=[team.pk])
    response = login(adam).post(path, team_form(**WEEKDAYS, **DOUBLE_11, working_days_only="on"))
    assert response.status_code == 302
    policy = Team.objects.get(pk=team.pk).publish_policy
    assert policy["windows"] == [{"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}]
    assert policy["working_days_only"] is True
    assert [(f["from"], f["reason"]) for f in policy["freezes"]] == [
        ("2026-11-09T00:00:00+08:00", "Double 11")
    ]
    assert AuditEvent.objects.filter(action="publish_policy_set", team_id=team.pk, actor_id=adam.pk).exists()
    page = login(adam).get(path).content.decode()
    assert 'value="16:00"' in page and "Double 11" in page and 'value="2026-11-09T00:00"' in page


def test_a_window_that_ends_before_it_starts_is_marked_on_its_row_and_nothing_is_saved(login, team, adam):
    path = reverse("web:team-publish-policy", args=[team.pk])
    bad = {"windows-1-days": ["fri"], "windows-1-start": "16:00", "windows-1-end": "10:00"}
    response = login(adam).post(path, team_form(**WEEKDAYS, **bad, **{"freezes-0-reason": "Spring Festival"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved." in page
    first_window = page.split('id="window-1"')[1].split('id="window-2"')[0]
    second_window = page.split('id="window-2"')[1].split('id="freeze-1"')[0]
    assert "The window must end after it starts." in second_window
    assert "field-error" not in first_window
    first_freeze = page.split('id="freeze-1"')[1].split('id="freeze-2"')[0]
    assert first_freeze.count("Required.") == 2  # from and until; the reason was typed
    assert Team.objects.get(pk=team.pk).publish_policy in ({}, None)


def test_the_page_is_for_admins_with_csrf(login, team, adam, mike, olga):
    path = reverse("web:team-publish-policy", args=[team.pk])
    assert login(mike).get(path).status_code == 403
    assert login(mike).post(path, team_form(**WEEKDAYS)).status_code == 403
    assert login(olga).get(path).status_code == 404
    assert login(adam, enforce_csrf_checks=True).post(path, team_form(**WEEKDAYS)).status_code == 403
    assert Team.objects.get(pk=team.pk).publish_policy in ({}, None)


def test_an_app_gets_its_own_policy_and_gives_it_back_to_the_team(login, app, adam):
    path = reverse("web:app-publish-policy", args=[app.pk])
    client = login(adam)
    assert client.post(path, team_form(**WEEKDAYS, own="on")).status_code == 302
    assert App.objects.get(pk=app.pk).settings["publish_window"]["windows"][0]["to"] == "16:00"
    assert client.post(path, team_form(**WEEKDAYS)).status_code == 302  # "own" unticked
    assert "publish_window" not in App.objects.get(pk=app.pk).settings


@pytest.mark.parametrize("who,linked", [("adam", True), ("mike", False)])
def test_the_calendar_and_the_team_page_link_to_the_policy_for_admins(
    login, app, team, adam, mike, who, linked
):
    user = {"adam": adam, "mike": mike}[who]
    policy = reverse("web:team-publish-policy", args=[team.pk])
    assert (policy in login(user).get(reverse("web:calendar")).content.decode()) is linked
    assert (policy in login(user).get(reverse("web:team", args=[team.pk])).content.decode()) is linked
