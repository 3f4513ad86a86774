"""The audit trail browser: the events of the user's teams, filtered, newest first, paged by keyset,
exported as streamed CSV or JSON, and the result of the last chain verification.

Pages never walk the chain (millions of rows): a periodic job and `manage.py verify_audit` record
each walk as an AuditVerification row and the page shows the latest. Every page query is bounded
(one index range per filter, see the indexes on AuditEvent), so a page costs the same with ten
events or two million.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from releases import selectors
from releases.audit_verification import VERIFY_EVERY_SECONDS
from releases.models import App, AuditEvent, AuditVerification, Membership, Release, Role, State
from web.browse import Row, html_row, times, url_maker
from web.options import options

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
SYSTEM = "system"  # the actor filter's value for events without a person (pushes, polls, jobs)
# config/cron.py runs verify_audit_job this often (2,000,000 events take about 30 s of one core);
# a verification older than three rounds is shown as stale: the periodic job has probably stopped.
VERIFICATION_STALE_AFTER = timedelta(seconds=3 * VERIFY_EVERY_SECONDS)
EXPORT_FIELDS = (
    "id",
    "at",
    "team_id",
    "team",
    "app_id",
    "app",
    "release_id",
    "release_version",
    "actor_id",
    "actor_name",
    "action",
    "from_state",
    "to_state",
    "data",
    "ip",
    "hash",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- the app picker (also used by /analytics/) ----------------------------------------------------

APP_SELECT_LIMIT = 100  # a scope with at most this many apps gets a <select>; more, a text field
APP_MATCHES_SHOWN = 20  # a text matching several apps lists at most this many of them
APP_TEXT_MAX_LENGTH = 100
APP_TEXT_PARAM = "app_q"  # the text field's name; `app` (an app id) stays the filter itself
APP_FIELDS = ("id", "name", "appid", "team_id", "team__name")


@dataclass
class AppPick:
    """The app filter of a page, resolved against a scope of apps (the user's teams').

    A small scope is offered as a <select> (`listed` holds every app of it). A large one is a text
    field: the server matches the typed text against the apps' names and AppIDs and picks the app
    when exactly one matches, lists the first few when several do, and reports an error when none
    does. Apps are dicts of APP_FIELDS; nothing outside the scope is ever matched.
    """

    listed: list[dict] | None  # every app of the scope when there are few, else None
    app: dict | None = None  # the chosen app
    text: str = ""  # what the text field shows: the chosen app's name or the typed text
    matches: list[dict] = field(default_factory=list)  # several apps matched `text`
    more_matches: bool = False  # more than APP_MATCHES_SHOWN matched
    error: str = ""  # `text` matched no app
    bad_id: bool = False  # the `app` id is not an app of the scope

    @property
    def is_select(self) -> bool:
        return self.listed is not None

    @property
    def app_id(self) -> int | None:
        return self.app["id"] if self.app else None


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def pick_app(apps: QuerySet, app_id: int | None, text: str | None) -> AppPick:
    """Resolve the `app` id and the typed `text` (None when the field was not sent) in `apps`.

    One query of at most APP_SELECT_LIMIT + 1 rows whatever the number of apps: the chosen app
    first, then the apps the text matches, then the rest, in (team, name) order. Fewer rows than
    that are the whole scope, so the same rows say whether a select fits and hold the select's
    apps, the chosen app and the first matches; PostgreSQL keeps the top rows of one sort and
    never numbers or counts the whole scope. A text equal to the chosen app's name keeps that
    app (the field shows the name, so resubmitting the form changes nothing); an empty text
    means every app.
    """
    if text is not None:
        text = text.strip()[:APP_TEXT_MAX_LENGTH]
    if app_id is None and not text:
        # Nothing to resolve (the common load): whether a select fits, and its apps. Unordered,
        # so PostgreSQL stops after APP_SELECT_LIMIT + 1 rows.
        rows = list(apps.order_by().values(*APP_FIELDS)[: APP_SELECT_LIMIT + 1])
        return AppPick(_listed(rows))
    rows = list(
        apps.annotate(
            chosen=_flag(Q(pk=app_id)) if app_id is not None else Value(False),
            matched=_flag(Q(name__icontains=text) | Q(appid__icontains=text)) if text else Value(False),
        )
        .order_by("-chosen", "-matched", "team__name", "name", "id")
        .values(*APP_FIELDS, "chosen", "matched")[: APP_SELECT_LIMIT + 1]
    )
    pick = AppPick(_listed(rows))
    chosen = rows[0] if rows and rows[0]["chosen"] else None
    if text == "" or (app_id is None and not text):
        return pick
    if text is None or (chosen is not None and chosen["name"].strip() == text):
        pick.app, pick.bad_id = chosen, chosen is None
        pick.text = chosen["name"] if chosen else ""
        return pick
    pick.text = text
    found = [row for row in rows if row["matched"]][: APP_MATCHES_SHOWN + 1]
    if len(found) == 1:
        pick.app, pick.text = found[0], found[0]["name"]
    elif found:
        pick.matches, pick.more_matches = found[:APP_MATCHES_SHOWN], len(found) > APP_MATCHES_SHOWN
    else:
        pick.error = gettext("No app of your teams matches “%(text)s”.") % {"text": text}
    return pick


def _listed(rows: list[dict]) -> list[dict] | None:
    """The select's apps, by team and name (case-insensitively), when `rows` are the whole scope."""
    if len(rows) > APP_SELECT_LIMIT:
        return None
    return sorted(rows, key=lambda row: (row["team__name"].casefold(), row["name"].casefold(), row["id"]))


