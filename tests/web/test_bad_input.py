"""Every bad input is a 4xx, on the API with the envelope {"error": {"code", "message"}}, and
changes nothing: numbers out of range, Unicode digits, NUL characters, bodies over the limit,
unknown API paths and wrong verbs."""

import json

import pytest
from django.conf import settings

from releases.models import Release
from releases.tokens import api_token_create
from tests.web.conftest import error_code


def test_an_offset_past_any_database_integer_is_a_400_not_a_500(api, app, alice):
    response = api("get", f"/apps/{app.pk}/releases?offset=99999999999999999999", user=alice)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert "offset" in response.json()["error"]["details"]


def test_a_body_over_the_upload_limit_is_a_413_in_the_envelope(client, app, alice):
    body = json.dumps({"version": "1.0.0", "release_notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post(
        f"/api/v1/apps/{app.pk}/releases",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token_create(user=alice)}"},
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not Release.objects.exists()


def test_a_form_over_the_upload_limit_is_a_413_on_the_pages_too(client, app, alice):
    client.force_login(alice)
    response = client.post(
        f"/apps/{app.pk}/releases/new", {"version": "1.0.0", "release_notes": "x" * 3_000_000}
    )
    assert response.status_code == 413
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    "url", ["/releases/?app=²", "/analytics/?days=²", "/analytics/?app=²", "/analytics/?team=٣"]
)
def test_unicode_digits_in_a_page_query_are_a_400(client, alice, app, url):
    client.force_login(alice)
    assert client.get(url).status_code == 400


def test_a_nul_character_in_a_json_body_is_a_400_naming_the_field_and_creates_nothing(api, app, alice):
    response = api("post", f"/apps/{app.pk}/releases", user=alice, version="1.0.0", release_notes="a\x00b")
    assert response.status_code == 400
    assert "release_notes" in response.json()["error"]["details"]
    response = api("post", f"/apps/{app.pk}/releases", user=alice, version="1.0.0", build_report={"k\x00": 1})
    assert response.status_code == 400
    assert not Release.objects.exists()


def test_a_nul_character_in_an_api_path_or_query_is_a_400_in_the_envelope(api, team, adam):
    response = api("put", f"/teams/{team.pk}/members/a%00b", user=adam, capacities=["qa"])
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert api("get", "/releases?state=%00", user=adam).status_code == 400


def test_a_nul_character_in_a_page_form_is_a_400_and_changes_nothing(client, make_release, mike):
    release = make_release(upto="checked")
    client.force_login(mike)
    response = client.post(f"/releases/{release.pk}/actions/send-back", {"comment": "fix\x00it"})
    assert response.status_code == 400
    release.refresh_from_db()
    assert release.state == "checked"


def test_an_unknown_api_path_is_a_json_404(api, alice):
    response = api("get", "/no-such-thing", user=alice)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert error_code(response) == "not_found"


def test_a_wrong_verb_is_a_json_405_saying_which_verbs_the_path_takes(api, app, alice):
    response = api("delete", f"/apps/{app.pk}", user=alice)
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "GET" in response["Allow"] and "PATCH" in response["Allow"]
