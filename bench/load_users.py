"""The simulated people of bench/load.py (locust users) and what they share.

Each logs in through the real form as a demo user (dev, manager, admin in turn) and holds that
user's API token; then, between clicks, views a page (5 in 10), reads the API (3 in 10) or writes
(2 in 10): creates a draft in one of the big team's apps, or edits the notes of a draft created in
this run (mostly its own, sometimes the run's first, which all edit) with the revision it just
read. Every write answered 2xx is written down in Plan.created, for bench/load.py to find in the
audit trail.
"""

import itertools
import random
import re
import time
from collections import Counter

from locust import HttpUser, between, task

ACCOUNTS = ("dev", "manager", "admin")  # seed_demo's users with write access, in turn
PASSWORD = "sluice-demo"  # noqa: S105 -- seed_demo's documented demo password
PAGES = [
    ("page: dashboard", "/"),
    ("page: app", "/apps/{app}/"),
    ("page: release", "/releases/{release}/"),
    ("page: release list", "/releases/"),
    ("page: audit trail", "/audit/"),
]
READS = [("api: release", "/api/v1/releases/{release}"), ("api: app releases", "/api/v1/apps/{app}/releases")]
USER_AGENT = "sluice-load-user"
EXPECTED_CONFLICTS = {"stale_revision", "concurrent_transition"}


class Plan:
    """What the users share: accounts, ids to visit, and the ledger of writes answered 2xx."""

    tokens: dict[str, str] = {}
    apps: list[int] = []
    releases: list[int] = []
    run_major = int(time.time())  # every version written by this run is <run_major>.<user>.<n>
    created: dict[int, int] = {}  # release id -> edits answered 200
    conflicts: Counter = Counter()
    numbers = itertools.count()


class Person(HttpUser):
    """One person at work: logs in through the form, then views pages, reads the API and writes.

    The time between two clicks (`wait_time`) is set by bench/load.py (--think)."""

    wait_time = between(2, 6)

    def on_start(self):
        self.client.headers["User-Agent"] = USER_AGENT  # to tell its requests in gunicorn's access log
        self.number = next(Plan.numbers)
        self.username = ACCOUNTS[self.number % len(ACCOUNTS)]
        self.api_headers = {"Authorization": f"Bearer {Plan.tokens[self.username]}"}
        self.mine: list[int] = []
        self.writes = itertools.count(1)
        page = self.call("login form", "GET", "/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        form = {"username": self.username, "password": PASSWORD}
        form["csrfmiddlewaretoken"] = match.group(1) if match else ""
        answer = self.call("login", "POST", "/login/", data=form, headers={"Referer": self.host + "/login/"})
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not log in ({answer.status_code})")

    def call(self, kind: str, method: str, path: str, conflict_ok: bool = False, **kwargs):
        if path.startswith("/api/"):
            kwargs["headers"] = {**kwargs.get("headers", {}), **self.api_headers}
        with self.client.request(
            method, path, name=kind, catch_response=True, allow_redirects=False, timeout=120, **kwargs
        ) as answer:
            code = _error_code(answer) if answer.status_code == 409 else ""
            if 200 <= answer.status_code < 400:
                answer.success()
            elif conflict_ok and code in EXPECTED_CONFLICTS:
                Plan.conflicts[code] += 1
                answer.success()
            else:
                answer.failure(f"{answer.status_code} {answer.text[:200]}")
            return answer

    def _ids(self) -> dict:
        release = (
            random.choice(self.mine) if self.mine and random.random() < 0.3 else random.choice(Plan.releases)
        )
        return {"app": random.choice(Plan.apps), "release": release}

    @task(5)
    def view_page(self):
        kind, path = random.choice(PAGES)
        self.call(kind, "GET", path.format(**self._ids()))

    @task(3)
    def read_api(self):
        kind, path = random.choice(READS)
        self.call(kind, "GET", path.format(**self._ids()))

    @task(2)
    def write(self):
        if not self.mine or random.random() < 0.5:
            self.create()
        else:
            # Mostly one's own latest draft; one edit in four goes to the run's first draft, which
            # everybody edits, so that edits collide (409 stale_revision) and the loser's is not kept.
            self.edit(next(iter(Plan.created)) if random.random() < 0.25 else self.mine[-1])

    def create(self):
        version = f"{Plan.run_major}.{self.number}.{next(self.writes)}"
        body = {"version": version, "release_notes": "Load run draft.", "review_notes": "See the home page."}
        answer = self.call(
            "api: create release", "POST", f"/api/v1/apps/{random.choice(Plan.apps)}/releases", json=body
        )
        if answer.status_code == 201:
            rid = answer.json()["id"]
            Plan.created[rid] = 0
            self.mine.append(rid)

    def edit(self, rid: int):
        read = self.call("api: release", "GET", f"/api/v1/releases/{rid}")
        if read.status_code != 200:
            return
        body = {
            "release_notes": f"Edited by {self.username} (user {self.number}, write {next(self.writes)})."
        }
        body["revision"] = read.json()["revision"]
        answer = self.call(
            "api: edit release", "PATCH", f"/api/v1/releases/{rid}", conflict_ok=True, json=body
        )
        if answer.status_code == 200:
            Plan.created[rid] += 1


def _error_code(answer) -> str:
    try:
        return answer.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


# Each request kind as gunicorn's access log shows it: (kind, method, path pattern).
KINDS = [
    ("login form", "GET", r"/login/"),
    ("login", "POST", r"/login/"),
    ("page: dashboard", "GET", r"/"),
    ("page: app", "GET", r"/apps/\d+/"),
    ("page: release", "GET", r"/releases/\d+/"),
    ("page: release list", "GET", r"/releases/"),
    ("page: audit trail", "GET", r"/audit/"),
    ("api: release", "GET", r"/api/v1/releases/\d+"),
    ("api: app releases", "GET", r"/api/v1/apps/\d+/releases"),
    ("api: create release", "POST", r"/api/v1/apps/\d+/releases"),
    ("api: edit release", "PATCH", r"/api/v1/releases/\d+"),
]


def kind_of(method: str, path: str) -> str | None:
    for kind, kind_method, pattern in KINDS:
        if method == kind_method and re.fullmatch(pattern, path):
            return kind
    return None
