"""The manual checklist: per-app items ticked per revision by a person, voided by edits, part of the gate."""

import pytest
from django.urls import reverse

from releases import app_services, services
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.gate.facts import facts_for
from releases.models import AuditEvent, State

DEFAULT_KEYS = ["tested_ios", "tested_android", "tested_wechat_latest", "payment", "login"]


def test_every_app_starts_with_the_default_checklist(app):
    assert [item["key"] for item in app.checklist] == DEFAULT_KEYS


def test_items_appear_in_checks_as_manual_and_pending_until_ticked(api_client, make_release, alice):
    release = make_release()
    body = api_client("get", f"/releases/{release.pk}", user=alice).json()
    manual = [c for c in body["checks"] if c["kind"] == "manual"]
    assert [c["key"] for c in manual] == DEFAULT_KEYS
    assert {c["status"] for c in manual} == {"pending"} and {c["severity"] for c in manual} == {"error"}


def test_the_confirm_endpoint_ticks_an_item_recording_who_and_when(api_client, make_release, alice, vera):
    release = make_release()
    assert api_client("post", f"/releases/{release.pk}/checks/payment/confirm", user=vera).status_code == 403
    response = api_client("post", f"/releases/{release.pk}/checks/payment/confirm", user=alice)
    assert response.status_code == 200, response.content
    item = next(c for c in response.json()["checks"] if c["key"] == "payment")
    assert item["status"] == "passed" and item["evidence"]["confirmed_by"] == "alice"
    assert item["evidence"]["confirmed_at"]
    event = AuditEvent.objects.get(release_id=release.pk, action="checklist_confirm")
    assert (event.actor_name, event.data) == (
        "alice",
        {"key": "payment", "label": item["title"], "revision": 1},
    )
    # ticking again is harmless: no second tick, no second event
    api_client("post", f"/releases/{release.pk}/checks/payment/confirm", user=alice)
    assert AuditEvent.objects.filter(release_id=release.pk, action="checklist_confirm").count() == 1
    unknown = api_client("post", f"/releases/{release.pk}/checks/review_notes/confirm", user=alice)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_check")


def test_a_content_change_voids_the_ticks(make_release, alice, tick_checklist):
    release = tick_checklist(make_release(), alice)
    assert release.is_checklist_complete()
    services.release_update(release=release, actor=alice, changes={"release_notes": "One more thing."})
    release.refresh_from_db()
    assert release.revision == 2 and len(facts_for(release).unticked) == 5
    assert release.checklist_ticks.count() == 5  # history kept, just no longer counting


def test_passing_checks_wait_for_the_checklist_and_the_last_tick_moves_the_release_on(make_release, alice):
    release = make_release()
    services.release_check(release=release, actor=alice)
    release.refresh_from_db()
    assert release.state == State.DRAFT
    for key in DEFAULT_KEYS[:-1]:
        services.release_confirm_check(release=release, actor=alice, key=key)
    release.refresh_from_db()
    assert release.state == State.DRAFT
    services.release_confirm_check(release=release, actor=alice, key=DEFAULT_KEYS[-1])
    release.refresh_from_db()
    assert release.state == State.CHECKED
    event = AuditEvent.objects.get(release_id=release.pk, action="check")
    assert event.actor_name == "alice" and event.data["completed_by"] == "checklist"


def test_ticks_alone_do_not_pass_failing_checks(make_release, alice, tick_checklist):
    release = tick_checklist(make_release(review_notes="test"), alice)
    with pytest.raises(Refused):
        services.release_check(release=release, actor=alice)
    release.refresh_from_db()
    assert release.state == State.DRAFT


def test_the_checklist_is_ticked_on_drafts_only(make_release, alice):
    release = make_release(upto="checked")
    with pytest.raises(Refused) as err:
        services.release_confirm_check(release=release, actor=alice, key="payment")
    assert err.value.code == "invalid_state"


def test_release_managers_edit_the_template_and_unchanged_items_keep_their_keys(app, alice, mike):
    with pytest.raises(Forbidden):
        app_services.app_set_checklist(app=app, actor=alice, items=[{"label": "x"}])
    items = [
        {"label": app.checklist[0]["label"]},
        {"label": "Share card renders on iPad"},
        {"label": "分享卡片"},
    ]
    checklist = app_services.app_set_checklist(app=app, actor=mike, items=items)
    assert [i["key"] for i in checklist] == ["tested_ios", "share_card_renders_on_ipad", "item"]
    app.refresh_from_db()
    assert app.checklist == checklist
    assert AuditEvent.objects.filter(action="checklist_update", app_id=app.pk).count() == 1
    for bad in ([{"label": ""}], [{"key": "review_notes", "label": "clash"}], [{"key": "A b", "label": "x"}]):
        with pytest.raises(Invalid):
            app_services.app_set_checklist(app=app, actor=mike, items=bad)


def test_an_empty_checklist_lets_passing_checks_move_the_release_on(app, mike, make_release, alice):
    app_services.app_set_checklist(app=app, actor=mike, items=[])
    release = make_release()
    services.release_check(release=release, actor=alice)
    release.refresh_from_db()
    assert release.state == State.CHECKED


def test_a_tick_on_another_teams_release_is_not_found(make_release, olga):
    release = make_release()
    with pytest.raises((Forbidden, NotFound)):
        services.release_confirm_check(release=release, actor=olga, key="payment")


def test_the_release_page_lists_the_checklist_with_tick_buttons(client, make_release, alice, vera):
    release = make_release()
    confirm = reverse("web:release-confirm", args=[release.pk, "payment"])
    client.force_login(alice)
    response = client.post(confirm, follow=True)
    assert "Confirmed: Payment tested end to end." in response.content.decode()
    page = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    section = page[page.index('aria-labelledby="checklist-title"') :]
    assert "Confirmed by alice" in section
    assert reverse("web:release-confirm", args=[release.pk, "login"]) in section
    assert confirm not in section  # ticked: no button any more
    client.force_login(vera)
    page = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    assert reverse("web:release-confirm", args=[release.pk, "login"]) not in page


def test_a_label_given_twice_gets_two_keys_and_a_given_key_is_never_taken_by_a_derived_one(app, mike):
    label = app.checklist[0]["label"]  # its key would be kept for both copies
    checklist = app_services.app_set_checklist(
        app=app,
        actor=mike,
        items=[{"label": label}, {"label": label}, {"label": "b"}, {"key": "b", "label": "B"}],
    )
    keys = [i["key"] for i in checklist]
    assert keys[0] == "tested_ios" and keys[3] == "b"
    assert len(set(keys)) == 4