def app_query(params, app_id: int | None = None, drop: Iterable[str] = ()) -> str:
    """`params` (a QueryDict) as a query string with the app filter set to `app_id` (none: removed)
    and the text field and the `drop` keys removed: the page's links name apps by id only."""
    query = params.copy()
    for key in (APP_TEXT_PARAM, "app", *drop):
        query.pop(key, None)
    if app_id is not None:
        query["app"] = str(app_id)
    return query.urlencode()


# -- the filter ----------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    """The filter of /audit/ and of its exports: values are accepted only from the user's teams.

    Plain fields checked against sets rather than ChoiceFields: a platform team has thousands of
    apps, and Django re-normalises choice lists on every form. The app is picked by pick_app: a
    select for a few apps, a text field (`app_q`) resolved on the server for many.
    """

    app = forms.IntegerField(required=False, label="App")
    app_q = forms.CharField(required=False, label="App")
    actor = forms.CharField(required=False, label="User")
    action = forms.CharField(required=False, max_length=64, label="Action")
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")

    def __init__(self, data, *, choices: "AuditChoices", apps: QuerySet):
        super().__init__(data)
        self.choices = choices
        self.apps = apps
        self._pick: AppPick | None = None

    @property
    def pick(self) -> AppPick:
        """The app picker; resolved by clean() when the form is validated, else without an app."""
        if self._pick is None:
            self._pick = pick_app(self.apps, None, self._text())
        return self._pick

    def _text(self) -> str | None:
        return self.data.get(APP_TEXT_PARAM) if self.is_bound and APP_TEXT_PARAM in self.data else None

    def clean_actor(self):
        actor = self.cleaned_data["actor"]
        members = {str(a["user_id"]) for a in self.choices.actors}
        if actor and actor != SYSTEM and actor not in members:
            raise forms.ValidationError("Select a valid choice: that user is not in your teams.")
        return actor

    def clean_action(self):
        action = self.cleaned_data["action"]
        if action and action not in self.choices.actions:
            raise forms.ValidationError("Select a valid choice: no event has that action.")
        return action

    def clean(self):
        cleaned = super().clean()
        if "app" not in self.errors:  # a number (or nothing): look the app up in the user's teams
            self._pick = pick = pick_app(self.apps, cleaned.get("app"), self._text())
            if pick.bad_id:
                self.add_error("app", "Select a valid choice: that app is not in your teams.")
            elif pick.error:
                self.add_error(APP_TEXT_PARAM, pick.error)
            else:
                cleaned["app"] = pick.app_id
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return cleaned

    def select_options(self) -> dict:
        """The selects' <option>s, the current values selected (joined in Python: thousands)."""
        value = self.data.get
        return {
            "app": options(
                (
                    [("", gettext("All apps"))]
                    + [(a["id"], f"{a['name']} ({a['team__name']})") for a in self.pick.listed]
                )
                if self.pick.is_select
                else [],
                self.pick.app_id,
            ),
            "actor": options(
                [("", "Everyone"), (SYSTEM, "System (no person)")]
                + [(a["user_id"], a["user__username"]) for a in self.choices.actors],
                value("actor"),
            ),
            "action": options(
                [("", "All actions")] + [(a, a) for a in self.choices.actions], value("action")
            ),
        }


