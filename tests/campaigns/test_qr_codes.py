"""Each campaign app's experience QR code is fetched after its commit, best effort: kept only as a
bounded PNG or JPEG, shown to the campaign's team, and a failure never holds the app."""

import pytest

from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import CampaignQrCode
from releases.campaigns.progress import campaign_out
from releases.platforms import PlatformError
from reviews.platforms.wechat.adapter import WeChatAdapter
from simulator.models import SimCall
from tests.campaigns.conftest import submitted_appids, work


def drive(campaign):
    campaign_drive(campaign.pk)
    work()


def _qr_states(campaign):
    return sorted(row["qr_code"] or "" for row in campaign_out(campaign)["apps"])


def test_every_committed_app_gets_its_experience_qr_code_once(fleet, campaign, client, alice):
    started = campaign(fleet(3))
    work()  # the wave: commits and submissions
    assert len(submitted_appids()) == 3
    drive(started)  # the next driver run (the cron tick) queues the fetches
    assert _qr_states(started) == ["fetched"] * 3
    assert SimCall.objects.filter(path="wxa/get_qrcode").count() == 3
    for code in CampaignQrCode.objects.all():
        assert code.content_type == "image/png" and bytes(code.image).startswith(b"\x89PNG")
    drive(started)  # another run asks nothing again
    assert SimCall.objects.filter(path="wxa/get_qrcode").count() == 3

    entry = started.entries.first()
    client.force_login(alice)
    response = client.get(f"/campaigns/{started.pk}/apps/{entry.app_id}/qr-code")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=300"
    page = client.get(f"/campaigns/{started.pk}/").content.decode()
    assert f"/campaigns/{started.pk}/apps/{entry.app_id}/qr-code" in page


def test_the_qr_code_is_for_the_campaigns_team_only(fleet, campaign, client, olga):
    started = campaign(fleet(1))
    work()
    drive(started)
    entry = started.entries.get()
    url = f"/campaigns/{started.pk}/apps/{entry.app_id}/qr-code"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(olga)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "answer, error",
    [
        (PlatformError("WeChat answered get_qrcode with errcode 86001."), "86001"),
        (b"<html><script>alert(1)</script></html>", "not a PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * (256 * 1024), "larger than 256 KB"),
    ],
)
def test_a_qr_code_that_cannot_be_had_is_shown_as_such_and_holds_nothing(
    fleet, campaign, monkeypatch, answer, error
):
    def preview_qr_code(self, release):
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(WeChatAdapter, "preview_qr_code", preview_qr_code)
    started = campaign(fleet(2))
    work()
    drive(started)
    rows = campaign_out(started)["apps"]
    assert [row["qr_code"] for row in rows] == ["failed", "failed"]
    assert all(error in row["qr_error"] for row in rows)
    assert [row["state"] for row in rows] == ["submitted", "submitted"]
    assert [row["held"] for row in rows] == [None, None]
    assert not CampaignQrCode.objects.exists()
