"""Rejection screenshots become pictures (issue 15, wechat-fleet.md §6): fetched after the rejection
commits, in a job, best effort. A failure is recorded and retried later; the rejection and its
reason never depend on it; what is stored is a sniffed picture of bounded size, fetched once."""

from datetime import timedelta

import django_rq
import pytest
import time_machine
from django.utils import timezone

from releases.models import Rejection, State
from releases.platforms import adapter_for
from reviews.models import RejectionScreenshot, ReviewWatch
from reviews.polling import review_poll, review_watch_start
from reviews.screenshots import MAX_BYTES, screenshots_fetch, screenshots_sweep, sniff
from simulator import pictures
from simulator.models import SimCall, SimSubmission
from simulator.services import sim_configure, sim_decide

REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rejected(sim, wechat_release):
    """rejected(media ids): a release the simulated WeChat rejected with those screenshots, polled."""

    def reject(*media_ids: str):
        sim_configure(pushes_enabled=False)
        auditid = adapter_for(sim.account).submit_audit(sim.app, version_desc="notes").auditid
        release = wechat_release(audit_id=str(auditid))
        review_watch_start(release)
        sim_decide(auditid=auditid, outcome="rejected", reason=REASON, screenshots=media_ids)
        ReviewWatch.objects.filter(release=release).update(next_poll_at=timezone.now())
        django_rq.get_queue("platform").empty()
        assert review_poll(release.pk) == "polled"
        release.refresh_from_db()
        assert release.state == State.REJECTED
        return Rejection.objects.get(release=release)

    return reject


def _material_calls() -> list[str]:
    return list(
        SimCall.objects.filter(path__in=["cgi-bin/material/get_material", "cgi-bin/media/get"])
        .order_by("at", "pk")
        .values_list("path", flat=True)
    )


def test_a_rejection_s_screenshots_are_fetched_as_pictures_by_a_job_queued_after_it_commits(rejected):
    rejection = rejected("sim_media_aa", "sim_media_bb")

    queued = [job.func_name for job in django_rq.get_queue("platform").jobs]
    assert "reviews.jobs.fetch_screenshots" in queued
    assert [p.state for p in rejection.pictures.all()] == ["pending", "pending"]  # planned with it

    assert screenshots_fetch(rejection.pk) == 2
    first, second = rejection.pictures.order_by("position")
    assert (first.media_id, second.media_id) == ("sim_media_aa", "sim_media_bb")
    assert first.state == second.state == "fetched"
    assert first.content_type == "image/png" and bytes(first.data).startswith(PNG)
    assert bytes(first.data) != bytes(second.data) and first.size == len(bytes(first.data))
    assert _material_calls() == ["cgi-bin/material/get_material"] * 2

    assert screenshots_fetch(rejection.pk) == 0  # a repeated job fetches nothing twice
    assert len(_material_calls()) == 2


def test_an_unknown_media_id_is_tried_once_as_temporary_media_then_given_up_the_reason_kept(rejected):
    rejection = rejected("sim_media_gone")
    SimSubmission.objects.update(screenshot="")  # WeChat no longer knows the id: 40007

    assert screenshots_fetch(rejection.pk) == 0
    failed = rejection.pictures.get()
    assert failed.state == "failed" and "40007" in failed.last_error and failed.data is None
    assert _material_calls() == ["cgi-bin/material/get_material", "cgi-bin/media/get"]  # the fallback once
    rejection.refresh_from_db()
    assert rejection.reason == REASON and rejection.release.rejection_reason == REASON
    assert screenshots_sweep() == 0  # failed for good: nothing queued again


def test_a_transient_failure_is_retried_later_and_then_fetched(rejected):
    rejection = rejected("sim_media_later")
    sim_configure(error_rate_pct=100)  # WeChat answers -1 (busy) to everything

    assert screenshots_fetch(rejection.pk) == 0
    picture = rejection.pictures.get()
    assert picture.state == "pending" and picture.attempts == 1 and "busy" in picture.last_error
    assert picture.next_attempt_at > timezone.now() + timedelta(seconds=30)
    assert screenshots_fetch(rejection.pk) == 0 and picture.attempts == 1  # not due yet: no call

    sim_configure(error_rate_pct=0)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        assert screenshots_sweep() == 1  # due again: queued
        assert screenshots_fetch(rejection.pk) == 1
    assert rejection.pictures.get().state == "fetched"


def test_an_answer_that_is_no_picture_is_not_kept(rejected, monkeypatch):
    rejection = rejected("sim_media_html")
    monkeypatch.setattr(pictures, "screenshot", lambda media_id: b"<svg onload=alert(1)></svg>")

    assert screenshots_fetch(rejection.pk) == 0
    picture = rejection.pictures.get()
    assert picture.state == "failed" and picture.data is None
    assert "not a PNG" in picture.last_error


def test_an_answer_larger_than_the_bound_is_refused_without_being_kept(rejected, monkeypatch):
    rejection = rejected("sim_media_huge")
    monkeypatch.setattr(pictures, "screenshot", lambda media_id: PNG + b"\0" * MAX_BYTES)

    assert screenshots_fetch(rejection.pk) == 0
    picture = rejection.pictures.get()
    assert picture.state == "failed" and picture.data is None and "larger" in picture.last_error


def test_the_sweep_plans_a_rejection_whose_screenshots_were_never_planned(rejected):
    rejection = rejected("sim_media_x")
    RejectionScreenshot.objects.all().delete()  # as if Redis and the plan were lost

    django_rq.get_queue("platform").empty()
    assert screenshots_sweep() == 1
    assert rejection.pictures.get().state == "pending"
    assert screenshots_fetch(rejection.pk) == 1


def test_the_picture_type_is_read_from_its_bytes():
    assert sniff(pictures.screenshot("a")) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff(b"GIF89a...") == "image/gif"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(b"<html><script>") is None
    assert sniff(b'{"errcode":40007}') is None
