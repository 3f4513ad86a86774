"""The audit trail's rows as HTML, built in Python: fifty rows through the template engine cost more
than the rest of the page. Every value is escaped (event data is typed by users)."""

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from releases.models import AuditEvent
from web.audit_labels import (
    CODE_KEYS,
    action_label,
    data_key_label,
    data_value_text,
    state_text,
    target_label,
)
from web.rows import Row, html_row, times, url_maker
from web.templatetags.sluice import as_text, platform_text

AUDIT_ROW_HTML = (
    '<tr id="event-{pk}">\n'
    '<td class="nowrap"><time datetime="{at_iso}" title="{at_title}">{at_text}</time>\n'
    '<div class="muted small mono">#{pk}</div></td>\n'
    '<td class="audit-target">\n{target}\n{release}\n</td>\n'
    "<td>{actor}</td>\n"
    '<td data-action="{code}">{action}</td>\n'
    "<td>{states}</td>\n"
    '<td class="audit-data">{data}</td>\n{ip}\n'
    "</tr>\n"
)
APP_LINK_HTML = '<a href="{url}">{name}</a>'
MUTED_HTML = '<span class="muted">{text}</span>'
RELEASE_LINK_HTML = '<div class="small"><a class="version" href="{url}">{version}</a></div>'
RELEASE_ID_HTML = '<div class="small muted">{label} #{id}</div>'
DATA_ITEM_HTML = '<div class="kv"><span class="muted">{key}:</span> <span class="pre">{value}</span></div>'
CODE_HTML = '<span class="mono" translate="no">{code}</span>'
IP_HTML = '<td class="mono small audit-ip">{ip}</td>'
IP_HIDDEN_HTML = '<span class="muted" title="{title}">{hidden}</span>'


def _state(state: str) -> str:
    return state_text(state)  # a release's state, else a campaign's (issue 14)


def state_change(event: AuditEvent) -> str:
    if not event.to_state:
        return ""
    if event.from_state and event.from_state != event.to_state:
        return f"{_state(event.from_state)} → {_state(event.to_state)}"
    return _state(event.to_state)


def _data_html(data) -> SafeString:
    """The event's data, a line per key (keys and values are typed by users: escaped); a platform's
    <br> (WeChat's rejection reasons) is a line break, not text."""
    if not isinstance(data, dict):
        return mark_safe("")
    return mark_safe(  # noqa: S308 - every key and value escaped here
        "".join(
            DATA_ITEM_HTML.format(
                key=escape(data_key_label(k)),
                value=CODE_HTML.format(code=escape(as_text(v)))
                if k in CODE_KEYS
                else escape(platform_text(data_value_text(k, v))),
            )
            for k, v in sorted(data.items())
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
            states[change] = state_change(e)
        if app_name:
            target = html_row(APP_LINK_HTML, url=app_url(e.app_id), name=app_name)
        elif e.app_id:
            target = html_row(MUTED_HTML, text=f"{app_label} #{e.app_id}")
        else:
            target = html_row(MUTED_HTML, text=target_label(e.target_type) if e.target_type else "—")
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
            action=action_label(e.action),
            code=e.action,
            states=states[change],
            data=_data_html(e.data),
            ip=ip,
        )
        rows.append(Row(pk=e.pk, event=e, html=html))
    return rows
