"""Analytics of a team or an app over a period: first-pass approval rate, rejection reasons by
category, review time, lead time from draft to published, resubmission rate.

The audit trail is the source: it records every submission, decision and publication of every
attempt (a release's own `submitted_at`/`decided_at` keep only its latest attempt). Each metric is
one aggregate query, computed by the database whatever the number of releases and events; the
charts are drawn on the server from the numbers (web/analytics/charts.py). Every function takes a Scope
built from the user's teams, so another team's releases never count.

Percentiles are nearest-rank: the p-th percentile of n sorted values is the ceil(p·n)-th one, so a
median of an even count is the lower middle value, and the number shown is always a real
duration that happened.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, FloatField, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from releases.models import App, AuditEvent, Rejection, RejectionCategory, Release

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 30
# Audit actions: a submission the platform accepted, its decision, a publication.
SUBMITTED = ("submit_succeeded", "resubmitted_outside")
DECIDED = ("review_approved", "review_rejected")
APPROVED = "review_approved"
PUBLISHED = "publish_succeeded"

HOUR = 3600
DAY = 24 * HOUR
# Review time buckets around the platforms' promise: usually 1 to 3 working days, at most 7.
REVIEW_BUCKETS = (
    (_("under 6 h"), 0, 6 * HOUR),
    (_("6–24 h"), 6 * HOUR, DAY),
    (_("1–2 days"), DAY, 2 * DAY),
    (_("2–3 days"), 2 * DAY, 3 * DAY),
    (_("3–5 days"), 3 * DAY, 5 * DAY),
    (_("5–7 days"), 5 * DAY, 7 * DAY),
    (_("over 7 days"), 7 * DAY, None),
)
LEAD_BUCKETS = (
    (_("under 1 day"), 0, DAY),
    (_("1–3 days"), DAY, 3 * DAY),
    (_("3–7 days"), 3 * DAY, 7 * DAY),
    (_("1–2 weeks"), 7 * DAY, 14 * DAY),
    (_("2–4 weeks"), 14 * DAY, 28 * DAY),
    (_("over 4 weeks"), 28 * DAY, None),
)

# What the page says under "How these numbers are computed" (the functions' docstrings say the same).
DEFINITIONS = {
    "first_pass": (
        _("First-pass approval rate"),
        _(
            "Of the releases whose first platform decision fell in the period, the share approved at "
            "that first decision after a single submission (no earlier withdrawal or resubmission)."
        ),
    ),
    "resubmission": (
        _("Resubmission rate"),
        _(
            "Of the releases first submitted to the platform in the period, the share submitted more than "
            "once so far (after a rejection or a withdrawal, through Sluice or the platform's console)."
        ),
    ),
    "rejections": (
        _("Rejection reasons"),
        _(
            "Every numbered item of every rejection recorded in the period, counted in the category the "
            "rules gave it; a rejection with three items counts three times."
        ),
    ),
    "review_time": (
        _("Review time"),
        _(
            "For each platform decision (approved or rejected) in the period: the calendar time from the "
            "submission it answers (the release's latest accepted submission before it) to the decision."
        ),
    ),
    "lead_time": (
        _("Lead time, draft to published"),
        _(
            "For each release published in the period: the calendar time from its creation as a draft to "
            "its publication succeeding. Median and 90th percentile are nearest-rank."
        ),
    ),
}


@dataclass(frozen=True)
class Scope:
    """Which releases count: apps of these teams (the user's), optionally one app, in [since, until)."""

    team_ids: tuple[int, ...]
    since: datetime
    until: datetime
    app_id: int | None = None

    @classmethod
    def last_days(cls, team_ids, days: int, *, app_id: int | None = None, now: datetime | None = None):
        until = now or timezone.now()
        return cls(tuple(team_ids), until - timedelta(days=days), until, app_id)

    def events(self) -> QuerySet[AuditEvent]:
        events = AuditEvent.objects.filter(team_id__in=self.team_ids)
        return events.filter(app_id=self.app_id) if self.app_id else events

    def in_period(self, prefix: str = "") -> Q:
        return Q(**{f"{prefix}at__gte": self.since, f"{prefix}at__lt": self.until})


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None


class SecondsBetween(Func):
    """end - start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, start, end):
        super().__init__(start, end)

    def as_sql(self, compiler, connection, **extra):
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        if connection.vendor == "postgresql":
            sql = f"EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))::double precision"
        else:
            sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        return sql, (*end_params, *start_params)


# -- rates ---------------------------------------------------------------------------------------


def _same_release(actions, **id_lookup) -> QuerySet[AuditEvent]:
    """Events of the outer event's release with one of these actions, before or after it (by id):
    answered from the (release_id, action, id) index alone."""
    return AuditEvent.objects.filter(release_id=OuterRef("release_id"), action__in=actions, **id_lookup)


def first_pass_approval(scope: Scope) -> Rate:
    """Of the releases whose first platform decision fell in the period, the share approved at that
    first decision after a single submission (no earlier withdrawal or resubmission). One query."""
    submissions_before = (
        _same_release(SUBMITTED, id__lt=OuterRef("id"))
        .order_by()
        .values("release_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    totals = (
        scope.events()
        .filter(scope.in_period(), action__in=DECIDED)
        .filter(~Exists(_same_release(DECIDED, id__lt=OuterRef("id"))))
        .annotate(submissions=Coalesce(Subquery(submissions_before), 0))
        .aggregate(whole=Count("id"), part=Count("id", filter=Q(action=APPROVED, submissions__lte=1)))
    )
    return Rate(totals["part"], totals["whole"])


def resubmission(scope: Scope) -> Rate:
    """Of the releases first submitted to the platform in the period, the share submitted more than
    once so far (after a rejection or a withdrawal, through Sluice or the platform's console). One query."""
    totals = (
        scope.events()
        .filter(scope.in_period(), action__in=SUBMITTED)
        .filter(~Exists(_same_release(SUBMITTED, id__lt=OuterRef("id"))))
        .annotate(again=Exists(_same_release(SUBMITTED, id__gt=OuterRef("id"))))
        .aggregate(whole=Count("id"), part=Count("id", filter=Q(again=True)))
    )
    return Rate(totals["part"], totals["whole"])


# -- rejection reasons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCount:
    category: str
    label: str
    items: int


def _rejections(scope: Scope) -> QuerySet[Rejection]:
    rejections = Rejection.objects.filter(scope.in_period())
    if scope.app_id:
        return rejections.filter(app_id=scope.app_id, release__app__team_id__in=scope.team_ids)
    return rejections.filter(app_id__in=Subquery(App.objects.filter(team_id__in=scope.team_ids).values("pk")))


def rejection_reasons(scope: Scope) -> tuple[list[CategoryCount], int]:
    """Every numbered item of every rejection recorded in the period, counted in the category the
    rules gave it (a rejection with three items counts three times), most frequent first; and the
    number of rejections. One query: the items are unnested by the database."""
    inner, params = _rejections(scope).values("id", "items").query.sql_with_params()
    if connection.vendor == "postgresql":
        items = f"""
            SELECT 1, item ->> 'category', COUNT(*)
            FROM ({inner}) r CROSS JOIN LATERAL jsonb_array_elements(
                CASE WHEN jsonb_typeof(r.items) = 'array' THEN r.items ELSE '[]'::jsonb END) AS item
            GROUP BY 2
        """  # noqa: S608 - our own queryset's SQL; values are parameters
    else:
        items = f"""
            SELECT 1, json_extract(item.value, '$.category'), COUNT(*)
            FROM ({inner}) r,
                json_each(CASE WHEN json_type(r.items) = 'array' THEN r.items ELSE '[]' END) AS item
            GROUP BY 2
        """  # noqa: S608 - our own queryset's SQL; values are parameters
    sql = f"SELECT 0, NULL, COUNT(*) FROM ({inner}) t UNION ALL {items}"  # noqa: S608 - as above
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *params))
        rows = cursor.fetchall()
    labels = dict(RejectionCategory.choices)
    counts: dict[str, int] = {}
    total = 0
    for kind, category, n in rows:
        if kind == 0:
            total = n
            continue
        key = category if category in labels else RejectionCategory.OTHER.value
        counts[key] = counts.get(key, 0) + n
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], labels[kv[0]]))
    return [CategoryCount(key, labels[key], n) for key, n in ordered], total