@dataclass
class AuditChoices:
    """What the user and action filters offer, loaded once per request (two queries). Apps are not
    listed here: a platform team has thousands (see pick_app)."""

    actors: list[dict]
    actions: list[str]


def audit_choices(user) -> AuditChoices:
    actors = list(
        Membership.objects.filter(team_id__in=selectors.team_ids_for(user))
        .values("user_id", "user__username")
        .distinct()
        .order_by("user__username")
    )
    return AuditChoices(actors=actors, actions=distinct_actions())


def with_names(events: QuerySet[AuditEvent], user) -> QuerySet[AuditEvent]:
    """Events with `app_name`, the name of their app (when it is one of the user's teams'), and
    `release_version`, the version of their release: looked up for the rows of a page only, in the
    page's own query, so no list of every app and no second query is needed."""
    names = App.objects.filter(pk=OuterRef("app_id"), team_id__in=selectors.team_ids_for(user))
    versions = Release.objects.filter(pk=OuterRef("release_id"))
    return events.annotate(
        app_name=Subquery(names.order_by().values("name")[:1]),
        release_version=Subquery(versions.order_by().values("version")[:1]),
    )


def distinct_actions() -> list[str]:
    """Every action name in the trail, by a loose index scan (one probe per distinct name).

    Action names are code constants, not team data, so the list is global; it stays a few
    dozen index probes however many events there are.
    """
    table = AuditEvent._meta.db_table
    sql = f"""
        WITH RECURSIVE names(action) AS (
            SELECT MIN(action) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(e.action) FROM {table} e WHERE e.action > names.action)
            FROM names WHERE names.action IS NOT NULL
        )
        SELECT action FROM names WHERE action IS NOT NULL
    """  # noqa: S608 - the table name is ours, no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def day_start(day: date) -> datetime:
    """Midnight at the start of a local (Beijing, the site's time zone) day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def audit_events(user, cleaned: dict | None = None) -> QuerySet[AuditEvent]:
    """The events of the user's teams matching a cleaned filter; dates are whole local days."""
    cleaned = cleaned or {}
    events = AuditEvent.objects.filter(team_id__in=selectors.team_ids_for(user))
    if cleaned.get("app"):
        events = events.filter(app_id=cleaned["app"])
    actor = cleaned.get("actor")
    if actor == SYSTEM:
        events = events.filter(actor_id__isnull=True)
    elif actor:
        events = events.filter(actor_id=int(actor))
    if cleaned.get("action"):
        events = events.filter(action=cleaned["action"])
    if cleaned.get("date_from"):
        events = events.filter(at__gte=day_start(cleaned["date_from"]))
    if cleaned.get("date_to"):
        events = events.filter(at__lt=day_start(cleaned["date_to"] + timedelta(days=1)))
    return events


# -- keyset pages --------------------------------------------------------------------------------


def cursor_of(event: AuditEvent) -> str:
    """A page boundary: the event's time in microseconds and its id (events sort by both)."""
    return f"{(event.at - _EPOCH) // timedelta(microseconds=1)}.{event.pk}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    try:
        micros, pk = (value or "").split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def _older_than(at: datetime, pk: int) -> Q:
    # at__lte lets the database use the (…, at, id) index range; the rest breaks ties by id.
    return Q(at__lte=at) & (Q(at__lt=at) | Q(pk__lt=pk))


def _newer_than(at: datetime, pk: int) -> Q:
    return Q(at__gte=at) & (Q(at__gt=at) | Q(pk__gt=pk))


@dataclass
class AuditPage:
    events: list[AuditEvent]
    older: str | None = None  # cursor for the next (older) page, if there is one
    newer: str | None = None  # cursor for the previous (newer) page, if there is one
    is_first: bool = True


