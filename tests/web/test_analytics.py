"""Analytics: first-pass approval, resubmissions, rejection reasons, review and lead time, from the
audit trail of the user's teams only, in a fixed number of queries, drawn as accessible SVG."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from releases import services
from releases.audit import audit_record
from releases.models import App
from releases.rejection_recording import on_rejected
from releases.remediation import remediation_override
from web.analytics.charts import histogram, horizontal_bars
from web.analytics.metrics import Scope, analytics, cached_analytics
from web.app_picker import APP_MATCHES_SHOWN, APP_SELECT_LIMIT

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)
PRIVACY = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途<br>2:首屏加载时间过长"
IMAGES = "1:图片违规"
H = 3600


def at(days_ago: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days_ago) + timedelta(hours=hours)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def history(make_release, mike, other_app, olga, team, manual_account):
    """Four releases of the team with known stories, and a rejection in another team.

    - 1.0.0: submitted, approved 4 h later, published 2 h after that (first pass; lead 6 h)
    - 1.1.0: rejected after 30 h, resubmitted, approved 10 h later, published (lead 42 h)
    - 1.2.0: withdrawn, resubmitted in the console, approved 48 h later (approved at its first
      decision, but on its second submission)
    - Cafe 0.9.0: rejected 40 days ago, resubmitted, approved 5 days ago (outside a 30-day cohort)
    """
    cafe = App.objects.create(team=team, platform_account=manual_account, name="Cafe", appid="wxcafe0001")
    with travel(at(41)):
        old = make_release("0.9.0", upto="submitted", app=cafe)
    with travel(at(40)):
        services.release_record_outcome(release=old, actor=mike, outcome="rejected", reason=IMAGES)
    with travel(at(39)):
        _resubmit(old, mike)
    with travel(at(20)):
        first = make_release("1.0.0", upto="submitted")
    with travel(at(20, 4)):
        services.release_record_outcome(release=first, actor=mike, outcome="approved")
    with travel(at(20, 6)):
        services.release_publish(release=first, actor=mike)

    with travel(at(15)):
        second = make_release("1.1.0", upto="submitted")
    with travel(at(15, 30)):
        services.release_record_outcome(release=second, actor=mike, outcome="rejected", reason=PRIVACY)
    with travel(at(15, 32)):
        _resubmit(second, mike)
    with travel(at(15, 42)):
        services.release_record_outcome(release=second, actor=mike, outcome="approved")
    with travel(at(15, 42.5)):
        services.release_publish(release=second, actor=mike)

    with travel(at(10)):
        third = make_release("1.2.0", upto="submitted")
    with travel(at(10, 1)):
        services.release_withdraw(release=third, actor=mike)
    with travel(at(10, 2)):
        services.release_changed_outside(release=third, change="resubmitted", audit_id="console-2")
    with travel(at(10, 50)):
        services.release_record_outcome(release=third, actor=mike, outcome="approved")

    with travel(at(5)):
        services.release_record_outcome(release=old, actor=mike, outcome="approved")

    with travel(at(3)):
        secret = services.release_create(app=other_app, actor=olga, version="5.0.0", review_notes="x")
        _reject_directly(secret, olga)
    return {"first": first, "second": second, "third": third, "old": old}


def _resubmit(release, manager):
    remediation_override(release=release, actor=manager, reason="Fixed; see the ticket")
    services.release_submit(release=release, actor=manager)


def _reject_directly(release, actor):
    """Another team's release in review and rejected, written as the services would."""
    with transaction.atomic():
        audit_record(action="submit_succeeded", actor=actor, release=release, from_state="submitting")
        audit_record(action="review_rejected", actor=actor, release=release, data={"reason": PRIVACY})
    on_rejected(release)


def test_the_first_pass_rate_counts_releases_approved_at_their_first_decision_after_one_submission(
    history, team
):
    result = analytics(Scope.last_days([team.pk], 30, now=NOW))
    assert (result.first_pass.part, result.first_pass.whole) == (1, 3)
    assert result.first_pass.percent == 33.3


def test_a_release_first_decided_before_the_period_joins_the_cohort_only_in_a_longer_period(history, team):
    assert (
        analytics(Scope.last_days([team.pk], 90, now=NOW)).first_pass
        == analytics(Scope.last_days([team.pk], 365, now=NOW)).first_pass
    )
    longer = analytics(Scope.last_days([team.pk], 90, now=NOW))
    assert (longer.first_pass.part, longer.first_pass.whole) == (1, 4)


