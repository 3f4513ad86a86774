"""POST /api/v1/apps/{id}/builds: CI posts what its tools print and the release follows (issue 15)."""

import copy

import pytest

from releases.models import AuditEvent, Build, Release
from tests.conftest import GOOD_NOTES
from tests.releases.test_builds import APP_JSON, UPLOAD_RESULT
from tests.web.conftest import error_code

COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"


def build(**fields):
    body = {
        "version": "1.4.0",
        "description": "Order ahead from the menu",
        "commit": COMMIT,
        "branch": "release/1.4",
        "ci_url": "https://ci.example.com/demo-cafe/builds/812",
        "miniprogram_ci": copy.deepcopy(UPLOAD_RESULT),
        "app_json": copy.deepcopy(APP_JSON),
    }
    body.update(fields)
    return body


def test_a_build_creates_the_release_with_its_derived_report(api, app, alice):
    response = api("post", f"/apps/{app.pk}/builds", user=alice, **build())
    assert response.status_code == 201, response.content
    body = response.json()
    release = Release.objects.get(pk=body["release"]["id"])
    assert body["id"] == Build.objects.get(release=release).pk
    assert body["release"]["version"] == "1.4.0"
    assert body["release"]["release_notes"] == "Order ahead from the menu"
    assert body["release"]["build"] == {
        "commit": COMMIT,
        "branch": "release/1.4",
        "ci_url": "https://ci.example.com/demo-cafe/builds/812",
    }
    report = body["release"]["build_report"]
    assert report["packages"][0] == {"name": "__FULL__", "size": 1843200}
    assert "packageOrder/pages/checkout/checkout" in report["pages"]
    assert report["permissions"] == ["scope.userLocation", "getLocation", "chooseAddress"]
    assert AuditEvent.objects.get(release_id=release.pk, action="create").data["commit"] == COMMIT


def test_the_same_build_posted_twice_is_recorded_once(api, app, alice):
    first = api("post", f"/apps/{app.pk}/builds", user=alice, **build()).json()
    again = api("post", f"/apps/{app.pk}/builds", user=alice, **build())
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert Build.objects.count() == 1
    assert again.json()["release"]["revision"] == first["release"]["revision"]


def test_a_new_commit_of_a_checked_version_sends_it_back_to_draft(api, app, alice, tick_checklist):
    """The checks passed for the old code; the new code must pass them again."""
    app_json = {k: v for k, v in APP_JSON.items() if k not in ("permission", "requiredPrivateInfos")}
    body = build(app_json=app_json, build_report={"first_screen_ms": 900, "error_monitoring": "sentry"})
    first = api("post", f"/apps/{app.pk}/builds", user=alice, **body).json()["release"]
    api("patch", f"/releases/{first['id']}", user=alice, revision=1, review_notes=GOOD_NOTES)
    release = tick_checklist(Release.objects.get(pk=first["id"]), alice)
    assert api("post", f"/releases/{release.pk}/check", user=alice).json()["state"] == "checked"
    release.refresh_from_db()
    checked_revision, checked_hash = release.revision, release.content_hash()

    again = api("post", f"/apps/{app.pk}/builds", user=alice, **{**body, "commit": "1a2b3c4d5e6f"})

    assert again.status_code == 201
    shown = again.json()["release"]
    assert (shown["state"], shown["revision"], shown["build"]["commit"]) == (
        "draft",
        checked_revision + 1,
        "1a2b3c4d5e6f",
    )
    release.refresh_from_db()
    assert release.content_hash() != checked_hash
    assert Build.objects.filter(release=release).count() == 2


def test_a_version_already_submitted_keeps_its_code(api, app, alice, make_release):
    make_release(version="1.4.0", upto="submitted")
    response = api("post", f"/apps/{app.pk}/builds", user=alice, **build())
    assert response.status_code == 409
    assert error_code(response) == "version_exists"
    assert not Build.objects.exists()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"miniprogram_ci": {"subPackageInfo": [{"name": "__APP__", "size": -5}]}},
            "miniprogram_ci.subPackageInfo[0].size",
        ),
        ({"app_json": {"pages": [1]}}, "app_json.pages[0]"),
        ({"ci_url": "javascript:alert(1)"}, "ci_url"),
        ({"commit": "HEAD"}, "commit"),
        ({"version": "1.4"}, "version"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_malformed_build_is_a_400_naming_the_field_and_changes_nothing(api, app, alice, fields, named):
    response = api("post", f"/apps/{app.pk}/builds", user=alice, **build(**fields))
    assert response.status_code == 400, response.content
    assert named in response.content.decode()
    assert not Release.objects.exists()
    assert not Build.objects.exists()


def test_a_viewer_cannot_post_a_build(api, app, vera):
    response = api("post", f"/apps/{app.pk}/builds", user=vera, **build())
    assert response.status_code == 403
    assert not Release.objects.exists()


def test_another_teams_app_is_not_found(api, app, olga):
    assert api("post", f"/apps/{app.pk}/builds", user=olga, **build()).status_code == 404


def test_a_release_made_from_a_build_passes_the_blocking_checks(api, app, alice):
    """What CI sends is enough: nothing blocks for lack of a hand-typed report."""
    app_json = {k: v for k, v in APP_JSON.items() if k not in ("permission", "requiredPrivateInfos")}
    body = build(app_json=app_json, build_report={"first_screen_ms": 900, "error_monitoring": "sentry"})
    release_id = api("post", f"/apps/{app.pk}/builds", user=alice, **body).json()["release"]["id"]
    api("patch", f"/releases/{release_id}", user=alice, revision=1, review_notes=GOOD_NOTES)
    response = api("post", f"/releases/{release_id}/check", user=alice)
    assert response.status_code == 200, response.content
    assert not [
        c for c in response.json()["checks"] if c["status"] == "failed" and c["severity"] == "blocking"
    ]


def test_the_release_page_links_the_commit_and_the_ci_run(api, app, alice, login):
    app.repository_url = "https://github.com/acme/shop"
    app.save()
    release_id = api("post", f"/apps/{app.pk}/builds", user=alice, **build()).json()["release"]["id"]
    page = login(alice).get(f"/releases/{release_id}/").content.decode()
    assert f'href="https://github.com/acme/shop/commit/{COMMIT}"' in page
    assert 'href="https://ci.example.com/demo-cafe/builds/812"' in page
    assert "release/1.4" in page


def test_without_a_repository_the_commit_is_shown_but_not_linked(api, app, alice, login):
    release_id = api("post", f"/apps/{app.pk}/builds", user=alice, **build()).json()["release"]["id"]
    page = login(alice).get(f"/releases/{release_id}/").content.decode()
    assert COMMIT[:10] in page
    assert "/commit/" not in page
