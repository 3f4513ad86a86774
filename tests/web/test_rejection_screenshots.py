"""The release page shows a rejection's screenshots as thumbnails linking to the picture, served only
to the release's team, with the sniffed type and headers that let the browser run nothing."""

import re

import pytest
from django.utils import timezone

from releases import services
from releases.models import Rejection
from reviews.models import RejectionScreenshot
from simulator import pictures

REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>"


@pytest.fixture
def rejected(make_release, mike):
    release = make_release(upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    rejection = Rejection.objects.get(release=release)
    Rejection.objects.filter(pk=rejection.pk).update(screenshots=["m1", "m2", "m3"])  # WeChat's media ids
    fetched = RejectionScreenshot.objects.create(
        rejection=rejection,
        position=0,
        media_id="m1",
        state="fetched",
        content_type="image/png",
        data=pictures.screenshot("m1"),
        size=1,
        fetched_at=timezone.now(),
    )
    RejectionScreenshot.objects.create(
        rejection=rejection, position=1, media_id="m2", state="failed", last_error="errcode 40007"
    )
    RejectionScreenshot.objects.create(rejection=rejection, position=2, media_id="m3")
    return release, fetched


def _url(release, picture) -> str:
    return f"/releases/{release.pk}/screenshots/{picture.pk}"


def test_the_release_page_shows_thumbnails_linking_to_the_pictures_and_says_which_are_missing(
    client, alice, rejected
):
    release, picture = rejected
    client.force_login(alice)
    html = client.get(f"/releases/{release.pk}/").content.decode()
    assert re.search(rf'<a href="{_url(release, picture)}"[^>]*>\s*<img src="{_url(release, picture)}"', html)
    assert "Screenshot 2 could not be fetched" in html and "m2" in html
    assert "Screenshot 3: fetching…" in html


def test_a_member_gets_the_picture_with_its_sniffed_type_and_safe_headers(client, alice, rejected):
    release, picture = rejected
    client.force_login(alice)
    response = client.get(_url(release, picture))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == pictures.screenshot("m1")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")


def test_another_team_and_strangers_never_get_the_picture(client, olga, rejected):
    release, picture = rejected
    assert client.get(_url(release, picture)).status_code == 302  # to the login page
    client.force_login(olga)
    assert client.get(_url(release, picture)).status_code == 404


def test_a_picture_not_fetched_or_of_another_release_is_a_404(client, alice, rejected, make_release):
    release, picture = rejected
    client.force_login(alice)
    missing = RejectionScreenshot.objects.get(media_id="m3")
    assert client.get(_url(release, missing)).status_code == 404
    other = make_release("1.0.1")
    assert client.get(_url(other, picture)).status_code == 404


def test_the_chinese_page_names_the_screenshots_in_chinese(client, alice, rejected):
    release, _ = rejected
    alice.language = "zh-hans"
    client.force_login(alice)
    html = client.get(f"/releases/{release.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "审核员的截图" in html
