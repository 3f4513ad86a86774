"""The audit trail browser: the user's teams' events only, filtered, paged by keyset, exported as
CSV and JSON with the same filter, IPs for admins and release managers only, and the hash chain's
last verification shown without walking the chain in the request."""

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import django_rq
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse

from releases import services
from releases.audit import audit_record
from releases.audit_verification import (
    VERIFY_JOB_TIMEOUT_SECONDS,
    audit_verify_and_record,
    chain_status,
    verify_audit_job,
)
from releases.models import App, AuditEvent, AuditVerification, Membership, Role
from web.app_picker import APP_MATCHES_SHOWN, APP_SELECT_LIMIT
from web.audit_browser.export import export_records
from web.audit_browser.filters import SYSTEM, audit_events
from web.audit_browser.paging import audit_page
from web.language import set_preferred_language

IP = "203.0.113.7"


def _get(client, user, name="web:audit", *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _ids(html: str) -> list[int]:
    return [int(part.split('"', 1)[0]) for part in html.split('<tr id="event-')[1:]]


@pytest.fixture
def second_app(team, manual_account):
    return App.objects.create(team=team, platform_account=manual_account, name="Cafe", appid="wxcafe0001")


@pytest.fixture
def trail(make_release, second_app, other_app, olga, mike, alice):
    """Events in two apps of the team (one with an IP), and in another team."""
    shop = make_release("1.0.0", upto="approved_by_manager")
    services.release_cancel(release=shop, actor=mike, ip=IP)
    cafe = make_release("2.0.0", app=second_app)
    secret = services.release_create(app=other_app, actor=olga, version="9.9.9", review_notes="secret", ip=IP)
    return {"shop": shop, "cafe": cafe, "secret": secret}


def _bulk(app, count, *, actor=None, start=None):
    """`count` events of one app, a minute apart from `start`, written through audit_record."""
    start = start or datetime(2026, 3, 1, tzinfo=UTC)
    with transaction.atomic():
        for i in range(count):
            with time_machine.travel(start + timedelta(minutes=i), tick=False):
                audit_record(action="app_update", actor=actor, app=app, data={"n": i})


# -- who sees what -------------------------------------------------------------------------------


def test_members_see_their_teams_events_newest_first_and_nothing_of_other_teams(client, trail, vera):
    html = _html(_get(client, vera))
    ids = _ids(html)
    mine = list(
        AuditEvent.objects.filter(team_id=trail["shop"].app.team_id)
        .order_by("-at", "-id")
        .values_list("id", flat=True)
    )
    assert ids == mine
    assert "9.9.9" not in html and "Secret" not in html


def test_an_outsider_sees_none_of_the_team_even_through_filters_and_exports(client, trail, olga, app):
    html = _html(_get(client, olga))
    assert set(_ids(html)) == set(
        AuditEvent.objects.filter(team_id=trail["secret"].app.team_id).values_list("id", flat=True)
    )
    filtered = _get(client, olga, app=app.pk)
    assert "Select a valid choice" in _html(filtered) and not _ids(filtered.content.decode())
    assert _get(client, olga, "web:audit-export", "csv", app=app.pk).status_code == 400
    exported = b"".join(_get(client, olga, "web:audit-export", "json").streaming_content)
    assert {row["team_id"] for row in json.loads(exported)} == {trail["secret"].app.team_id}


def test_only_admins_and_release_managers_see_ips(client, trail, vera, alice, mike, adam):
    for user, sees in ((vera, False), (alice, False), (mike, True), (adam, True)):
        html = _html(_get(client, user))
        assert (IP in html) is sees, user
        rows = list(export_records(audit_events(user), user=user))
        assert any(row["ip"] == IP for row in rows) is sees


def test_the_page_needs_a_login(client):
    for url in (reverse("web:audit"), reverse("web:audit-export", args=["csv"])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_event_texts_are_escaped(client, make_release, mike, vera):
    release = make_release(upto="submitted")
    services.release_record_outcome(
        release=release, actor=mike, outcome="rejected", reason="<script>alert(1)</script>"
    )
    html = _html(_get(client, vera))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_every_user_typed_text_of_a_row_is_escaped_in_text_and_attributes(client, app, make_release, mike):
    """The rows are built in Python (web.audit_browser.rows.audit_rows): nothing there may print raw."""
    app.name = "<b>Shop</b> \"quoted\" & 'single'"
    app.save(update_fields=["name"])
    release = make_release("1.0.0")
    type(release).objects.filter(pk=release.pk).update(version="1.0<i>")  # as if stored by older code
    evil = get_user_model().objects.create_user(username="<em>eve</em>")
    with transaction.atomic():
        audit_record(
            action="app_update",
            actor=evil,
            release=release,
            data={"<k>": "<v>&", "list": ["<a>", "b"], "nested": {"x": "</td>"}, "empty": ""},
            ip=IP,
        )
        audit_record(action="token_create", target=evil, team_id=app.team_id, data={"name": '"><img src=x>'})
    html = _html(_get(client, mike))
    assert "<b>Shop" not in html and "<em>eve" not in html and "<i>" not in html and "<img" not in html
    assert "&lt;b&gt;Shop&lt;/b&gt; &quot;quoted&quot; &amp; &#x27;single&#x27;" in html
    assert "&lt;em&gt;eve&lt;/em&gt;" in html and "1.0&lt;i&gt;" in html
    assert '<span class="muted">&lt;k&gt;:</span> <span class="pre">&lt;v&gt;&amp;' in html
    assert '<span class="muted">list:</span> <span class="pre">&lt;a&gt;, b' in html
    assert (
        '<span class="muted">nested:</span> <span class="pre">{&quot;x&quot;: &quot;&lt;/td&gt;&quot;}'
        in html
    )
    assert '<span class="muted">empty:</span> <span class="pre">—' in html
    assert '<span class="muted">name:</span> <span class="pre">&quot;&gt;&lt;img src=x&gt;' in html
    assert f'<td class="mono small audit-ip">{IP}</td>' in html


def test_a_manager_of_one_team_sees_the_ips_of_that_team_only(client, trail, mike, other_team):
    Membership.objects.create(team=other_team, user=mike, role=Role.DEVELOPER)
    html = _html(_get(client, mike))
    secret = AuditEvent.objects.filter(team_id=other_team.pk).values_list("pk", flat=True)
    rows = {pk: html.split(f'<tr id="event-{pk}">', 1)[1].split("</tr>", 1)[0] for pk in _ids(html)}
    assert set(secret) <= set(rows) and '<th scope="col">IP</th>' in html
    for pk, row in rows.items():
        if pk in secret:
            assert IP not in row and ">hidden</span>" in row
            assert 'title="Only admins and release managers of this team see IPs"' in row
        else:
            assert "hidden" not in row
    assert IP in html


def test_the_rows_are_in_the_readers_language(client, trail, mike, other_team):
    Membership.objects.create(team=other_team, user=mike, role=Role.DEVELOPER)
    set_preferred_language(mike, "zh-hans")
    html = _html(_get(client, mike))
    cancel = AuditEvent.objects.get(release_id=trail["shop"].pk, to_state="cancelled").pk
    assert "→ 已取消</td>" in html.split(f'<tr id="event-{cancel}">', 1)[1].split("</tr>", 1)[0]
    assert 'title="只有该团队的管理员和发布经理可以看到 IP">已隐藏</span>' in html


# -- filters -------------------------------------------------------------------------------------


def test_filters_narrow_by_app_user_action_and_together(client, trail, second_app, alice, mike, vera):
    by_app = _ids(_html(_get(client, vera, app=second_app.pk)))
    assert by_app and set(by_app) == set(
        AuditEvent.objects.filter(app_id=second_app.pk).values_list("id", flat=True)
    )
    by_mike = _ids(_html(_get(client, vera, actor=mike.pk)))
    assert by_mike and set(
        AuditEvent.objects.filter(pk__in=by_mike).values_list("actor_name", flat=True)
    ) == {"mike"}
    cancels = _ids(_html(_get(client, vera, action="cancel")))
    assert cancels == list(AuditEvent.objects.filter(action="cancel").values_list("id", flat=True))
    assert _ids(_html(_get(client, vera, action="cancel", actor=alice.pk))) == []


def test_the_system_actor_filter_shows_events_without_a_person(client, app, vera):
    _bulk(app, 2)
    _bulk(app, 1, actor=vera)
    ids = _ids(_html(_get(client, vera, actor=SYSTEM)))
    assert len(ids) == 2 and not AuditEvent.objects.filter(pk__in=ids, actor_id__isnull=False).exists()


def test_dates_are_whole_beijing_days(client, app, vera):
    # 2026-03-01 23:30 in Beijing is 15:30 UTC; 2026-03-02 00:30 Beijing is 16:30 UTC on the 1st.
    _bulk(app, 1, start=datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    _bulk(app, 1, start=datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    mar1, mar2 = AuditEvent.objects.order_by("id").values_list("id", flat=True)
    assert _ids(_html(_get(client, vera, date_from="2026-03-01", date_to="2026-03-01"))) == [mar1]
    assert _ids(_html(_get(client, vera, date_from="2026-03-02"))) == [mar2]
    html = _html(_get(client, vera, date_from="2026-03-03", date_to="2026-03-02"))
    assert "“From” date is after the “To” date" in html and not _ids(html)


# -- pages ---------------------------------------------------------------------------------------


def test_keyset_pages_walk_older_and_back_newer_without_gaps_or_repeats(app, vera):
    _bulk(app, 120)
    events = audit_events(vera)
    first = audit_page(events, size=50)
    second = audit_page(events, before=first.older, size=50)
    third = audit_page(events, before=second.older, size=50)
    assert [len(first.events), len(second.events), len(third.events)] == [50, 50, 20]
    assert (first.newer, third.older) == (None, None)
    seen = [e.pk for page in (first, second, third) for e in page.events]
    assert seen == list(AuditEvent.objects.order_by("-at", "-id").values_list("id", flat=True))
    back = audit_page(events, after=third.newer, size=50)
    assert [e.pk for e in back.events] == [e.pk for e in second.events]
    assert [e.pk for e in audit_page(events, after=back.newer, size=50).events] == [
        e.pk for e in first.events
    ]


def test_events_at_the_same_moment_page_by_id(app, vera):
    with transaction.atomic(), time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        for _ in range(5):
            audit_record(action="app_update", app=app)
    events = audit_events(vera)
    first = audit_page(events, size=2)
    rest = audit_page(events, before=first.older, size=2)
    last = audit_page(events, before=rest.older, size=2)
    assert [e.pk for p in (first, rest, last) for e in p.events] == sorted(
        AuditEvent.objects.values_list("id", flat=True), reverse=True
    )


def test_a_broken_cursor_shows_the_first_page(client, app, vera):
    _bulk(app, 3)
    assert len(_ids(_html(_get(client, vera, before="nonsense")))) == 3


def test_the_pager_links_keep_the_filter(client, app, second_app, vera):
    _bulk(app, 60)
    html = _html(_get(client, vera, app=app.pk))
    assert f"?app={app.pk}&amp;before=" in html and "Older →" in html


@pytest.mark.parametrize("count", [5, 150])
def test_the_page_runs_a_fixed_number_of_queries_whatever_the_data(
    client, make_release, app, vera, mike, count, django_assert_max_num_queries
):
    _bulk(app, count, actor=mike)
    make_release(upto="submitted")
    client.force_login(vera)
    audit_verify_and_record()
    for params in (
        {},
        {"app": app.pk, "action": "app_update", "date_from": "2026-03-01"},
        {"actor": "system"},
    ):
        with django_assert_max_num_queries(9):  # 8, and the events recorded since the last verification
            assert client.get(reverse("web:audit"), params).status_code == 200


# -- exports -------------------------------------------------------------------------------------


def test_the_csv_export_streams_the_filtered_events_with_a_dated_filename(client, trail, second_app, mike):
    with time_machine.travel(datetime(2026, 5, 4, 12, tzinfo=UTC)):
        response = _get(client, mike, "web:audit-export", "csv", app=second_app.pk)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sluice-audit-2026-05-04.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = AuditEvent.objects.filter(app_id=second_app.pk).order_by("at", "id")
    assert [int(r["id"]) for r in rows] == list(expected.values_list("id", flat=True))
    assert {r["app"] for r in rows} == {"Cafe"} and rows[0]["release_version"] == "2.0.0"
    assert rows[0]["at"].endswith("+08:00")


def test_the_json_export_is_one_array_of_events_with_their_data(client, trail, vera):
    response = _get(client, vera, "web:audit-export", "json", action="cancel")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="sluice-audit-')
    rows = json.loads(b"".join(response.streaming_content))
    assert [r["action"] for r in rows] == ["cancel"]
    assert rows[0]["from_state"] == "checked" and rows[0]["ip"] is None  # vera is a viewer
    assert rows[0]["release_version"] == "1.0.0" and isinstance(rows[0]["data"], dict)


def test_exports_read_in_chunks_and_lose_nothing(app, vera):
    _bulk(app, 7)
    rows = list(export_records(audit_events(vera), user=vera, chunk=3))
    assert [r["data"]["n"] for r in rows] == list(range(7))


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client, app, vera):
    evil = get_user_model().objects.create_user(username="=HYPERLINK(1)")
    with transaction.atomic():
        audit_record(action="app_update", app=app, actor=evil)
    text = b"".join(_get(client, vera, "web:audit-export", "csv").streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_an_unknown_export_format_is_a_404(client, vera):
    assert _get(client, vera, "web:audit-export", "xml").status_code == 404


# -- the chain ------------------------------------------------------------------------------------


def test_before_any_verification_the_page_says_so(client, vera):
    assert "has not been verified yet" in _html(_get(client, vera))


def test_the_last_verification_shows_intact_with_its_count(client, make_release, vera):
    make_release()
    run = verify_audit_job()
    assert run == {"ok": True, "checked": AuditEvent.objects.count(), "broken_id": None}
    html = _html(_get(client, vera))
    assert "Hash chain intact" in html and f"{AuditEvent.objects.count()} event" in html


def test_a_tampered_row_shows_as_broken_naming_the_event_to_its_team_only(client, make_release, vera, olga):
    make_release("1.0.0", upto="published")
    victim = AuditEvent.objects.filter(action="approve").get()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE releases_auditevent DISABLE TRIGGER releases_auditevent_append_only")
        cursor.execute("UPDATE releases_auditevent SET actor_name = 'mallory' WHERE id = %s", [victim.pk])
        cursor.execute("ALTER TABLE releases_auditevent ENABLE TRIGGER releases_auditevent_append_only")
    with pytest.raises(CommandError):
        call_command("verify_audit")
    run = AuditVerification.objects.get()
    assert (run.ok, run.broken_id, run.source) == (False, victim.pk, "command")
    html = _html(_get(client, vera))
    assert "hash chain is broken" in html and f"#{victim.pk}" in html
    assert "its content does not match its hash" in html
    outsider = _html(_get(client, olga))
    assert "hash chain is broken" in outsider and "An event outside your teams" in outsider
    assert f"#{victim.pk}</span>" not in outsider


def test_an_old_verification_is_flagged_as_stale(make_release, vera):
    make_release()
    audit_verify_and_record()
    assert not chain_status(vera).stale
    assert chain_status(vera, now=datetime.now(UTC) + timedelta(days=2)).stale


def test_the_verify_command_records_its_run(make_release):
    make_release()
    call_command("verify_audit")
    run = AuditVerification.objects.get()
    assert (run.ok, run.checked, run.source) == (True, AuditEvent.objects.count(), "command")


def test_the_migrations_keep_the_append_only_triggers_on_sqlite(migrated_sqlite):
    """Replacing the audit indexes must not rebuild the table on SQLite (the demo's database):
    a rebuild would silently drop the triggers that refuse UPDATE and DELETE."""
    database = migrated_sqlite
    with sqlite3.connect(database) as db:
        triggers = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"releases_auditevent_no_update", "releases_auditevent_no_delete"} <= triggers
    assert {"audit_team_at_idx", "audit_release_action_idx"} <= indexes


def test_the_periodic_job_runs_in_a_real_worker_and_records_its_run(
    make_release, drain, django_capture_on_commit_callbacks
):
    make_release()
    with django_capture_on_commit_callbacks(execute=True):  # queued on commit
        django_rq.get_queue("default").enqueue(verify_audit_job, job_timeout=VERIFY_JOB_TIMEOUT_SECONDS)
    assert drain() == 1
    run = AuditVerification.objects.get()
    assert (run.ok, run.checked, run.source) == (True, AuditEvent.objects.count(), "job")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_walk_reads_one_snapshot(app, alice):
    services.release_create(app=app, actor=alice, version="1.0.0", review_notes="x")
    run = audit_verify_and_record()
    assert (run.ok, run.checked) == (True, AuditEvent.objects.count())
    assert not connection.in_atomic_block


# -- the app picker --------------------------------------------------------------------------------


@pytest.fixture
def many_apps(team, manual_account, app, second_app):
    """More apps than a select offers: Shop, Cafe and `Bulk 0000`... `Bulk 0102` in the team."""
    return App.objects.bulk_create(
        App(team=team, platform_account=manual_account, name=f"Bulk {i:04d}", appid=f"wxbulk{i:010d}")
        for i in range(APP_SELECT_LIMIT + 1)
    )


def _events_of(app) -> set[int]:
    return set(AuditEvent.objects.filter(app_id=app.pk).values_list("id", flat=True))


def _team_events(team) -> set[int]:
    return set(AuditEvent.objects.filter(team_id=team.pk).values_list("id", flat=True))


def test_a_team_with_few_apps_keeps_the_app_select(client, trail, second_app, vera):
    html = _html(_get(client, vera, app=second_app.pk))
    assert '<select id="f-app" name="app">' in html and 'name="app_q"' not in html
    assert f'<option value="{second_app.pk}" selected>Cafe (Shop team)</option>' in html
    assert set(_ids(html)) == _events_of(second_app)


def test_the_app_select_lists_apps_alphabetically_whatever_their_case(
    client, trail, app, second_app, manual_account, vera
):
    App.objects.create(team=app.team, platform_account=manual_account, name="bakery", appid="wxbakery01")
    select = _html(_get(client, vera)).split('<select id="f-app"', 1)[1].split("</select>", 1)[0]
    names = [part.split("<", 1)[0].split(" (")[0] for part in select.split('">')[2:]]
    assert names == ["bakery", "Cafe", "Shop"]


def test_a_team_with_many_apps_gets_a_text_field_and_not_every_app_name(client, trail, many_apps, vera):
    html = _html(_get(client, vera))
    assert '<label for="f-app">App</label>' in html
    assert 'id="f-app" name="app_q" value=""' in html and '<select id="f-app"' not in html
    assert 'aria-describedby="f-app-help"' in html
    assert "Bulk 0000" not in html and "<option" not in html.split('name="app_q"', 1)[1].split("</div>")[0]
    assert set(_ids(html)) == _team_events(trail["shop"].app.team)


def test_text_matching_one_app_filters_by_that_app(client, trail, many_apps, second_app, vera):
    response = _get(client, vera, app_q="  wxCAFE ", action="create")
    html = _html(response)
    assert set(_ids(html)) == {
        e for e in _events_of(second_app) if AuditEvent.objects.get(pk=e).action == "create"
    }
    assert f'<input type="hidden" name="app" value="{second_app.pk}">' in html
    assert 'name="app_q" value="Cafe"' in html
    # the exports and the pager name the app by id, keeping the other filters
    assert f"/audit/export.csv?action=create&amp;app={second_app.pk}" in html
    assert "app_q" not in html.split('class="export-links"', 1)[1].split("</div>", 1)[0]
    assert '<a href="/audit/?action=create">All apps</a>' in html


def test_a_selected_app_shows_its_name_and_resubmitting_the_form_keeps_it(
    client, trail, many_apps, app, second_app, vera
):
    html = _html(_get(client, vera, app=second_app.pk))
    assert 'name="app_q" value="Cafe"' in html and set(_ids(html)) == _events_of(second_app)
    # the form sends the hidden id and the name unchanged: still Cafe, without a search
    again = _html(_get(client, vera, app=second_app.pk, app_q="Cafe", actor=""))
    assert set(_ids(again)) == _events_of(second_app)
    # another text replaces the app; an emptied field means every app
    assert set(_ids(_html(_get(client, vera, app=second_app.pk, app_q="wxshop")))) == _events_of(app)
    emptied = _html(_get(client, vera, app=second_app.pk, app_q=""))
    assert set(_ids(emptied)) == _team_events(app.team) and 'name="app_q" value=""' in emptied


def test_text_matching_several_apps_lists_them_as_links_and_filters_nothing_yet(
    client, trail, many_apps, vera, team
):
    html = _html(_get(client, vera, app_q="bulk 000", action="create"))
    assert "Several apps match “bulk 000”: choose one." in html
    assert "The events below are not filtered by app yet." in html
    bulk = sorted(many_apps, key=lambda a: a.name)[:10]
    for choice in bulk:
        assert f'<a href="/audit/?action=create&amp;app={choice.pk}">{choice.name}</a>' in html
    assert "Only the first" not in html
    assert 'aria-describedby="f-app-choices f-app-help"' in html and 'name="app_q" value="bulk 000"' in html
    creates = set(AuditEvent.objects.filter(team_id=team.pk, action="create").values_list("id", flat=True))
    assert creates and set(_ids(html)) == creates  # every app's events, the other filters applied


def test_text_matching_more_than_twenty_apps_lists_only_the_first_twenty(client, many_apps, vera):
    html = _html(_get(client, vera, app_q="Bulk"))
    assert html.count('<li><a href="/audit/?app=') == APP_MATCHES_SHOWN == 20
    assert "Only the first 20 are listed" in html and "Bulk 0019" in html and "Bulk 0020" not in html


def test_text_matching_no_app_is_a_field_error_and_filters_nothing(client, trail, many_apps, vera):
    html = _html(_get(client, vera, app_q="nothing-like-this", action="create"))
    error = "No app of your teams matches “nothing-like-this”."
    assert f'<div class="field-error" id="f-app-error">{error}</div>' in html
    assert 'aria-describedby="f-app-error f-app-help" aria-invalid="true"' in html
    assert "Fix the filter above to see events." in html and not _ids(html)
    assert 'class="export-links"' not in html and "Several apps match" not in html


def test_another_teams_app_is_refused_by_id_and_never_matched_by_text(
    client, trail, many_apps, other_app, vera, olga
):
    refused = _html(_get(client, vera, app=other_app.pk))
    assert "Select a valid choice: that app is not in your teams." in refused and not _ids(refused)
    assert 'aria-invalid="true"' in refused and f'name="app" value="{other_app.pk}"' not in refused
    for text in ("Secret", "wxsecret01"):
        html = _html(_get(client, vera, app_q=text))
        assert (
            "No app of your teams matches" in html
            and not _ids(html)
            and "Secret" not in html.split("</form>")[1]
        )
    # the outsider's own picker (one app: a select) never offers or matches the team's apps
    theirs = _html(_get(client, olga, app_q="Cafe"))
    assert "No app of your teams matches “Cafe”." in theirs and "Bulk 0000" not in theirs
    assert _get(client, olga, "web:audit-export", "csv", app=many_apps[0].pk).status_code == 400


def test_the_exports_resolve_the_text_as_the_page_does(client, trail, many_apps, second_app, vera):
    rows = json.loads(
        b"".join(_get(client, vera, "web:audit-export", "json", app_q="Cafe").streaming_content)
    )
    assert {row["app_id"] for row in rows} == {second_app.pk}
    for text in ("Bulk", "nothing-like-this"):
        response = _get(client, vera, "web:audit-export", "csv", app_q=text)
        assert response.status_code == 400 and b"app_q" in response.content


def test_the_picker_runs_a_fixed_number_of_queries_however_many_apps(
    client, trail, many_apps, second_app, vera, django_assert_max_num_queries
):
    client.force_login(vera)
    audit_verify_and_record()
    for params in (
        {},
        {"app": second_app.pk},
        {"app_q": "Cafe"},
        {"app_q": "Bulk"},
        {"app_q": "nothing-like-this"},
        {"app": second_app.pk, "app_q": "Cafe", "action": "create"},
        {"app": second_app.pk, "app_q": "wxshop"},
    ):
        with django_assert_max_num_queries(9):
            assert client.get(reverse("web:audit"), params).status_code == 200


def test_the_picker_speaks_the_readers_language(client, many_apps, vera):
    set_preferred_language(vera, "zh-hans")
    html = _html(_get(client, vera, app_q="nothing-like-this"))
    assert "你所在团队中没有小程序匹配“nothing-like-this”。" in html and 'placeholder="名称或 AppID"' in html
    assert "有多个小程序匹配“Bulk”，请选择一个。" in _html(_get(client, vera, app_q="Bulk"))


def test_a_wechat_rejection_reason_reads_as_lines_not_br_tags(client, make_release, mike):
    release = make_release()
    with transaction.atomic():
        audit_record(
            action="review_rejected", release=release, data={"reason": "1:隐私政策不完善<br>2:首屏过慢"}
        )
    html = _html(_get(client, mike))
    assert "1:隐私政策不完善\n2:首屏过慢" in html
    assert "&lt;br&gt;" not in html