# -- durations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    count: int
    median: float | None  # seconds
    p90: float | None
    buckets: list[tuple[str, int]]


def distribution(values: QuerySet, column: str, buckets) -> Distribution:
    """Count, nearest-rank median and p90, and a histogram of one numeric column of a queryset
    (seconds), in one query: the database ranks the values with window functions."""
    inner, params = values.query.sql_with_params()
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE s >= {int(low)}{'' if high is None else f' AND s < {int(high)}'})"
        for _label, low, high in buckets
    )
    # MATERIALIZED: each row's duration is computed once, not again in every filter that uses it.
    sql = f"""
        WITH base AS MATERIALIZED ({inner})
        SELECT COUNT(*), MAX(s) FILTER (WHERE rn = (n + 1) / 2), MAX(s) FILTER (WHERE rn = (9 * n + 9) / 10),
               {counts}
        FROM (
            SELECT s, ROW_NUMBER() OVER (ORDER BY s) AS rn, COUNT(*) OVER () AS n
            FROM (SELECT base.{column} AS s FROM base) v
            WHERE s IS NOT NULL AND s >= 0
        ) ranked
    """  # noqa: S608 - the column and bounds are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return Distribution(
        count=row[0],
        median=row[1],
        p90=row[2],
        buckets=[(label, n) for (label, _low, _high), n in zip(buckets, row[3:], strict=True)],
    )


