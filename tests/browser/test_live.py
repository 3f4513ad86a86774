"""Open pages follow a release changed elsewhere, in a real headless chromium (Debian's, at
/usr/bin/chromium; nothing downloads a browser). The change is made on another database
connection while the page stays open: it must appear without a reload, and never over what a
person is typing."""

import threading
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from releases import services
from releases.remediation import remediation_complete as remediation_done

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser" / "live"
WAIT_MS = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page(live_server, browser):
    """page_for(user) -> a Playwright page logged in as `user` on the live server (the shared
    chromium from conftest). Set the data up before the first page; change it afterwards with
    `elsewhere`, as a worker would."""
    contexts = []

    def page_for(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        return context.new_page()

    yield page_for
    for context in contexts:
        context.close()


def elsewhere(fn, *args, **kwargs):
    """Run `fn` on another thread with its own database connection, as a worker would."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"live-{name}.png"), full_page=True)


def test_a_rejection_recorded_elsewhere_appears_on_the_open_release_page_without_a_reload(
    live_server, browser_page, make_release, mike, nina
):
    release = make_release("1.0.0", upto="submitted")
    page = browser_page(nina)
    page.goto(live_server.url + reverse("web:release-detail", args=[release.pk]))
    assert page.locator("h1 .badge").inner_text() == "In review"
    page.evaluate("window.__sameDocument = true")

    elsewhere(
        services.release_record_outcome,
        release=release,
        actor=mike,
        outcome="rejected",
        reason="1:隐私政策不完善<br>2:首屏加载过慢",
    )

    expect(page.locator("h1 .badge")).to_have_text("Rejected", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert "The platform rejected this version" in page.locator("#next-title + .next-step").inner_text()
    # the audit trail, folded away
    page.wait_for_selector(
        'td[data-action="review_rejected"]', state="attached", timeout=WAIT_MS
    )  # folded trail
    page.wait_for_selector("#remediation-title", timeout=WAIT_MS)  # the tasks planned from it
    assert page.locator("[data-live-status]").inner_text() == "Shop 1.0.0 is rejected."
    _shot(page, "rejected")


def test_what_a_person_is_typing_is_kept_while_the_rest_of_the_page_updates(
    live_server, browser_page, make_release, mike, nina
):
    release = make_release("1.0.0", upto="submitted")
    page = browser_page(nina)
    page.goto(live_server.url + reverse("web:release-detail", args=[release.pk]))
    page.fill("#f-outcome-reason", "Half-written note from the console")

    elsewhere(services.release_record_outcome, release=release, actor=mike, outcome="approved")

    expect(page.locator("h1 .badge")).to_have_text("Approved by platform", timeout=WAIT_MS)
    assert page.input_value("#f-outcome-reason") == "Half-written note from the console"
    assert page.locator(".live-note").is_visible()
    _shot(page, "typing-kept")

    page.fill("#f-outcome-reason", "")  # the person gives up on the note and leaves the field
    page.locator("h1").click()
    page.wait_for_selector("#f-outcome-reason", state="detached", timeout=WAIT_MS)
    assert "The platform approved this version" in page.locator(".next-step").inner_text()
    assert not page.locator(".live-note").is_visible()


def test_the_overview_follows_a_release_changed_elsewhere(
    live_server, browser_page, make_release, mike, alice
):
    release = make_release("1.0.0", upto="checked")
    page = browser_page(mike)
    page.goto(live_server.url + "/")
    assert "waiting for your approval" in page.locator("#needs-action").inner_text()
    page.evaluate("window.__sameDocument = true")

    elsewhere(services.release_approve, release=release, actor=mike)

    expect(page.locator("#needs-action")).to_contain_text("has every approval it needs", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True
    _shot(page, "overview")


def test_a_note_being_typed_stays_with_its_own_task_when_another_task_is_done_elsewhere(
    live_server, browser_page, make_release, mike, alice
):
    from releases.playbooks.seed import seed_playbooks
    from releases.rejection_recording import on_rejected

    seed_playbooks()
    release = make_release("1.0.0", upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="隐私政策不完善")
    release.refresh_from_db()
    on_rejected(release)
    first, second = release.remediation_tasks.filter(required=True).order_by("position")[:2]
    page = browser_page(alice)
    page.goto(live_server.url + reverse("web:release-detail", args=[release.pk]))
    second_form = f"form[action$='/remediation/{second.key}/done']"
    page.fill(f"{second_form} textarea[name=note]", "Half-typed evidence")

    elsewhere(remediation_done, release=release, key=first.key, actor=mike, note="Done by a colleague")

    page.wait_for_selector("text=Done by mike: Done by a colleague", timeout=WAIT_MS)
    assert page.input_value(f"{second_form} textarea[name=note]") == "Half-typed evidence"
    task = page.locator("li", has=page.locator(second_form))
    assert second.title in task.inner_text()  # the note is still under its own task's title
    assert (
        page.locator("textarea[name=note]")
        .evaluate_all("els => els.map(e => e.value)")
        .count("Half-typed evidence")
        == 1
    )
    _shot(page, "task-note-kept")
