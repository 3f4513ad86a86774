"""The demo data: a published 1.0.0, a 1.1.0 that passes, and issue 4's "done when" on 1.2.0."""

import copy
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from releases import app_services, services
from releases.errors import Forbidden, Refused
from releases.management.commands.seed_demo import REPORT_1_2
from releases.models import App, CheckRun, Release, State

APPID = "wxd0000000000demo"


def _user(name):
    return get_user_model().objects.get(username=name)


def _check(release, actor, drain, capture):
    """Run the checks as `actor`, let the worker finish the slow ones, return the run."""
    with capture(execute=True):
        try:
            run = services.release_check(release=release, actor=actor)
        except Refused as err:
            assert err.code == "checks_failed"
            run = CheckRun.objects.get(pk=err.details["run_id"])
    drain()
    run.refresh_from_db()
    release.refresh_from_db()
    return run


@pytest.fixture
def seeded(db, monkeypatch, demo_pages):
    """The demo seeded as `make run` does, with PORT pointing at the live server's port."""
    port = demo_pages.rsplit(":", 1)[1]
    monkeypatch.setenv("PORT", port)
    call_command("seed_demo", stdout=io.StringIO())
    return {"app": App.objects.get(appid=APPID), "port": port}


def test_the_demo_seed_runs_its_first_release_through_the_checks_to_published(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = Release.objects.get(version="1.0.0", app__appid=APPID)
    assert first.state == State.PUBLISHED
    run = first.check_runs.get()
    assert run.passed
    assert {r.key: r.status for r in run.results.all() if r.status != "passed"} == {}


def test_seeding_twice_changes_nothing(db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = [
        Release.objects.count(),
        CheckRun.objects.count(),
        App.objects.get(appid=APPID).qualifications.count(),
    ]
    call_command("seed_demo", stdout=io.StringIO())
    assert counts == [Release.objects.count(), CheckRun.objects.count(), 1]


def test_the_demo_policy_url_follows_the_port_of_the_server(seeded):
    assert (
        seeded["app"].privacy_policy_url
        == f"http://127.0.0.1:{seeded['port']}/demo/privacy-policy/no-location/"
    )


def test_the_draft_1_1_0_passes_its_checks_in_the_worker(seeded, drain, django_capture_on_commit_callbacks):
    release = Release.objects.get(app=seeded["app"], version="1.1.0")
    run = _check(release, _user("dev"), drain, django_capture_on_commit_callbacks)
    assert run.passed, {r.key: r.message for r in run.results.all() if r.blocks}


def test_1_2_0_shows_three_failures_with_evidence_passes_after_the_fixes_and_only_another_person_approves(
    seeded, drain, django_capture_on_commit_callbacks, tick_checklist
):
    app, dev, manager = seeded["app"], _user("dev"), _user("manager")
    release = Release.objects.get(app=app, version="1.2.0")
    run = _check(release, dev, drain, django_capture_on_commit_callbacks)
    blocking = {r.key: r for r in run.results.all() if r.blocks}
    assert sorted(blocking) == ["ad_law_claims", "package_size", "privacy_policy"]
    assert [s["text"] for s in blocking["ad_law_claims"].evidence["spans"]] == ["全网最低", "第一"]
    assert blocking["privacy_policy"].evidence["missing"][0]["because"] == [
        "scope.userLocation",
        "wx.getLocation",
    ]
    assert [p["name"] for p in blocking["package_size"].evidence["oversized"]] == ["packageB"]
    assert release.state == State.DRAFT

    # the fixes, as the README of the demo tells them
    report = copy.deepcopy(REPORT_1_2)
    report["packages"] = [p for p in report["packages"] if p["name"] != "packageB"] + [
        {"name": "packageB", "size": 1_400_000},
        {"name": "packageC", "size": 1_200_000},
    ]
    services.release_update(
        release=release,
        actor=dev,
        changes={"release_notes": "新增附近门店：按距离查看离您最近的门店。", "build_report": report},
    )
    app_services.app_update(
        app=app,
        actor=manager,
        changes={"privacy_policy_url": f"http://127.0.0.1:{seeded['port']}/demo/privacy-policy/"},
    )
    release.refresh_from_db()
    tick_checklist(release, dev)
    run = _check(release, dev, drain, django_capture_on_commit_callbacks)
    assert run.passed, {r.key: r.message for r in run.results.all() if r.blocks}
    assert release.state == State.CHECKED

    with pytest.raises(Forbidden):
        services.release_approve(release=release, actor=dev)  # the author
    services.release_approve(release=release, actor=manager)
    assert release.is_approved()
