"""The app filter of a page (the audit trail, analytics), for scopes of a few apps or thousands.

A platform team has thousands of apps: a <select> of all of them would be a page of its own and a
query of every app on every load. So a small scope is a select and a large one a text field the
server resolves, in one bounded query either way (see pick_app).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.utils.translation import gettext

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
