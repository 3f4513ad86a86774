"""Browser tests: Playwright driving Debian's chromium, headless, against Django's live server.

Nothing downloads a browser. Without /usr/bin/chromium the tests are skipped and the run
ends with one loud line saying so and how to install it. Screenshots of every step are
saved under artifacts/browser/ (look at them: a confusing page is a bug).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SLUICE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_skipped = []


def _have_chromium() -> bool:
    return os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config, items):
    if _have_chromium():
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            _skipped.append(item.nodeid)
            item.add_marker(pytest.mark.skip(reason=f"no chromium at {CHROMIUM}"))


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(
            f"!!! BROWSER TESTS DID NOT RUN ({len(_skipped)} skipped): no chromium at {CHROMIUM}. "
            "Install Debian's chromium: sudo apt-get install chromium",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def browser():
    if not _have_chromium():
        pytest.skip(f"no chromium at {CHROMIUM}")
    # Django refuses sync ORM calls from a thread with a running event loop (Playwright's sync
    # API keeps one); the tests only touch the database between browser steps.
    # Only for this session's browser tests: restored afterwards so no later test (or a
    # subprocess it starts) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield PolicedBrowser(chromium)
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


_violations: list[str] = []


def _note_violation(message) -> None:
    if "Content Security Policy" in message.text:
        _violations.append(message.text)


class PolicedBrowser:
    """The browser, whose every context and page reports Content-Security-Policy violations
    (chromium prints each one to the console) to `_violations`."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.on("console", _note_violation)
        return context

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        page.on("console", _note_violation)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def no_csp_violation():
    """Every browser test also proves the pages it went through broke no rule of the policy:
    no inline script, event handler attribute or style attribute was refused."""
    _violations.clear()
    yield
    assert _violations == [], _violations


@pytest.fixture
def shots(request):
    """shots(page, "name") saves artifacts/browser/<test>/<nn>-<name>.png."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
