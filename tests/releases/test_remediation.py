"""A rejection becomes a to-do list on the release: tasks from the playbooks, completed with
evidence, or overridden with a reason; resubmitting is refused while required ones are open."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import include, path
from ninja import NinjaAPI

import config.urls
from releases import outcome_services, services
from releases.errors import Forbidden, Invalid
from releases.limits import submit_refusal
from releases.models import AuditEvent, Rejection, RemediationTask
from releases.playbooks.seed import seed_playbooks
from releases.rejection_recording import on_rejected, sync_rejections
from releases.remediation import feedback_info, remediation_complete, remediation_override
from releases.tokens import api_token_create
from web.api import BearerToken
from web.api import api as main_api
from web.api.reviews import release_extras, router
from web.review_pages import countdown, release_context


# The router is mounted on the main API and the pages at the site root in config/urls.py;
# until that wiring lands, these tests mount them on a twin API and next to the site's URLs.
def _urlpatterns() -> list:
    patterns = []
    if not any(mounted is router for _, mounted in main_api._routers):
        twin = NinjaAPI(auth=BearerToken(), urls_namespace="reviews_api_test", docs_url=None)
        for exc, handler in main_api._exception_handlers.items():
            twin.add_exception_handler(exc, handler)
        twin.add_router("", router)
        patterns.append(path("api/v1/", twin.urls))
    if not any(getattr(p, "namespace", None) == "remediation" for p in config.urls.urlpatterns):
        patterns.append(path("", include("web.review_urls")))
    return patterns + list(config.urls.urlpatterns)


urlpatterns = _urlpatterns()
pytestmark = pytest.mark.urls(__name__)

PRIVACY = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>2:首屏加载时间过长"


@pytest.fixture
def playbooks(db):
    seed_playbooks()


@pytest.fixture
def api(client):
    def call(method, url, user, **body):
        headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
        kwargs = {"content_type": "application/json", "data": body} if method == "post" else {}
        return getattr(client, method)(f"/api/v1{url}", headers=headers, **kwargs)

    return call


@pytest.fixture
def rejected(make_release, mike, playbooks):
    """A release rejected for its privacy policy and its first screen, recorded as WeChat would."""

    def make(version="1.0.0", reason=PRIVACY):
        release = make_release(version, upto="submitted")
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
        release.refresh_from_db()
        on_rejected(release)
        return release

    return make


def _keys(release):
    return list(release.remediation_tasks.order_by("position").values_list("key", flat=True))


def test_a_rejection_plans_one_task_per_playbook_step(rejected):
    release = rejected()
    assert _keys(release) == [
        "privacy_policy.permissions",
        "privacy_policy.reachable",
        "privacy_policy.guideline",
        "explain_to_reviewer",
        "performance.subpackages",
        "performance.requests",
        "performance.cdn",
    ]
    task = release.remediation_tasks.get(key="privacy_policy.permissions")
    assert (task.required, task.check_key, task.category) == (True, "privacy_policy", "privacy_policy")
    assert task.playbook_version.number == 1
    planned = AuditEvent.objects.get(release_id=release.pk, action="remediation_planned")
    assert planned.data["categories"] == ["privacy_policy", "performance"]


def test_steps_shared_by_two_playbooks_become_one_task(rejected):
    release = rejected(reason="1:类目错放<br>2:资质不符")
    keys = _keys(release)
    assert keys.count("qualification.verify") == 1
    assert keys.count("explain_to_reviewer") == 1


def test_rejections_are_recorded_from_the_audit_trail_without_the_hook(
    make_release, mike, playbooks, monkeypatch
):
    # As older code stored it: the event, with its rejection recorded afterwards and lost.
    monkeypatch.setattr(outcome_services, "_record_rejection", lambda release, event: None)
    release = make_release(upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="隐私政策不完善")
    assert sync_rejections() == 1
    assert sync_rejections() == 0
    assert Rejection.objects.get().categories == ["privacy_policy"]


def test_screenshots_come_from_the_rejection_event(make_release, playbooks):
    release = make_release(upto="submitted")
    services.release_review_decided(
        release=release,
        outcome="rejected",
        reason="图片违规",
        data={"screenshots": "m1|m2", "audit_id": "42"},
    )
    rejection = on_rejected(release)
    assert (rejection.screenshots, rejection.audit_id) == (["m1", "m2"], "42")


def test_the_rejection_time_is_the_platforms_when_it_says_so(make_release, playbooks):
    release = make_release(upto="submitted")
    services.release_review_decided(
        release=release,
        outcome="rejected",
        reason="图片违规",
        data={"platform_at": "2026-03-10T09:00:00+08:00"},
    )
    on_rejected(release)
    assert Rejection.objects.get(release=release).at == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def test_a_category_without_a_playbook_still_gets_a_task(make_release, mike):
    release = make_release(upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="价格异常")
    on_rejected(release)
    assert _keys(release) == ["abnormal_price.fix"]


def test_resubmitting_is_refused_while_required_tasks_are_open(rejected, alice):
    release = rejected()
    code, message = submit_refusal(release)
    assert code == "remediation_incomplete"
    assert "4 required remediation tasks are still open" in message
    for task in release.remediation_tasks.filter(required=True):
        remediation_complete(release=release, key=task.key, actor=alice, note=f"Done: {task.title}")
    assert submit_refusal(release) is None


def test_completing_a_task_needs_a_note_and_is_audited(rejected, alice):
    release = rejected()
    with pytest.raises(Invalid) as refused:
        remediation_complete(release=release, key="privacy_policy.permissions", actor=alice, note="  ")
    assert refused.value.code == "note_required"
    task = remediation_complete(
        release=release,
        key="privacy_policy.permissions",
        actor=alice,
        note="Policy §3 explains the phone number",
    )
    assert (task.done, task.done_by, task.note) == (True, alice, "Policy §3 explains the phone number")
    event = AuditEvent.objects.filter(release_id=release.pk, action="remediation_done").get()
    assert event.actor_name == "alice"
    assert event.data == {"key": "privacy_policy.permissions", "note": "Policy §3 explains the phone number"}


def test_an_override_needs_a_reason_a_release_manager_and_is_audited(rejected, alice, mike):
    release = rejected()
    with pytest.raises(Forbidden):
        remediation_override(release=release, actor=alice, reason="Reviewer error")
    with pytest.raises(Invalid) as refused:
        remediation_override(release=release, actor=mike, reason="")
    assert refused.value.code == "reason_required"
    assert AuditEvent.objects.filter(action="remediation_override").count() == 0
    waived = remediation_override(release=release, actor=mike, reason="Reviewer misread the policy; appealed")
    assert len(waived) == 4
    assert submit_refusal(release) is None
    event = AuditEvent.objects.get(action="remediation_override")
    assert event.data["reason"] == "Reviewer misread the policy; appealed"
    assert event.actor_name == "mike"


def test_the_same_reason_again_reopens_its_tasks(rejected, alice, mike, nina):
    release = rejected(reason="隐私政策不完善")
    for task in release.remediation_tasks.filter(required=True):
        remediation_complete(release=release, key=task.key, actor=alice, note="fixed")
    services.release_submit(release=release, actor=mike)
    services.release_record_outcome(
        release=release, actor=mike, outcome="rejected", reason="隐私政策仍不完善"
    )
    release.refresh_from_db()
    on_rejected(release)
    assert not release.remediation_tasks.get(key="privacy_policy.permissions").done
    assert submit_refusal(release)[0] == "remediation_incomplete"


def test_the_explanation_task_is_the_feedback_for_the_reviewer(rejected, alice):
    release = rejected()
    assert feedback_info(release) is None
    remediation_complete(
        release=release, key="explain_to_reviewer", actor=alice, note="Policy now explains phone"
    )
    assert feedback_info(release) == "Policy now explains phone"
    with pytest.raises(Invalid):
        remediation_complete(release=release, key="explain_to_reviewer", actor=alice, note="x" * 201)


def test_release_extras_show_the_rejection_and_the_tasks(rejected, alice):
    release = rejected()
    remediation_complete(release=release, key="privacy_policy.permissions", actor=alice, note="Policy §3")
    extras = release_extras(release)
    assert extras["rejection"]["reason"] == PRIVACY
    assert [(i["text"], i["category"]) for i in extras["rejection"]["items"]] == [
        ("隐私政策不完善: (1) 未说明获取手机号的用途", "privacy_policy"),
        ("首屏加载时间过长", "performance"),
    ]
    first = extras["remediation"][0]
    assert {k: first[k] for k in ("key", "title", "required", "done", "done_by", "note")} == {
        "key": "privacy_policy.permissions",
        "title": "Explain every permission in the privacy policy",
        "required": True,
        "done": True,
        "done_by": "alice",
        "note": "Policy §3",
    }


def test_a_release_never_rejected_has_no_rejection_and_no_tasks(make_release):
    assert release_extras(make_release()) == {"rejection": None, "remediation": []}


def test_the_api_completes_a_task(api, rejected, alice):
    release = rejected()
    response = api(
        "post", f"/releases/{release.pk}/remediation/privacy_policy.permissions/done", alice, note="§3"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["key"], body["done"], body["done_by"], body["note"]) == (
        "privacy_policy.permissions",
        True,
        "alice",
        "§3",
    )


def test_the_api_refuses_an_empty_note(api, rejected, alice):
    release = rejected()
    response = api(
        "post", f"/releases/{release.pk}/remediation/privacy_policy.permissions/done", alice, note=""
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "note_required"
    assert not RemediationTask.objects.get(release=release, key="privacy_policy.permissions").done


def test_the_api_hides_other_teams_releases_and_unknown_tasks(api, rejected, olga, alice):
    release = rejected()
    url = f"/releases/{release.pk}/remediation/privacy_policy.permissions/done"
    response = api("post", url, olga, note="mine now")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = api("post", f"/releases/{release.pk}/remediation/nope/done", alice, note="x")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_task")


def test_viewers_cannot_complete_tasks(api, rejected, vera):
    release = rejected()
    response = api(
        "post", f"/releases/{release.pk}/remediation/privacy_policy.permissions/done", vera, note="x"
    )
    assert response.status_code == 403


def test_the_api_overrides_with_a_reason(api, rejected, mike):
    release = rejected()
    response = api("post", f"/releases/{release.pk}/remediation/override", mike, reason="")
    assert response.status_code == 400
    response = api("post", f"/releases/{release.pk}/remediation/override", mike, reason="Appeal accepted")
    assert response.status_code == 200
    assert all(t["waived"] for t in response.json()["results"] if t["required"])


# -- pages -------------------------------------------------------------------------------------


def test_the_release_page_fragment_shows_the_rejection_and_the_tasks(rejected, alice):
    release = rejected()
    html = render_to_string(
        "reviews/_remediation.html", {**release_context(release, alice), "release": release}
    )
    assert "未说明获取手机号的用途" in html
    assert "Explain every permission in the privacy policy" in html
    assert "4 required tasks open" in html
    assert f"/releases/{release.pk}/remediation/privacy_policy.permissions/done" in html
    assert "Override open tasks" not in html  # alice is a developer


def test_the_limits_fragment_shows_what_is_left_and_a_countdown(rejected, mike):
    release = rejected()
    html = render_to_string("reviews/_limits.html", release_context(release, mike))
    assert "Same-reason rejections in a row" in html
    assert "Days of the resubmission window used" in html
    assert "Withdrawals today" not in html  # a rejected release is not in review: nothing to withdraw
    assert "in 6 d 23 h" in html or "in 7 d 0 h" in html


def test_a_task_is_completed_from_the_page(client, rejected, alice):
    release = rejected()
    client.force_login(alice)
    url = f"/releases/{release.pk}/remediation/privacy_policy.permissions/done"
    response = client.post(url, {"note": "Policy §3"})
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{release.pk}/"
    assert RemediationTask.objects.get(release=release, key="privacy_policy.permissions").done
    client.post(url.replace("permissions", "reachable"), {"note": ""})
    assert not RemediationTask.objects.get(release=release, key="privacy_policy.reachable").done


def test_open_tasks_are_overridden_from_the_page(client, rejected, mike, olga):
    release = rejected()
    client.force_login(olga)
    assert client.post(f"/releases/{release.pk}/remediation/override", {"reason": "x"}).status_code == 404
    client.force_login(mike)
    client.post(f"/releases/{release.pk}/remediation/override", {"reason": "Appeal accepted by WeChat"})
    assert submit_refusal(release) is None


def test_the_playbook_page_lists_the_library_and_unknown_reasons(client, rejected, vera):
    rejected(reason="小程序内容过于简单")
    client.force_login(vera)
    page = client.get("/playbooks/").content.decode()
    assert "Privacy policy incomplete" in page
    assert "小程序内容过于简单" in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "now"),
        (30, "in 1 min"),
        (40 * 60, "in 40 min"),
        (5 * 3600 + 12 * 60, "in 5 h 12 min"),
        (3 * 86400 + 4 * 3600, "in 3 d 4 h"),
    ],
)
def test_countdowns_read_naturally(seconds, text):
    now = datetime(2026, 3, 10, tzinfo=UTC)
    assert countdown(now + timedelta(seconds=seconds), now) == text