def test_the_resubmission_rate_counts_releases_first_submitted_in_the_period_and_submitted_again(
    history, team
):
    assert analytics(Scope.last_days([team.pk], 30, now=NOW)).resubmission.part == 2
    assert analytics(Scope.last_days([team.pk], 30, now=NOW)).resubmission.whole == 3
    longer = analytics(Scope.last_days([team.pk], 90, now=NOW)).resubmission
    assert (longer.part, longer.whole) == (3, 4)


def test_review_time_times_every_decision_from_the_submission_it_answers(history, team):
    review = analytics(Scope.last_days([team.pk], 30, now=NOW)).review_time
    assert review.count == 5  # 4 h, 10 h, 30 h, 48 h and 34 days
    assert review.median == pytest.approx(30 * H)
    assert review.p90 == pytest.approx(34 * 24 * H)
    assert dict(review.buckets) == {
        "under 6 h": 1,
        "6–24 h": 1,
        "1–2 days": 1,
        "2–3 days": 1,
        "3–5 days": 0,
        "5–7 days": 0,
        "over 7 days": 1,
    }


def test_lead_time_runs_from_the_draft_to_the_publication_with_median_and_p90(history, team):
    lead = analytics(Scope.last_days([team.pk], 30, now=NOW)).lead_time
    assert lead.count == 2
    assert (lead.median, lead.p90) == (pytest.approx(6 * H), pytest.approx(42.5 * H))


def test_rejection_reasons_count_every_item_in_its_category(history, team):
    result = analytics(Scope.last_days([team.pk], 30, now=NOW))
    assert result.rejections == 1
    assert {c.category: c.items for c in result.reasons} == {"privacy_policy": 1, "performance": 1}
    longer = analytics(Scope.last_days([team.pk], 90, now=NOW))
    assert longer.rejections == 2
    assert {c.category: c.items for c in longer.reasons} == {
        "privacy_policy": 1,
        "performance": 1,
        "image_violation": 1,
    }


def test_one_app_and_another_team_are_counted_apart(history, team, other_team, other_app):
    app_id = history["first"].app_id
    assert analytics(Scope.last_days([team.pk], 30, app_id=app_id, now=NOW)).first_pass.whole == 3
    theirs = analytics(Scope.last_days([other_team.pk], 30, now=NOW))
    assert (theirs.first_pass.whole, theirs.rejections) == (1, 1)
    # an app id of another team never widens a scope to that team
    assert analytics(Scope.last_days([team.pk], 30, app_id=other_app.pk, now=NOW)).rejections == 0


def test_empty_periods_have_no_rate_and_no_percentiles(team):
    result = analytics(Scope.last_days([team.pk], 30, now=NOW))
    assert result.first_pass.percent is None
    assert (result.review_time.count, result.review_time.median, result.lead_time.p90) == (0, None, None)
    assert result.reasons == [] and result.rejections == 0


# -- the page ------------------------------------------------------------------------------------


def _page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("analytics:index"), params)


def test_the_page_shows_the_numbers_charts_and_how_they_are_computed(client, history, vera):
    with travel(NOW):
        response = _page(client, vera)
    assert response.status_code == 200
    html = response.content.decode()
    assert "33.3%" in html and "1 of 3 releases approved on their first submission" in html
    assert "66.7%" in html  # resubmission rate
    assert "30.0 h" in html and "34.0 days" in html  # review median and p90
    assert '<svg class="chart-svg"' in html and 'role="img"' in html
    assert '<title id="chart-reasons-title">Rejection reasons by category</title>' in html
    assert "<desc id=" in html and "Show the numbers as a table" in html
    assert "How these numbers are computed" in html and "nearest-rank" in html
    assert "<script" not in html.split("<main", 1)[1]  # charts need no JavaScript
    assert "cdn" not in html.lower()


def test_another_teams_app_or_team_is_a_404(client, history, vera, other_app, other_team):
    assert _page(client, vera, app=other_app.pk).status_code == 404
    assert _page(client, vera, team=other_team.pk).status_code == 404
    assert _page(client, vera, team="nonsense").status_code == 400  # a malformed id: bad input


def test_an_outsider_sees_only_their_own_team(client, history, olga):
    with travel(NOW):
        html = _page(client, olga).content.decode()
    assert "0 of 1 release approved on their first submission" in html
    assert "Shop" not in html


