"""The release page and GET /releases/{id} read each fact once: the buttons' guards reuse what the
page read (the latest check run, the app's releases in review), and those shared answers are the
model's own conditions."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from releases import actions, selectors, services
from releases.errors import Refused
from releases.memo import read_scope
from releases.models import Release
from releases.tokens import api_token_create
from web.live import release_stamp


def _agree(release: Release, user) -> None:
    """The buttons' refusals are the model's own conditions, inside a read scope (as the page
    judges) and outside one (as the service does)."""
    release = Release.objects.get(pk=release.pk)
    with read_scope():
        inside = {a.action.name: a.code for a in actions.available_actions(release, user)}
    outside = {a.action.name: a.code for a in actions.available_actions(release, user)}
    assert inside == outside
    for name, code in outside.items():
        transition = actions.BY_NAME[name].transition
        meta = getattr(release, transition)._django_fsm
        unmet = [c.guard_code for c in meta.get_transition(release.state).conditions if not c(release)]
        if unmet and name != "approve" and actions.BY_NAME[name].check_guards:
            assert code == unmet[0], name


def test_the_buttons_refuse_with_the_models_own_conditions(make_release, alice, mike):
    _agree(make_release("1.0.0"), alice)  # never checked
    failing = make_release("1.1.0", release_notes="全网最低价，销量第一")
    with pytest.raises(Refused):
        services.release_check(release=failing, actor=alice)
    _agree(failing, alice)  # a failed run
    checked = make_release("1.2.0", upto="checked")
    _agree(checked, mike)  # a passed run of this revision
    services.release_update(release=checked, actor=alice, changes={"release_notes": "Changed."})
    _agree(checked, alice)  # a passed run of an earlier revision
    waiting = make_release("1.3.0", upto="approved_by_manager")
    _agree(waiting, mike)  # nothing in review
    in_review = make_release("1.4.0", upto="submitted")
    _agree(waiting, mike)  # another release in review
    _agree(in_review, mike)  # itself in review, no other


def _rejected(make_release, mike) -> Release:
    release = make_release("1.0.0", upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="图片违规")
    release.refresh_from_db()
    return release


def _reads(sqls: list[str], table: str) -> int:
    return sum(f'FROM "{table}"' in sql for sql in sqls)


def test_the_page_reads_the_run_and_the_review_slot_once(make_release, mike):
    release = _rejected(make_release, mike)
    client = Client()
    client.force_login(mike)
    with CaptureQueriesContext(connection) as page:
        html = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    sqls = [query["sql"] for query in page.captured_queries]
    assert _reads(sqls, "releases_checkrun") == 1  # the checks panel and the submit guard
    in_review = ['"releases_release"."state" IN' in sql and "'submitted'" in sql for sql in sqls]
    assert sum(in_review) == 1  # the review slot, for the guard, the refusal and the panel
    assert _reads(sqls, "releases_approval") == 1  # the policy and the list (one revision only)
    assert 'id="why-submit"' in html and "remediation task" in html  # the guard still refuses


def test_the_answer_reads_the_run_once_and_keeps_its_shape(make_release, mike):
    release = _rejected(make_release, mike)
    token = api_token_create(user=mike)
    client = Client()
    url = f"/api/v1/releases/{release.pk}"
    client.get(url, headers={"Authorization": f"Bearer {token}"})  # the token's first use is recorded
    with CaptureQueriesContext(connection) as answer:
        body = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    assert _reads([query["sql"] for query in answer.captured_queries], "releases_checkrun") == 1
    assert body["check_run"]["started_by"] == "alice" and body["check_run"]["pending"] == 0
    assert [c["key"] for c in body["checks"] if c["kind"] == "auto"] == [
        r.key for r in selectors.latest_check_run(release).result_list
    ]
    submit = next(a for a in body["actions"] if a["name"] == "submit")
    assert submit["enabled"] is False and "remediation task" in submit["reason"]


def test_the_page_carries_the_live_endpoints_stamp_with_a_run_and_events(make_release, alice, mike):
    release = make_release("1.0.0", upto="approved_by_manager")
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    stamp = release_stamp(alice, release.pk)["stamp"]
    assert stamp.endswith("f") and not stamp.endswith("|0f")  # a finished run and its events
    assert f'data-live-stamp="{stamp}"' in page


def test_an_edited_release_lists_the_void_approvals_of_earlier_revisions(make_release, alice, mike):
    release = make_release("1.0.0", upto="approved_by_manager")
    services.release_update(release=release, actor=alice, changes={"release_notes": "Changed."})
    client = Client()
    client.force_login(mike)
    html = client.get(reverse("web:release-detail", args=[release.pk])).content.decode()
    start = html.index('<ul class="approvals">')
    approvals = html[start : html.index("</ul>", start)]
    assert '<li class="void">' in approvals and "approved revision 1" in approvals
    assert "voided by a later revision" in approvals
