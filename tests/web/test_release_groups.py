"""A release group ships one version to WeChat and Douyin side by side (issue 16): one approval
covers both (four eyes), each platform follows its own review, and a rejection on Douyin does not
stop WeChat unless the team holds the group on a rejection."""

import copy

import django_rq
import pytest

from config.workers import SimpleWorker
from releases import services
from releases.models import CheckRun, Release, ReleaseGroup, RemediationTask, State
from reviews.polling import review_ask
from simulator.douyin import operations as douyin
from simulator.services import sim_decide
from tests.conftest import GOOD_NOTES, GOOD_REPORT
from tests.fixtures.douyin import DY_APPID, ten_seconds_later


def work() -> None:
    """Run the queued platform steps as a worker would (the submit and publish calls)."""
    queue = django_rq.get_queue("platform")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def create(api, user, apps, **fields):
    return api(
        "post",
        "/release-groups",
        user=user,
        version="2.0.0",
        release_notes="Loyalty stamps",
        review_notes=GOOD_NOTES,
        build_report=copy.deepcopy(GOOD_REPORT),
        apps=[app.pk for app in apps],
        **fields,
    )


def members(group_id) -> dict:
    group = ReleaseGroup.objects.get(pk=group_id)
    return {
        m.release.app.platform_account.platform: Release.objects.get(pk=m.release_id)
        for m in group.members.all()
    }


def platform_states(api, user, group_id) -> dict:
    releases = api("get", f"/release-groups/{group_id}", user=user).json()["releases"]
    return {member["platform"]: member["state"] for member in releases}


def checked(api, alice, group_id) -> None:
    for release in members(group_id).values():
        for item in release.app.checklist:
            services.release_confirm_check(release=release, actor=alice, key=item["key"])
    assert api("post", f"/release-groups/{group_id}/check", user=alice).status_code == 200
    for run in CheckRun.objects.filter(finished_at__isnull=True):
        services.release_check_finish(run_id=run.pk)


def test_creating_a_group_makes_one_draft_per_platform(db, api, alice, wechat_app, douyin_app):
    response = create(api, alice, [wechat_app, douyin_app])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == "2.0.0"
    assert sorted((m["platform"], m["state"]) for m in body["releases"]) == [
        ("douyin", "draft"),
        ("wechat", "draft"),
    ]
    got = api("get", f"/release-groups/{body['id']}", user=alice).json()
    assert {m["release"] for m in got["releases"]} == {r.pk for r in members(body["id"]).values()}


def test_two_apps_on_one_platform_are_not_a_group_and_nothing_is_created(
    db, api, alice, wechat_app, app, team
):
    from releases.models import App

    other = App.objects.create(team=team, platform_account=wechat_app.platform_account, name="B", appid="wxb")
    response = create(api, alice, [wechat_app, other])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "same_platform"
    assert not Release.objects.exists() and not ReleaseGroup.objects.exists()


def test_another_teams_group_is_not_found(db, api, alice, olga, wechat_app, douyin_app):
    group_id = create(api, alice, [wechat_app, douyin_app]).json()["id"]
    assert api("get", f"/release-groups/{group_id}", user=olga).status_code == 404


def test_douyin_rejects_wechat_approves_wechat_is_published_and_douyin_resubmitted(
    sim, douyin_sim, api, alice, mike
):
    group_id = create(api, alice, [sim.app, douyin_sim.app]).json()["id"]
    code = {"revision": 1, "template_id": "7", "ext_json": {"extAppid": DY_APPID}}  # a Douyin template
    assert api("patch", f"/releases/{members(group_id)['douyin'].pk}", user=alice, **code).status_code == 200
    checked(api, alice, group_id)
    assert {r.state for r in members(group_id).values()} == {State.CHECKED}

    own = api("post", f"/release-groups/{group_id}/approve", user=alice).json()  # four eyes: not her own
    assert not any(result["done"] for result in own["results"])
    approved = api("post", f"/release-groups/{group_id}/approve", user=mike).json()
    assert all(result["done"] for result in approved["results"])

    api("post", f"/release-groups/{group_id}/submit", user=mike)
    work()
    wechat, dy = members(group_id)["wechat"], members(group_id)["douyin"]
    assert (wechat.state, wechat.last_error, dy.state, dy.last_error) == (
        State.SUBMITTED,
        "",
        State.SUBMITTED,
        "",
    )

    douyin.decide(DY_APPID, approve=False, reason="小程序服务类目与实际不符")
    sim_decide(auditid=int(wechat.platform_audit_id), outcome="approved")
    review_ask(wechat, source="poll")
    assert members(group_id)["douyin"].state == State.REJECTED

    published = api("post", f"/release-groups/{group_id}/publish", user=mike).json()
    done = {r["release"]: r["done"] for r in published["results"]}
    assert done == {wechat.pk: True, dy.pk: False}  # the rejection on Douyin does not block WeChat
    work()
    states = {
        m["platform"]: m["state"]
        for m in api("get", f"/release-groups/{group_id}", user=mike).json()["releases"]
    }
    assert states == {"wechat": State.PUBLISHED, "douyin": State.REJECTED}

    ten_seconds_later()  # Douyin takes one submission per 10 s
    for task in RemediationTask.objects.filter(release=dy, done_at__isnull=True):  # remediate on Douyin
        note = {"note": "服务类目已改为餐饮 (category fixed)"}
        assert (
            api("post", f"/releases/{dy.pk}/remediation/{task.key}/done", user=alice, **note).status_code
            == 200
        )
    resubmitted = api("post", f"/releases/{dy.pk}/submit", user=mike)  # the member's own action
    assert resubmitted.status_code == 200, resubmitted.content
    work()
    douyin.decide(DY_APPID, approve=True)
    api("post", f"/release-groups/{group_id}/publish", user=mike)
    work()
    states = {
        m["platform"]: m["state"]
        for m in api("get", f"/release-groups/{group_id}", user=mike).json()["releases"]
    }
    assert states == {"wechat": State.PUBLISHED, "douyin": State.PUBLISHED}


@pytest.mark.parametrize("hold", [True])
def test_a_group_held_on_rejection_publishes_nothing_while_one_platform_is_rejected(
    db, api, alice, wechat_app, douyin_app, hold
):
    group_id = create(api, alice, [wechat_app, douyin_app], hold_on_rejection=hold).json()["id"]
    Release.objects.filter(pk=members(group_id)["douyin"].pk).update(state=State.REJECTED)
    Release.objects.filter(pk=members(group_id)["wechat"].pk).update(state=State.APPROVED)
    response = api("post", f"/release-groups/{group_id}/publish", user=alice)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "group_held"
    assert members(group_id)["wechat"].state == State.APPROVED
