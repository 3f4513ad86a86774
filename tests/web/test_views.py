"""The server-rendered pages as a person uses them: log in, look, press the buttons."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from releases import services
from releases.models import App, AuditEvent, PlatformAccount, Release, State
from tests.conftest import GOOD_NOTES, GOOD_REPORT
from web.release_form import ReleaseForm

REPORT = {"packages": [{"name": "__FULL__", "size": 3_400_000}, {"name": "__APP__", "size": 1_500_000}]}


def _report_fields(report: dict) -> dict:
    """The release form's build report fields, filled in as a person would type `report`."""
    return {k: "" if v is None else str(v) for k, v in ReleaseForm.initial_from(report).items()}


def _detail(release) -> str:
    return reverse("web:release-detail", args=[release.pk])


def _action(release, name) -> str:
    return reverse("web:release-action", args=[release.pk, name])


def _section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`, to assert about one part of a page."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def _buttons(html: str) -> list[str]:
    """The enabled action buttons of the "what happens next" panel."""
    panel = _section(html, "next-title")
    return [
        re.sub(r"\s+", " ", label).strip()
        for attrs, label in re.findall(r"<button([^>]*)>(.*?)</button>", panel, re.S)
        if "disabled" not in attrs
    ]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("web:app-list", None),
        ("web:app-detail", "app"),
        ("web:release-create", "app"),
        ("web:release-detail", "release"),
        ("web:release-edit", "release"),
    ],
)
def test_it_redirects_an_anonymous_visitor_to_the_login_page(client, make_release, name, kind):
    release = make_release()
    args = {"app": [release.app_id], "release": [release.pk], None: []}[kind]
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


def test_it_redirects_an_anonymous_action_post_to_the_login_page_and_changes_nothing(client, make_release):
    release = make_release()
    response = client.post(_action(release, "check"))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    release.refresh_from_db()
    assert release.state == State.DRAFT


def test_it_renders_the_login_page_and_logs_a_member_in(client, alice):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    assert b"csrfmiddlewaretoken" in page.content
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    assert response.url == reverse("web:dashboard")


def test_it_logs_out_with_a_post_from_the_top_bar(login, alice, app):
    client = login(alice)
    page = client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/logout/"', page)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_it_answers_404_to_a_user_outside_the_team(login, make_release, olga):
    release = make_release()
    client = login(olga)
    for url in (
        reverse("web:app-detail", args=[release.app_id]),
        reverse("web:release-create", args=[release.app_id]),
        _detail(release),
        reverse("web:release-edit", args=[release.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_action(release, "check")).status_code == 404
    release.refresh_from_db()
    assert release.state == State.DRAFT


def test_it_answers_404_to_an_unknown_action_and_405_to_a_get(login, make_release, alice):
    release = make_release()
    client = login(alice)
    assert client.post(_action(release, "explode")).status_code == 404
    assert client.get(_action(release, "check")).status_code == 405


# -- app list and app page ----------------------------------------------------------------


def test_it_lists_only_the_apps_of_the_users_teams_with_their_latest_release(
    login, alice, make_release, other_app, app
):
    make_release("1.0.0", upto="published")
    make_release("1.1.0")
    page = login(alice).get(reverse("web:app-list")).content.decode()
    assert "Shop" in page
    assert "Secret" not in page
    assert reverse("web:app-detail", args=[app.pk]) in page
    assert "1.1.0" in page and "Draft" in page


def test_it_counts_the_releases_in_review_on_the_app_list(login, alice, make_release):
    make_release("1.0.0", upto="submitted")
    response = login(alice).get(reverse("web:app-list"))
    (row,) = response.context["apps"]
    assert row.in_review == 1
    assert row.latest_state == State.SUBMITTED
    assert '<span class="count-pill">1</span>' in response.content.decode()


def test_it_lists_apps_with_a_constant_number_of_queries(login, alice, app, make_release, manual_account):
    make_release("1.0.0")
    client = login(alice)
    client.get(reverse("web:app-list"))  # warm the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("web:app-list")).status_code == 200
        return len(queries)

    few = count()
    for n in range(4):
        extra = App.objects.create(
            team=app.team, platform_account=manual_account, name=f"App {n}", appid=f"wx{n}"
        )
        make_release("2.0.0", app=extra)
        make_release("2.1.0", app=extra, upto="submitted")
    assert count() == few


def test_it_never_renders_the_authorizer_refresh_token(login, alice, app, team):
    wechat = PlatformAccount.objects.create(
        team=team, platform="wechat", name="WeChat", component_appid="wxc1"
    )
    app.platform_account = wechat
    app.authorizer_refresh_token = "refresh-token-do-not-show-0451"
    app.save()
    client = login(alice)
    for url in (reverse("web:app-list"), reverse("web:app-detail", args=[app.pk])):
        page = client.get(url).content.decode()
        assert "refresh-token-do-not-show-0451" not in page
    assert "Authorized" in client.get(reverse("web:app-detail", args=[app.pk])).content.decode()


def test_it_offers_new_release_to_a_developer_and_not_to_a_viewer(login, alice, vera, app):
    url = reverse("web:app-detail", args=[app.pk])
    create = reverse("web:release-create", args=[app.pk])
    assert create in login(alice).get(url).content.decode()
    assert create not in login(vera).get(url).content.decode()
    assert login(vera).get(create).status_code == 403


# -- viewer -------------------------------------------------------------------------------


def test_it_shows_a_viewer_everything_but_no_action_buttons(login, vera, make_release):
    release = make_release(release_notes="Points on every order.")
    page = login(vera).get(_detail(release)).content.decode()
    assert "Points on every order." in page
    assert _buttons(page) == []
    assert "view-only access" in page
    assert "/actions/" not in page
    assert reverse("web:release-edit", args=[release.pk]) not in page


def test_it_refuses_a_viewer_who_posts_an_action_anyway(login, vera, make_release):
    release = make_release()
    response = login(vera).post(_action(release, "check"), follow=True)
    assert _messages(response) == ["Only a developer or above can run checks."]
    assert not release.check_runs.exists()
    release.refresh_from_db()
    assert release.state == State.DRAFT


# -- creating and editing -----------------------------------------------------------------


def test_it_lets_a_developer_create_a_release_through_the_form(login, alice, app):
    client = login(alice)
    url = reverse("web:release-create", args=[app.pk])
    form = client.get(url)
    assert form.status_code == 200
    for field in ("version", "release_notes", "review_notes", "total_kb", "main_kb", "subpackages", "pages"):
        assert f'<label for="id_{field}">' in form.content.decode()
    response = client.post(
        url,
        {
            "version": "1.2.0",
            "release_notes": "Points on every order.",
            "review_notes": GOOD_NOTES,
            "total_kb": "1800",
            "main_kb": "1100",
            "subpackages": "packageOrder 700",
            "pages": "pages/index/index\npages/points/points",
            "first_screen_ms": "1200",
            "error_monitoring": "Sentry",
        },
        follow=True,
    )
    release = Release.objects.get(app=app, version="1.2.0")
    assert response.redirect_chain[-1][0] == _detail(release)
    assert release.author == alice
    assert release.state == State.DRAFT
    assert release.build_report == {
        "packages": [
            {"name": "__FULL__", "size": 1800 * 1024},
            {"name": "__APP__", "size": 1100 * 1024},
            {"name": "/packageOrder/", "size": 700 * 1024},
        ],
        "pages": ["pages/index/index", "pages/points/points"],
        "first_screen_ms": 1200,
        "error_monitoring": "Sentry",
    }
    assert "Created Shop 1.2.0 as a draft" in " ".join(_messages(response))
    assert "1.07 MB" in response.content.decode()
    assert AuditEvent.objects.filter(release_id=release.pk, action="create").count() == 1


def test_the_forms_own_examples_pass_the_checks(login, alice, app, tick_checklist):
    """What the placeholders suggest, typed in, is a build the blocking checks accept."""
    client = login(alice)
    page = client.get(reverse("web:release-create", args=[app.pk])).content.decode()
    examples = dict(re.findall(r'name="(\w+)"[^>]*placeholder="([^"]+)"', page))
    examples.update(version="1.2.0", review_notes=GOOD_NOTES)
    client.post(reverse("web:release-create", args=[app.pk]), examples)
    release = tick_checklist(Release.objects.get(app=app, version="1.2.0"), alice)
    run = services.release_check(release=release, actor=alice)
    assert run.passed, [(r.key, r.message) for r in run.results.all() if r.status == "failed"]


def test_saving_the_notes_leaves_the_build_report_exactly_as_it_was(login, alice, make_release):
    """Sizes are shown rounded to 0.1 KB; an untouched field is not written back rounded."""
    report = {
        "packages": [{"name": "__FULL__", "size": 3_000_001}, {"name": "pages/shop", "size": 1_800_000}],
        "plugins": ["wx123@1.0.0"],
        "pages": ["pages/index/index"],
    }
    release = make_release(build_report=report)
    client = login(alice)
    url = reverse("web:release-edit", args=[release.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["release_notes"] = "New wording."
    client.post(url, data)
    release.refresh_from_db()
    assert release.release_notes == "New wording."
    assert release.build_report == report


@pytest.mark.parametrize(
    "fields, field, error",
    [
        ({"subpackages": "packageOrder"}, "subpackages", "Line 1"),
        ({"subpackages": "packageOrder 700\nbig lots"}, "subpackages", "Line 2"),
        ({"total_kb": "-3"}, "total_kb", "greater than or equal to 0"),
        ({"first_screen_ms": "fast"}, "first_screen_ms", "whole number"),
    ],
)
def test_it_shows_a_field_error_for_a_bad_build_report_and_creates_nothing(
    login, alice, app, fields, field, error
):
    response = login(alice).post(
        reverse("web:release-create", args=[app.pk]),
        {"version": "1.2.0", "review_notes": GOOD_NOTES, **fields},
    )
    assert response.status_code == 200
    assert error in response.context["form"].errors[field][0]
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert 'aria-invalid="true"' in page
    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_it_shows_a_refusal_from_the_service_on_the_form_and_creates_nothing(login, alice, app):
    response = login(alice).post(reverse("web:release-create", args=[app.pk]), {"version": "one"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "is not a semantic version" in form.non_field_errors()[0]
    assert form.errors["version"] == ["Use MAJOR.MINOR.PATCH, e.g. 1.4.0."]
    assert not Release.objects.exists()


def test_it_edits_a_checked_release_back_to_draft_and_marks_its_approval_void(
    login, alice, mike, make_release
):
    release = make_release(upto="approved_by_manager")
    client = login(alice)
    edit = reverse("web:release-edit", args=[release.pk])
    page = client.get(edit).content.decode()
    assert "sends this release back to <strong>draft</strong>" in page
    assert 'value="1.0.0"' in page
    response = client.post(
        edit,
        {
            "version": "1.0.0",
            "release_notes": "Now with points.",
            "review_notes": GOOD_NOTES,
            **_report_fields(GOOD_REPORT),
            "revision": 1,
        },
        follow=True,
    )
    release.refresh_from_db()
    assert release.state == State.DRAFT
    assert release.revision == 2
    assert "Saved revision 2" in " ".join(_messages(response))
    approvals = _section(response.content.decode(), "approvals-title")
    assert "approved revision 1" in approvals
    assert "voided by a later revision" in approvals


def test_it_does_not_offer_editing_once_a_release_is_in_review(login, alice, make_release):
    release = make_release(upto="submitted")
    client = login(alice)
    assert reverse("web:release-edit", args=[release.pk]) not in client.get(_detail(release)).content.decode()
    response = client.get(reverse("web:release-edit", args=[release.pk]), follow=True)
    assert "can no longer be edited" in " ".join(_messages(response))


# -- the action buttons -------------------------------------------------------------------


def test_it_walks_a_manual_release_from_draft_to_published_through_the_action_urls(login, alice, mike, app):
    dev, manager = login(alice), login(mike)
    dev.post(
        reverse("web:release-create", args=[app.pk]),
        {
            "version": "1.0.0",
            "release_notes": "First version.",
            "review_notes": GOOD_NOTES,
            **_report_fields(GOOD_REPORT),
        },
    )
    release = Release.objects.get(app=app, version="1.0.0")
    assert _buttons(dev.get(_detail(release)).content.decode()) == ["Run checks"]

    def press(client, name, expected_state, **fields):
        response = client.post(_action(release, name), fields, follow=True)
        assert response.redirect_chain[-1][0] == _detail(release)
        assert not [m for m in response.context["messages"] if m.level_tag == "error"], _messages(response)
        release.refresh_from_db()
        assert release.state == expected_state, name
        return response.content.decode()

    page = press(dev, "check", State.DRAFT)  # the automated checks pass; the checklist is still open
    assert "Tick the 5 open checklist item(s)" in page
    for item in app.checklist:
        response = dev.post(reverse("web:release-confirm", args=[release.pk, item["key"]]), follow=True)
        assert item["label"] in " ".join(_messages(response))
    release.refresh_from_db()
    assert release.state == State.CHECKED  # the last tick moved it on
    assert "Approve revision 1" in _buttons(manager.get(_detail(release)).content.decode())
    press(manager, "approve", State.CHECKED, comment="Tested on iOS and Android.")
    press(manager, "submit", State.SUBMITTED)
    page = manager.get(_detail(release)).content.decode()
    assert '<select id="f-outcome" name="outcome" required>' in page
    press(manager, "record-outcome", State.APPROVED, outcome="approved", reason="")
    page = press(manager, "publish", State.PUBLISHED)

    assert 'class="badge tone-good state-published">Published</span>' in page
    trail = _section(page, "audit-title")
    steps = [
        "create",
        *["checklist_confirm"] * 5,
        "check",
        "approve",
        "submit",
        "submit_succeeded",
        "review_approved",
        "publish",
        "publish_succeeded",
    ]
    shown = re.findall(r'<td data-action="([a-z_]+)">', trail)
    assert shown == steps
    assert trail.count("alice") == 7 and trail.count("mike") == 4 and trail.count(">system<") == 2
    assert "Approved by platform → Publishing" in trail
    assert "Tested on iOS and Android." in _section(page, "approvals-title")


def test_it_shows_disabled_actions_with_the_reason_they_cannot_run(login, mike, make_release):
    release = make_release(upto="checked")
    page = login(mike).get(_detail(release)).content.decode()
    panel = _section(page, "next-title")
    assert re.search(
        r'<button type="button" class="btn btn-primary" disabled[^>]*>Submit for review</button>', panel
    )
    assert "A release manager who did not write its content must approve this revision first." in panel


def test_it_refuses_self_approval_with_a_visible_message(login, mike, nina, app, tick_checklist):
    release = services.release_create(
        app=app, actor=mike, version="1.0.0", review_notes=GOOD_NOTES, build_report=GOOD_REPORT
    )
    tick_checklist(release, mike)
    services.release_check(release=release, actor=mike)
    client = login(mike)
    assert not any("Approve" in b for b in _buttons(client.get(_detail(release)).content.decode()))
    response = client.post(_action(release, "approve"), {"comment": "Looks fine to me."}, follow=True)
    page = response.content.decode()
    assert "You are the author of this release; someone who did not write it must decide." in page
    assert re.search(r'class="message message-error"\s+role="alert">You are the author', page)
    assert not release.approvals.exists()
    assert not AuditEvent.objects.filter(release_id=release.pk, action="approve").exists()


def test_it_shows_the_failing_checks_after_a_refused_check(login, alice, make_release):
    report = {**GOOD_REPORT, "packages": [{"name": "__APP__", "size": 2_500_000}]}
    release = make_release(review_notes="test", build_report=report)
    response = login(alice).post(_action(release, "check"), follow=True)
    release.refresh_from_db()
    assert release.state == State.DRAFT
    flash = " ".join(_messages(response))
    assert "check(s) failed" in flash and "Review notes tell the reviewer what changed" in flash
    page = response.content.decode()
    checks = _section(page, "checks-title")
    assert "“test” is a placeholder, not a description." in checks
    assert "__APP__ is 2.38 MB" in checks
    run = release.check_runs.get()
    assert checks.count("status-failed") == run.results.filter(status="failed").count() >= 2
    assert "blocking problem" in _section(page, "next-title")


def test_it_explains_a_missing_send_back_comment_and_changes_nothing(login, mike, make_release):
    release = make_release(upto="checked")
    response = login(mike).post(_action(release, "send-back"), {"comment": "  "}, follow=True)
    assert "Say what must change" in " ".join(_messages(response))
    release.refresh_from_db()
    assert (release.state, release.revision) == (State.CHECKED, 1)


def test_it_shows_a_recorded_rejection_and_its_reason(login, mike, make_release):
    release = make_release(upto="submitted")
    login(mike).post(
        _action(release, "record-outcome"), {"outcome": "rejected", "reason": "Missing privacy policy."}
    )
    release.refresh_from_db()
    assert release.state == State.REJECTED
    page = login(mike).get(_detail(release)).content.decode()
    assert "Missing privacy policy." in _section(page, "rejection-title")


def test_it_rejects_an_action_post_without_a_csrf_token(login, alice, make_release):
    release = make_release()
    client = login(alice, enforce_csrf_checks=True)
    response = client.post(_action(release, "check"))
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.state == State.DRAFT
    assert not release.check_runs.exists()
    # the page's own forms carry the token
    assert 'name="csrfmiddlewaretoken"' in _section(
        client.get(_detail(release)).content.decode(), "next-title"
    )


# -- output -------------------------------------------------------------------------------


def test_it_escapes_a_script_in_the_release_notes(login, alice, make_release):
    release = make_release(
        release_notes='<script>alert("x")</script>',
        review_notes=GOOD_NOTES + " <img src=x onerror=alert(1)>",
        build_report={"<b>key</b>": "<i>value</i>"},
    )
    page = login(alice).get(_detail(release)).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "<b>key</b>" not in page and "<i>value</i>" not in page


def test_it_shows_times_in_local_time(login, alice, make_release):
    release = make_release()
    event = AuditEvent.objects.get(release_id=release.pk, action="create")
    page = login(alice).get(_detail(release)).content.decode()
    local = event.at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert local in _section(page, "audit-title")
    assert "(Beijing time)" in _section(page, "audit-title")


def test_it_shows_the_build_report_sizes_in_megabytes(login, alice, make_release):
    release = make_release(build_report=REPORT)
    build = _section(login(alice).get(_detail(release)).content.decode(), "build-title")
    assert "3.24 MB" in build and "1.43 MB" in build


def test_it_shows_a_review_delay_while_the_release_is_in_review(login, mike, make_release):
    release = make_release(upto="submitted")
    client = login(mike)
    client.post(_action(release, "record-outcome"), {"outcome": "delayed", "reason": "Holiday backlog."})
    delay = _section(client.get(_detail(release)).content.decode(), "delay-title")
    assert "Review delayed since" in delay and "Holiday backlog." in delay


def test_a_rejection_reads_as_lines_not_br_tags(login, make_release, alice, mike):
    release = make_release("1.0.0", upto="submitted")
    reason = "1:服务类目不符<br>(1):请选择与内容相符的类目<br/><script>x</script>"
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
    page = login(alice).get(_detail(release)).content.decode()
    shown = page.split('id="rejection-title"')[1].split("</section>")[0]
    assert "&lt;br" not in shown and "<br" not in shown
    assert "1:服务类目不符\n(1):请选择与内容相符的类目\n&lt;script&gt;" in shown
    assert page.count('id="rejection-title"') == 1 and 'id="platform-reason-title"' not in page  # shown once
