"""A release names the code it ships on a third-party platform: `template_id` and `ext_json`."""

from releases.models import State
from tests.conftest import GOOD_NOTES, GOOD_REPORT


def create(api_client, app, user, **fields):
    body = {"version": "1.2.0", "review_notes": GOOD_NOTES, "build_report": GOOD_REPORT, **fields}
    return api_client("post", f"/apps/{app.pk}/releases", user=user, **body)


def test_a_release_is_created_and_edited_with_its_template_and_ext_json(api_client, app, alice):
    created = create(api_client, app, alice, template_id="12", ext_json={"ext": {"shop": "Demo Cafe"}})
    assert created.status_code == 201, created.json()
    release = created.json()
    assert (release["template_id"], release["ext_json"]) == ("12", {"ext": {"shop": "Demo Cafe"}})

    edited = api_client(
        "patch",
        f"/releases/{release['id']}",
        user=alice,
        revision=release["revision"],
        ext_json={"ext": {"shop": "Demo Cafe 2"}},
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["ext_json"] == {"ext": {"shop": "Demo Cafe 2"}}
    assert edited.json()["template_id"] == "12"
    assert edited.json()["revision"] == release["revision"] + 1  # new code voids earlier checks


def test_new_code_after_checks_sends_the_release_back_to_draft(api_client, make_release, alice):
    release = make_release(upto="checked", template_id="12")
    response = api_client(
        "patch", f"/releases/{release.pk}", user=alice, revision=release.revision, template_id="13"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == State.DRAFT


def test_ext_json_must_be_an_object(api_client, app, alice):
    response = create(api_client, app, alice, template_id="12", ext_json=["not", "an", "object"])
    assert response.status_code in (400, 422)
    assert "ext_json" in str(response.json())
    assert not app.releases.exists()