def test_the_page_escapes_app_names(client, app, vera):
    app.name = "<b>Shop</b>"
    app.save()
    html = _page(client, vera, app=app.pk).content.decode()
    assert "&lt;b&gt;Shop&lt;/b&gt;" in html and "<b>Shop</b>" not in html


def test_the_page_needs_a_login(client):
    response = client.get(reverse("analytics:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def _more_history(make_release, mike, count):
    for i in range(count):
        with travel(at(25 - i * 0.1)):
            release = make_release(f"3.{i}.0", upto="submitted")
        with travel(at(25 - i * 0.1, 2)):
            outcome = "rejected" if i % 2 else "approved"
            services.release_record_outcome(release=release, actor=mike, outcome=outcome, reason=PRIVACY)


@pytest.mark.parametrize("extra", [0, 12])
def test_the_page_runs_a_fixed_number_of_queries_whatever_the_data(
    client, history, make_release, mike, vera, extra, django_assert_max_num_queries
):
    _more_history(make_release, mike, extra)
    client.force_login(vera)
    for params in ({}, {"days": 365}, {"app": history["first"].app_id, "days": 90}):
        cache.clear()
        with travel(NOW), django_assert_max_num_queries(10):
            assert client.get(reverse("analytics:index"), params).status_code == 200


def test_the_numbers_are_kept_for_a_while_and_shared_by_the_same_scope(history, team, vera, client):
    with travel(NOW):
        first = cached_analytics([team.pk], 30)
    history["first"].app.releases.update(review_notes="unrelated")
    with travel(NOW + timedelta(minutes=5)):
        assert cached_analytics([team.pk], 30) == first
    with travel(NOW + timedelta(minutes=11)):
        assert cached_analytics([team.pk], 30).scope.until > first.scope.until


# -- charts --------------------------------------------------------------------------------------


def test_a_bar_chart_scales_to_a_round_maximum_and_describes_itself():
    chart = horizontal_bars("r", "Reasons", [("Privacy policy", 7), ("Performance", 3)], unit="reasons")
    assert chart.total == 10
    assert [b.width for b in chart.bars] == [329.0, 141.0]  # a scale of 10 over 470 px
    assert (
        chart.description == "10 reasons in 2 categories; the most frequent: Privacy policy 7, Performance 3."
    )
    assert [b.share for b in chart.bars] == [70.0, 30.0]


def test_a_histogram_keeps_bucket_order_and_says_where_most_fall():
    chart = histogram("h", "Review", [("under 6 h", 0), ("6–24 h", 4), ("1–2 days", 1)], unit="decisions")
    assert [b.label for b in chart.bars] == ["under 6 h", "6–24 h", "1–2 days"]
    assert chart.bars[0].height == 0 and chart.bars[1].height == 128.0  # 4 of a scale of 5 over 160 px
    assert "most often 6–24 h (4)" in chart.description
    assert histogram("e", "Empty", [("a", 0)], unit="decisions").empty


def test_a_charts_svg_and_table_rows_are_drawn_in_python_with_every_text_escaped():
    bars = horizontal_bars("r", "Reasons <&>", [("<b>Privacy</b>", 7), ("A & B", 3)], unit="reasons")
    svg, rows = str(bars.svg), str(bars.table_rows)
    assert svg.startswith('<svg class="chart-svg" viewBox="0 0 530 92"') and svg.endswith("</svg>")
    assert '<title id="chart-r-title">Reasons &lt;&amp;&gt;</title>' in svg
    assert 'y="15">&lt;b&gt;Privacy&lt;/b&gt;</text>' in svg and "<b>" not in svg + rows
    assert '<rect class="chart-bar" x="0" y="21" width="329.0" height="18" rx="3"></rect>' in svg
    assert '<tr><th scope="row">A &amp; B</th><td class="num">3</td><td class="num">30.0%</td></tr>' in rows

    chart = histogram("h", "Review", [("under 6 h", 0), ("6–24 h", 4)], unit="decisions")
    svg = str(chart.svg)
    assert svg.count('class="chart-value"') == 1  # an empty bucket has no value label
    assert svg.count('class="chart-grid"') == 3
    assert '<text class="chart-tick" x="0" y="12">decisions</text>' in svg
    assert '<td class="num">0</td><td class="num">0.0%</td>' in str(chart.table_rows)
    assert '<td class="num">—</td>' in str(histogram("e", "Empty", [("a", 0)], unit="x").table_rows)


# -- the app picker --------------------------------------------------------------------------------


@pytest.fixture
def many_apps(team, manual_account, app):
    """More apps than a select offers: Shop and `Bulk 0000`... `Bulk 0100` in the team."""
    return App.objects.bulk_create(
        App(team=team, platform_account=manual_account, name=f"Bulk {i:04d}", appid=f"wxbulk{i:010d}")
        for i in range(APP_SELECT_LIMIT + 1)
    )


def _cafe(history):
    return history["old"].app


def test_a_team_with_few_apps_keeps_the_app_select(client, history, vera):
    cafe = _cafe(history)
    with travel(NOW):
        response = _page(client, vera, app=cafe.pk, days=90)
    html = response.content.decode()
    assert '<select id="f-app" name="app">' in html and 'name="app_q"' not in html
    assert f'<option value="{cafe.pk}" selected>Cafe</option>' in html
    assert response.context["app"]["id"] == cafe.pk


def test_a_team_with_many_apps_gets_a_text_field_and_not_every_app_name(client, history, many_apps, vera):
    with travel(NOW):
        html = _page(client, vera).content.decode()
    assert '<label for="f-app">App</label>' in html and '<select id="f-app"' not in html
    assert 'id="f-app" name="app_q" value=""' in html and 'aria-describedby="f-app-help"' in html
    assert "Bulk 0000" not in html and "33.3%" in html


def test_text_matching_one_app_shows_that_apps_numbers(client, history, many_apps, vera, team):
    cafe = _cafe(history)
    with travel(NOW):
        by_text = _page(client, vera, team=team.pk, days=90, app_q="wxcafe")
    assert by_text.context["app"]["id"] == cafe.pk
    assert by_text.context["result"].scope.app_id == cafe.pk
    html = by_text.content.decode()
    assert f'<input type="hidden" name="app" value="{cafe.pk}">' in html and 'value="Cafe"' in html
    assert f'<a href="/analytics/?team={team.pk}&amp;days=90">All apps of Shop team</a>' in html
    with travel(NOW):
        by_id = _page(client, vera, app=cafe.pk, days=90, team=team.pk)
    assert by_id.context["result"] == by_text.context["result"]


def test_text_matching_several_apps_lists_them_as_links_and_filters_nothing_yet(
    client, history, many_apps, vera
):
    with travel(NOW):
        response = _page(client, vera, app_q="Bulk 000", days=365)
    html = response.content.decode()
    assert "Several apps match “Bulk 000”: choose one." in html
    assert "The numbers below are not filtered by app yet." in html
    for choice in sorted(many_apps, key=lambda a: a.name)[:10]:
        assert f'<a href="/analytics/?days=365&amp;app={choice.pk}">{choice.name}</a>' in html
    assert response.context["app"] is None and response.context["result"].scope.app_id is None
    with travel(NOW):
        many = _page(client, vera, app_q="bulk").content.decode()
    assert many.count('<li><a href="/analytics/?app=') == APP_MATCHES_SHOWN
    assert "Only the first 20 are listed" in many


def test_text_matching_no_app_is_a_field_error_and_filters_nothing(client, history, many_apps, vera):
    with travel(NOW):
        response = _page(client, vera, app_q="nothing-like-this")
    html = response.content.decode()
    assert (
        '<div class="field-error" id="f-app-error">No app of your teams matches “nothing-like-this”.</div>'
        in html
    )
    assert 'aria-describedby="f-app-error f-app-help" aria-invalid="true"' in html
    assert response.context["app"] is None and response.context["result"].scope.app_id is None
    assert "33.3%" in html  # the numbers of all the user's apps, as without a filter


def test_another_teams_app_is_refused_by_id_and_never_matched_by_text(
    client, history, many_apps, vera, other_app
):
    assert _page(client, vera, app=other_app.pk).status_code == 404
    for text in ("Secret", "wxsecret01"):
        response = _page(client, vera, app_q=text)
        assert response.status_code == 200 and response.context["app"] is None
        assert "No app of your teams matches" in response.content.decode()


def test_the_picker_runs_a_fixed_number_of_queries_however_many_apps(
    client, history, many_apps, vera, team, django_assert_max_num_queries
):
    cafe = _cafe(history)
    client.force_login(vera)
    for params in (
        {},
        {"app": cafe.pk},
        {"app_q": "Cafe", "days": 90},
        {"app_q": "Bulk", "team": team.pk},
        {"app_q": "nothing-like-this"},
        {"app": cafe.pk, "app_q": "Cafe"},
    ):
        cache.clear()
        with travel(NOW), django_assert_max_num_queries(10):
            assert client.get(reverse("analytics:index"), params).status_code == 200