def review_time(scope: Scope) -> Distribution:
    """For each platform decision (approved or rejected) in the period: the calendar time from the
    submission it answers (the release's latest accepted submission before it) to the decision.
    One query."""
    answered = (
        AuditEvent.objects.filter(
            release_id=OuterRef("release_id"), action__in=SUBMITTED, id__lt=OuterRef("id")
        )
        .order_by("-id")
        .values("at")[:1]
    )
    decisions = (
        scope.events()
        .filter(scope.in_period(), action__in=DECIDED)
        .annotate(seconds=SecondsBetween(Subquery(answered), F("at")))
        .order_by()
        .values("seconds")
    )
    return distribution(decisions, "seconds", REVIEW_BUCKETS)


def lead_time(scope: Scope) -> Distribution:
    """For each release published in the period: the calendar time from its creation as a draft to
    its publication succeeding (a release publishes once: published only goes on to a rollback).
    One query."""
    created = Release.objects.filter(pk=OuterRef("release_id")).order_by().values("created_at")[:1]
    published = (
        scope.events()
        .filter(scope.in_period(), action=PUBLISHED)
        .annotate(seconds=SecondsBetween(Subquery(created), F("at")))
        .order_by()
        .values("seconds")
    )
    return distribution(published, "seconds", LEAD_BUCKETS)


# -- the page's numbers --------------------------------------------------------------------------


@dataclass
class Analytics:
    scope: Scope
    first_pass: Rate
    resubmission: Rate
    reasons: list[CategoryCount]
    rejections: int
    review_time: Distribution
    lead_time: Distribution


def analytics(scope: Scope) -> Analytics:
    """Every metric of the page: five queries, whatever the size of the data."""
    reasons, rejections = rejection_reasons(scope)
    return Analytics(
        scope=scope,
        first_pass=first_pass_approval(scope),
        resubmission=resubmission(scope),
        reasons=reasons,
        rejections=rejections,
        review_time=review_time(scope),
        lead_time=lead_time(scope),
    )


# -- cached for the page -------------------------------------------------------------------------

# The numbers of one scope are kept this long: a year of a large team takes the database a second
# or two, and analytics need not move by the minute. The page says when they were computed.
CACHE_SECONDS = 600


def cached_analytics(team_ids, days: int, *, app_id: int | None = None) -> Analytics:
    """analytics() for the last `days` days, from Django's cache when computed in the last
    CACHE_SECONDS (shared by everyone who sees the same teams and app)."""
    key = f"sluice:analytics:v1:{days}:{app_id or 0}:{','.join(str(t) for t in sorted(team_ids))}"
    found = cache.get(key)
    if found is None:
        found = analytics(Scope.last_days(team_ids, days, app_id=app_id))
        cache.set(key, found, CACHE_SECONDS)
    return found
