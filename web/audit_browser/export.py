"""The audit trail's exports: every matching event, oldest first, streamed as CSV or JSON and read
in keyset chunks, so an export of millions of events keeps memory and transactions small."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from releases import selectors
from releases.models import AuditEvent, Release
from web.audit_browser.filters import ip_team_ids
from web.audit_browser.paging import newer_than

EXPORT_CHUNK = 2000


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


def export_records(events: QuerySet[AuditEvent], *, user, chunk: int = EXPORT_CHUNK) -> Iterator[dict]:
    """Every matching event, oldest first, read in keyset chunks so memory and transactions stay small.

    IPs are blank for teams where the user is not an admin or release manager.
    """
    apps = {a["id"]: a for a in selectors.apps_for(user).values("id", "name", "team__name")}
    ip_teams = ip_team_ids(user)
    boundary = None
    while True:
        page = events.filter(newer_than(*boundary)) if boundary else events
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