def audit_page(events: QuerySet[AuditEvent], *, before=None, after=None, size=PAGE_SIZE) -> AuditPage:
    """One page newest first. `before`/`after` are cursors (see cursor_of); a bad one means page one."""
    before, after = parse_cursor(before), parse_cursor(after)
    if after is not None:
        rows = list(events.filter(_newer_than(*after)).order_by("at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return AuditPage(
            rows,
            older=cursor_of(rows[-1]) if rows else None,
            newer=cursor_of(rows[0]) if rows and more_newer else None,
            is_first=not more_newer,
        )
    if before is not None:
        events = events.filter(_older_than(*before))
    rows = list(events.order_by("-at", "-id")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return AuditPage(
        rows,
        older=cursor_of(rows[-1]) if rows and more_older else None,
        newer=cursor_of(rows[0]) if rows and before is not None else None,
        is_first=before is None,
    )


# One event of the page as HTML, built here (html_row escapes every value: event data is typed by
# users) because fifty rows through the template engine cost more than the rest of the page; the
# markup is what the template printed, see releases/browse.py for the pattern.
AUDIT_ROW_HTML = (
    '<tr id="event-{pk}">\n'
    '<td class="nowrap"><time datetime="{at_iso}" title="{at_title}">{at_text}</time>\n'
    '<div class="muted small mono">#{pk}</div></td>\n'
    '<td class="audit-target">\n{target}\n{release}\n</td>\n'
    "<td>{actor}</td>\n"
    '<td class="mono">{action}</td>\n'
    "<td>{states}</td>\n"
    '<td class="audit-data">{data}</td>\n{ip}\n'
    "</tr>\n"
)
APP_LINK_HTML = '<a href="{url}">{name}</a>'
MUTED_HTML = '<span class="muted">{text}</span>'
RELEASE_LINK_HTML = '<div class="small"><a class="version" href="{url}">{version}</a></div>'
RELEASE_ID_HTML = '<div class="small muted">{label} #{id}</div>'
DATA_ITEM_HTML = '<div class="kv"><span class="muted">{key}:</span> {value}</div>'
IP_HTML = '<td class="mono small audit-ip">{ip}</td>'
IP_HIDDEN_HTML = '<span class="muted" title="{title}">{hidden}</span>'


def _state(state: str) -> str:
    try:
        return State(state).label
    except ValueError:
        return state


def _states(event: AuditEvent) -> str:
    if not event.to_state:
        return ""
    if event.from_state and event.from_state != event.to_state:
        return f"{_state(event.from_state)} → {_state(event.to_state)}"
    return _state(event.to_state)


def _as_text(value) -> str:
    """A JSON value as one readable line (as the release page's audit table shows it)."""
    if value == "" or value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def ip_team_ids(user) -> set[int]:
    """Teams whose event IPs this user may see: only admins and release managers see them."""
    return set(selectors.team_ids_for(user, Role.RELEASE_MANAGER))


def _data_html(data) -> SafeString:
    """The event's data, a line per key (keys and values are typed by users: escaped)."""
    if not isinstance(data, dict):
        return mark_safe("")
    return mark_safe(  # noqa: S308 - every key and value escaped here
        "".join(
            DATA_ITEM_HTML.format(key=escape(k), value=escape(_as_text(v))) for k, v in sorted(data.items())
        )
    )


def audit_rows(events: list[AuditEvent], *, ip_teams: set[int]) -> list[Row]:
    """The page's rows (`pk`, `event` and their `html`), with the app names and release versions
    with_names() read. The IP column is there when the user sees IPs in some team (`ip_teams`, as
    the header); a row shows its event's IP only if the event's team is one."""
    app_url, release_url = url_maker("web:app-detail"), url_maker("web:release-detail")
    app_label, release_label = pgettext("audit target", "app"), pgettext("audit target", "release")
    system = html_row(MUTED_HTML, text=gettext("system"))
    hidden_ip = html_row(
        IP_HTML,
        ip=html_row(
            IP_HIDDEN_HTML,
            title=gettext("Only admins and release managers of this team see IPs"),
            hidden=gettext("hidden"),
        ),
    )
    no_html = mark_safe("")
    states = {}  # (from, to): the column's text, translated once per page
    rows = []
    for e in events:
        app_name, version = e.app_name, e.release_version
        at_iso, at_text = times(e.at)
        change = (e.from_state, e.to_state)
        if change not in states:
            states[change] = _states(e)
        if app_name:
            target = html_row(APP_LINK_HTML, url=app_url(e.app_id), name=app_name)
        elif e.app_id:
            target = html_row(MUTED_HTML, text=f"{app_label} #{e.app_id}")
        else:
            target = html_row(MUTED_HTML, text=e.target_type or "—")
        if version:
            release = html_row(RELEASE_LINK_HTML, url=release_url(e.release_id), version=version)
        elif e.release_id:
            release = html_row(RELEASE_ID_HTML, label=release_label, id=e.release_id)
        else:
            release = no_html
        if not ip_teams:
            ip = no_html
        elif e.team_id in ip_teams:
            ip = html_row(IP_HTML, ip=e.ip or "")
        else:
            ip = hidden_ip
        html = html_row(
            AUDIT_ROW_HTML,
            pk=e.pk,
            at_iso=at_iso,
            at_title=f"{at_text}{at_iso[16:19]}",  # with the seconds (":SS" of the ISO form)
            at_text=at_text,
            target=target,
            release=release,
            actor=e.actor_name or system,
            action=e.action,
            states=states[change],
            data=_data_html(e.data),
            ip=ip,
        )
        rows.append(Row(pk=e.pk, event=e, html=html))
    return rows


# -- exports -------------------------------------------------------------------------------------


def export_records(events: QuerySet[AuditEvent], *, user, chunk: int = EXPORT_CHUNK) -> Iterator[dict]:
    """Every matching event, oldest first, read in keyset chunks so memory and transactions stay small.

    IPs are blank for teams where the user is not an admin or release manager.
    """
    apps = {a["id"]: a for a in selectors.apps_for(user).values("id", "name", "team__name")}
    ip_teams = ip_team_ids(user)
    boundary = None
    while True:
        page = events.filter(_newer_than(*boundary)) if boundary else events
        rows = list(page.order_by("at", "id")[:chunk])
        if not rows:
            return
        release_ids = {e.release_id for e in rows if e.release_id}
        versions = dict(Release.objects.filter(pk__in=release_ids).order_by().values_list("pk", "version"))
        for e in rows:
            app = apps.get(e.app_id) or {}
            yield {
                "id": e.pk,
                "at": timezone.localtime(e.at).isoformat(),
                "team_id": e.team_id,
                "team": app.get("team__name", ""),
                "app_id": e.app_id,
                "app": app.get("name", ""),
                "release_id": e.release_id,
                "release_version": versions.get(e.release_id, ""),
                "actor_id": e.actor_id,
                "actor_name": e.actor_name,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "data": e.data,
                "ip": e.ip if e.team_id in ip_teams else None,
                "hash": e.hash,
            }
        if len(rows) < chunk:
            return
        boundary = (rows[-1].at, rows[-1].pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def csv_lines(records: Iterable[dict]) -> Iterator[str]:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read the Chinese texts right."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_FIELDS)
    for record in records:
        yield writer.writerow([_cell(record[name]) for name in EXPORT_FIELDS])


def json_chunks(records: Iterable[dict]) -> Iterator[str]:
    """One JSON array, written an event at a time."""
    yield "["
    separator = "\n"
    for record in records:
        yield separator + json.dumps(record, ensure_ascii=False, cls=DjangoJSONEncoder)
        separator = ",\n"
    yield "\n]\n"


def export_filename(extension: str, today: date | None = None) -> str:
    return f"sluice-audit-{(today or timezone.localdate()).isoformat()}.{extension}"


@dataclass
class ChainStatus:
    run: AuditVerification | None
    stale: bool = False
    broken_visible: bool = False  # the broken event belongs to one of the user's teams

    @property
    def duration_seconds(self) -> float | None:
        if self.run is None:
            return None
        return max(0.0, (self.run.finished_at - self.run.started_at).total_seconds())


def chain_status(user, now: datetime | None = None) -> ChainStatus:
    """The latest recorded verification; one query, two when it names a broken event."""
    run = AuditVerification.objects.order_by("-finished_at", "-pk").first()
    if run is None:
        return ChainStatus(None)
    stale = (now or timezone.now()) - run.finished_at > VERIFICATION_STALE_AFTER
    visible = bool(
        run.broken_id
        and AuditEvent.objects.filter(pk=run.broken_id, team_id__in=selectors.team_ids_for(user)).exists()
    )
    return ChainStatus(run, stale=stale, broken_visible=visible)
