"""The rows of the three long tables (the app list, an app's releases, every release), which are
built as HTML in Python rather than in their templates: every value escaped, the same links,
badges, times and translated words as the templates printed, in the reader's language."""

from datetime import UTC, datetime
from html import escape

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.timezone import localtime

from releases.checks import REGISTRY
from releases.models import App, Membership, Release, Role, State
from web.language import set_preferred_language
from web.templatetags.sluice import state_badge

HOSTILE = '<b class="x">Tom & "Jerry"</b>'
ESCAPED = "&lt;b class=&quot;x&quot;&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"
CHANGED = datetime(2026, 3, 1, 16, 30, 45, tzinfo=UTC)


@pytest.fixture
def hostile(team, manual_account):
    """An app, a team and an author whose names are HTML, with a draft and a published release."""
    team.name = HOSTILE
    team.save()
    manual_account.name = HOSTILE
    manual_account.save()
    app = App.objects.create(team=team, platform_account=manual_account, name=HOSTILE, appid="wx<i>1")
    author = get_user_model().objects.create_user(username="<u>dev</u>")
    Membership.objects.create(team=team, user=author, role=Role.DEVELOPER)
    live = Release.objects.create(app=app, version="1.0.0", author=author, state=State.PUBLISHED)
    latest = Release.objects.create(app=app, version="1.1.0", author=author, state=State.SUBMITTED)
    Release.objects.filter(pk__in=[live.pk, latest.pk]).update(state_changed_at=CHANGED)
    return app, live, latest


def _badge(state: str) -> str:
    """The badge as {% state_badge %} renders it."""
    return render_to_string("releases/_state_badge.html", state_badge(state)).strip()


def _row(page: str, needle: str) -> str:
    """The table row of `page` that contains `needle`."""
    return next(row for row in page.split("</tr>") if needle in row)


def _url(name: str, pk: int) -> str:
    return reverse(f"web:{name}", args=[pk])


def _shown(moment) -> tuple[str, str]:
    local = localtime(moment)
    return local.isoformat(), local.strftime("%Y-%m-%d %H:%M")


def test_the_app_list_escapes_every_value_and_links_the_live_and_latest_release(login, alice, hostile):
    app, live, latest = hostile
    response = login(alice).get(reverse("web:app-list"))
    page = response.content.decode()
    assert HOSTILE not in page and "<u>dev</u>" not in page and "wx<i>1" not in page
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert row.count(ESCAPED) == 3  # the app, its team and its platform account
    assert "wx&lt;i&gt;1" in row
    assert f'<a class="strong" href="{_url("app-detail", app.pk)}">{ESCAPED}</a>' in row
    assert f'<a href="{_url("release-detail", live.pk)}">1.0.0</a>' in row
    assert f'<a href="{_url("release-detail", latest.pk)}">1.1.0</a> {_badge("submitted")}' in row
    assert '<td class="num"><span class="count-pill">1</span></td><td class="num">2</td>' in row
    (shown,) = response.context["apps"]
    assert (shown.name, shown.latest_state, shown.in_review) == (HOSTILE, "submitted", 1)
    assert shown.release_count == 2


def test_an_app_without_releases_says_so_in_the_readers_language(login, alice, app):
    english = login(alice).get(reverse("web:app-list")).content.decode()
    assert '<span class="muted">Nothing published</span>' in english
    assert '<span class="muted">No releases yet</span>' in english
    assert '<td class="num"><span class="muted">0</span></td><td class="num">0</td>' in english
    set_preferred_language(alice, "zh-hans")
    chinese = login(alice).get(reverse("web:app-list")).content.decode()
    assert "Nothing published" not in chinese and "No releases yet" not in chinese


def test_the_release_list_rows_escape_link_and_translate(login, alice, hostile):
    app, live, latest = hostile
    page = login(alice).get(reverse("web:release-list")).content.decode()
    assert HOSTILE not in page and "<u>dev</u>" not in page
    iso, text = _shown(CHANGED)
    row = _row(page, _url("release-detail", latest.pk))
    assert f'<a href="{_url("app-detail", app.pk)}">{ESCAPED}</a>' in row
    assert f'{ESCAPED} · <span class="mono">wx&lt;i&gt;1</span>' in row
    assert '<div class="muted small">revision 1</div>' in row
    assert _badge("submitted") in row
    assert "<td>&lt;u&gt;dev&lt;/u&gt;</td>" in row
    assert f'<time datetime="{iso}">{text}</time>' in row
    set_preferred_language(alice, "zh-hans")
    chinese = login(alice).get(reverse("web:release-list")).content.decode()
    assert "修订 1" in chinese and "revision 1" not in chinese


def test_the_app_page_release_rows_show_link_badge_author_and_times(login, alice, hostile):
    app, live, latest = hostile
    page = login(alice).get(reverse("web:app-detail", args=[app.pk])).content.decode()
    iso, text = _shown(CHANGED)
    created_iso, created = _shown(Release.objects.get(pk=latest.pk).created_at)
    assert (
        f'<tr><td><a class="strong" href="{_url("release-detail", latest.pk)}">1.1.0</a></td>'
        f"<td>{_badge('submitted')}\n</td><td>&lt;u&gt;dev&lt;/u&gt;</td>"
        f'<td class="num">1</td><td><time datetime="{created_iso}">{created}</time></td>'
        f'<td><time datetime="{iso}">{text}</time></td></tr>'
    ) in page


def test_the_app_page_lists_members_with_what_they_approve_as(login, alice, mike, adam, app):
    Membership.objects.filter(user=alice).update(capacities=["qa"])
    url = reverse("web:app-detail", args=[app.pk])
    as_manager = login(mike).get(url)
    members = {row.username: row for row in as_manager.context["members"]}
    assert set(members) == {"adam", "alice", "mike"}
    page = as_manager.content.decode()
    assert "QA" in page and "Release manager" in page
    assert 'name="capacities"' not in page  # only an admin edits them
    as_admin = login(adam).get(url).content.decode()
    form = reverse("web:member-capacities-update", args=[app.pk, members["alice"].pk])
    assert f'<form method="post" action="{form}" class="inline">' in as_admin
    assert '<input type="checkbox" name="capacities" value="qa" checked> QA' in as_admin


def test_the_suppression_form_offers_every_check(login, mike, app):
    page = login(mike).get(reverse("web:app-detail", args=[app.pk])).content.decode()
    start = page.index('<select name="key" id="suppression_key">')
    select = page[start : page.index("</select>", start)]
    for key, check in REGISTRY.items():
        assert f'<option value="{key}">{escape(f"{check.title} ({key})")}</option>' in select
