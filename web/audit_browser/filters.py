"""What the audit trail's filter selects: the form (values accepted only from the user's teams), what
its user and action filters offer, the matching events of the user's teams, and which teams' IPs the
user sees. Every query is bounded (one index range per filter), whatever the size of the trail."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from releases import selectors
from releases.models import App, AuditEvent, Membership, Release, Role
from web.app_picker import APP_TEXT_PARAM, AppPick, pick_app
from web.audit_labels import action_label
from web.options import options

SYSTEM = "system"  # the actor filter's value for events without a person (pushes, polls, jobs)


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
            raise forms.ValidationError(gettext("Select a valid choice: that user is not in your teams."))
        return actor

    def clean_action(self):
        action = self.cleaned_data["action"]
        if action and action not in self.choices.actions:
            raise forms.ValidationError(gettext("Select a valid choice: no event has that action."))
        return action

    def clean(self):
        cleaned = super().clean()
        if "app" not in self.errors:  # a number (or nothing): look the app up in the user's teams
            self._pick = pick = pick_app(self.apps, cleaned.get("app"), self._text())
            if pick.bad_id:
                self.add_error("app", gettext("Select a valid choice: that app is not in your teams."))
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
                [("", gettext("Everyone")), (SYSTEM, gettext("System (no person)"))]
                + [(a["user_id"], a["user__username"]) for a in self.choices.actors],
                value("actor"),
            ),
            "action": options(
                [("", gettext("All actions"))] + [(a, action_label(a)) for a in self.choices.actions],
                value("action"),
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


def ip_team_ids(user) -> set[int]:
    """Teams whose event IPs this user may see: only admins and release managers see them."""
    return set(selectors.team_ids_for(user, Role.RELEASE_MANAGER))
