"""The analytics page (/analytics/): a team's or an app's review record over the last 30, 90 or
365 days. Thin: the numbers come from web/analytics/metrics.py, the charts from web/analytics/charts.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET

from releases import selectors
from web.analytics import metrics
from web.analytics.charts import histogram, horizontal_bars
from web.app_picker import APP_TEXT_MAX_LENGTH, APP_TEXT_PARAM, app_query, pick_app
from web.options import grouped_options, options
from web.params import query_id


def hours_or_days(seconds: float | None) -> str:
    """A duration as people say it: “45 min”, “5.2 h”, “2.4 days”."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return gettext("%(n)s min") % {"n": max(1, round(seconds / 60))}
    if seconds < 48 * 3600:
        return gettext("%(n)s h") % {"n": f"{seconds / 3600:.1f}"}
    return gettext("%(n)s days") % {"n": f"{seconds / 86400:.1f}"}


@login_required
@require_GET
def analytics_page(request):
    """Another team's or app's id in the query is a 404, like any object of another team.

    The app is picked from the (team's or all the user's teams') apps by pick_app: a select when
    they are few, a text field resolved here when they are many.
    """
    teams = list(selectors.teams_for(request.user).values("id", "name"))
    team_id, app_id = query_id(request.GET, "team"), query_id(request.GET, "app")
    days = query_id(request.GET, "days")
    days = days if days in metrics.PERIODS else metrics.DEFAULT_PERIOD
    if team_id is not None and team_id not in {t["id"] for t in teams}:
        raise Http404("No such team.")
    apps = selectors.apps_for(request.user)
    if team_id is not None:
        apps = apps.filter(team_id=team_id)
    text = request.GET.get(APP_TEXT_PARAM) if APP_TEXT_PARAM in request.GET else None
    pick = pick_app(apps, app_id, text)
    if pick.bad_id:
        raise Http404("No such app.")
    app = pick.app
    team_ids = [app["team_id"]] if app else [team_id] if team_id else [t["id"] for t in teams]
    result = metrics.cached_analytics(team_ids, days, app_id=pick.app_id) if team_ids else None
    return render(
        request,
        "reviews/analytics.html",
        {
            "teams": teams,
            "team_options": options([(t["id"], t["name"]) for t in teams], team_id),
            "app_options": grouped_options(_by_team(pick.listed), pick.app_id) if pick.is_select else "",
            "pick": pick,
            "app_choices": [(a, app_query(request.GET, a["id"])) for a in pick.matches],
            "without_app": app_query(request.GET),
            "app_text_max": APP_TEXT_MAX_LENGTH,
            "team_id": team_id,
            "app": app,
            "team": next((t for t in teams if t["id"] == team_id), None),
            "days": days,
            "periods": metrics.PERIODS,
            "result": result,
            "charts": _charts(result) if result else {},
            "durations": _durations(result) if result else {},
            "definitions": metrics.DEFINITIONS,
        },
    )


def _by_team(apps: list[dict]) -> list[tuple[str, list[tuple]]]:
    groups: dict[str, list[tuple]] = {}
    for app in apps:
        groups.setdefault(app["team__name"], []).append((app["id"], app["name"]))
    return list(groups.items())


def _charts(result: metrics.Analytics) -> dict:
    return {
        "reasons": horizontal_bars(
            "reasons",
            gettext("Rejection reasons by category"),
            [(str(c.label), c.items) for c in result.reasons],
            unit=gettext("rejection reasons"),
        ),
        "review": histogram(
            "review",
            gettext("Review time: submission to the platform's decision"),
            [(str(label), n) for label, n in result.review_time.buckets],
            unit=gettext("decisions"),
            lead=gettext("Median %(time)s. ") % {"time": hours_or_days(result.review_time.median)},
            caption=_summary(
                result.review_time,
                ngettext("%(count)s decision", "%(count)s decisions", result.review_time.count),
            ),
        ),
        "lead": histogram(
            "lead",
            gettext("Lead time: draft created to published"),
            [(str(label), n) for label, n in result.lead_time.buckets],
            unit=gettext("releases"),
            lead=gettext("Median %(time)s. ") % {"time": hours_or_days(result.lead_time.median)},
            caption=_summary(
                result.lead_time,
                ngettext(
                    "%(count)s release published", "%(count)s releases published", result.lead_time.count
                ),
            ),
        ),
    }


def _summary(dist: metrics.Distribution, counted: str) -> str:
    return gettext("%(counted)s · median %(median)s · 90th percentile %(p90)s") % {
        "counted": counted % {"count": dist.count},
        "median": hours_or_days(dist.median),
        "p90": hours_or_days(dist.p90),
    }


def _durations(result: metrics.Analytics) -> dict:
    return {
        "review_median": hours_or_days(result.review_time.median),
        "review_p90": hours_or_days(result.review_time.p90),
        "lead_median": hours_or_days(result.lead_time.median),
        "lead_p90": hours_or_days(result.lead_time.p90),
    }
