"""Page timings at scale: every page against a trivial logged-in page, served by gunicorn on PostgreSQL.

Seed a database once (a few minutes), then run the benchmark as often as you like:

    createdb -h 127.0.0.1 -U postgres sluice_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sluice_bench SLUICE_DEMO=1 \\
        .venv/bin/python manage.py migrate && \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sluice_bench SLUICE_DEMO=1 \\
        .venv/bin/python manage.py seed_scale          # 2,000 apps, 200,000 releases, 2,000,000 events
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/sluice_bench

Options: --rounds 50, --warmup 3, --port 8239, --workers 2, --user manager, --only NAME, --no-migrate,
--write-every SECONDS (a realistic write load: while the pages are measured, a colleague, --writer
dev, edits a draft release of the big team through the API every SECONDS, as a busy team does);
the database defaults to $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/sluice_bench.

What it does: applies pending migrations to the bench database (--no-migrate to skip), collects the
static files into a temporary STATIC_ROOT, starts `gunicorn config.wsgi -w 2` on 127.0.0.1 with
production settings (bench/server.py: DEBUG off, the bench keys, no SSL redirect or secure cookies
since it speaks plain HTTP), logs in through the real login form (CSRF, session cookie), asks for an API
token for the API pages, warms every page up, then loads the pages in turn, `--rounds` times, one
request at a time, and prints p50 and p95 per page with their ratio to the trivial page (/ping/)
measured in the same run. The target is every ratio at most 3. A page answering 404 is skipped
with a note (it does not exist yet). gunicorn is stopped on exit, on an error and on Ctrl-C.

With --write-every, a second client (its own API token) PATCHes the release notes of one of
the big team's drafts (never a measured page's release) every SECONDS for the whole run, warm-up
included; each write is a real edit (a new revision and its audit event), so whatever the
pages show or keep about the team changes as it would in a busy team. The writes' own p50 and
p95 are printed after the table. The writes change the bench database: re-seed (or restore a
copy) when you need the untouched data.

Pages are the PAGES list below: (name, path); a path may use {app}, {release_rejected},
{release_published} and {release_submitted}, ids picked from the database (an app of the demo
users' big team whose newest release is rejected, and releases of it). Only 127.0.0.1 is contacted.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.server import (  # noqa: E402
    Process,
    gunicorn,
    is_local_postgres,
    main_until_interrupted,
    manage,
    percentile,
    port_free,
    production_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench"
BASELINE = ("trivial page", "/ping/")
TARGET_RATIO = 3.0

# (name, path): add a page here. "/" is the overview (the app list before it moved to /apps/);
# every page is measured, one answering 404 is skipped with a note.
PAGES = [
    BASELINE,
    ("dashboard", "/"),
    ("app list", "/apps/"),
    ("app page", "/apps/{app}/"),
    ("release page (rejected)", "/releases/{release_rejected}/"),
    ("release page (published)", "/releases/{release_published}/"),
    ("release list", "/releases/"),
    ("release list, filtered", "/releases/?state=submitted"),
    ("analytics", "/analytics/"),
    ("audit trail", "/audit/"),
    ("audit trail, one app", "/audit/?app={app}"),
    ("playbooks", "/playbooks/"),
    ("API: releases of an app", "/api/v1/apps/{app}/releases"),
    ("API: one release", "/api/v1/releases/{release_rejected}"),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        help=f"PostgreSQL on 127.0.0.1 (default: $DATABASE_URL, else {DEFAULT_DATABASE_URL}).",
    )
    parser.add_argument("--rounds", type=int, default=50, help="Timed loads of each page (default 50).")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed loads of each page first (default 3).")
    parser.add_argument("--port", type=int, default=8239)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="sluice-demo")
    parser.add_argument("--no-migrate", action="store_true", help="Do not apply pending migrations first.")
    parser.add_argument("--only", default="", help="Measure only pages whose name contains this text.")
    parser.add_argument(
        "--write-every",
        type=float,
        default=0,
        metavar="SECONDS",
        help="While measuring, edit a draft release of the big team through the API this often (0: never).",
    )
    parser.add_argument("--writer", default="dev", help="Who edits (a developer of the big team).")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 10_000 or not 0 <= args.warmup <= 100:
        parser.error("--rounds must be 1..10000 and --warmup 0..100")
    if args.write_every and not 0.1 <= args.write_every <= 3_600:
        parser.error("--write-every must be 0 (off) or 0.1..3600 seconds")
    if not is_local_postgres(args.database_url):
        parser.error("the benchmark runs on PostgreSQL on 127.0.0.1: give a local postgres:// DATABASE_URL")
    return args


def pick_ids(database_url: str) -> dict:
    """An app of the big team (the one the demo users belong to) whose newest release is rejected."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id FROM releases_app a
            JOIN releases_team t ON t.id = a.team_id AND t.name = 'Scale Platform'
            JOIN LATERAL (SELECT state FROM releases_release r WHERE r.app_id = a.id
                          ORDER BY created_at DESC, id DESC LIMIT 1) newest ON newest.state = 'rejected'
            ORDER BY a.id LIMIT 1
            """
        )
        row = cursor.fetchone()
        if row is None:
            sys.exit("No generated data in this database: run `manage.py seed_scale` on it first.")
        app = row[0]
        ids = {"app": app}
        for name, state in (
            ("release_rejected", "rejected"),
            ("release_published", "published"),
            ("release_submitted", "submitted"),
        ):
            cursor.execute(
                "SELECT id FROM releases_release WHERE state = %s ORDER BY app_id = %s DESC, created_at DESC "
                "LIMIT 1",
                [state, app],
            )
            found = cursor.fetchone()
            ids[name] = found[0] if found else 0
        cursor.execute(
            """
            SELECT r.id FROM releases_release r
            JOIN releases_app a ON a.id = r.app_id
            JOIN releases_team t ON t.id = a.team_id AND t.name = 'Scale Platform'
            WHERE r.state = 'draft' AND r.app_id <> %s ORDER BY r.id DESC LIMIT 20
            """,
            [app],
        )
        ids["drafts"] = [found for (found,) in cursor.fetchall()]
        cursor.execute(
            "SELECT (SELECT count(*) FROM releases_app), (SELECT count(*) FROM releases_release), "
            "(SELECT count(*) FROM releases_auditevent)"
        )
        ids["counts"] = cursor.fetchone()
    return ids


def login(client: httpx.Client, user: str, password: str) -> None:
    page = client.get("/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or match is None:
        raise RuntimeError(f"GET /login/ answered {page.status_code} without a CSRF token")
    answer = client.post(
        "/login/",
        data={"username": user, "password": password, "csrfmiddlewaretoken": match.group(1)},
        headers={"Referer": str(client.base_url) + "/login/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(
            f"Logging in as {user} failed ({answer.status_code}): wrong password or no such user"
        )


class Writer(threading.Thread):
    """The write load: every `every` seconds, PATCH the release notes of the next draft of the
    big team through the API (a real edit: new revision, audit event), until stopped."""

    def __init__(self, base: str, token: str, drafts: list[int], every: float):
        super().__init__(name="bench-writer", daemon=True)
        self.base, self.token, self.drafts, self.every = base, token, drafts, every
        self.times: list[float] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, timeout=120, headers=headers) as client:
            n, revisions = 0, {}
            while not self.stopping.wait(self.every if n else 0):
                release = self.drafts[n % len(self.drafts)]
                notes = f"bench/pages.py write {n} at {time.time():.3f}"
                try:
                    if release not in revisions:  # an edit names the revision it is based on
                        revisions[release] = client.get(f"/api/v1/releases/{release}").json()["revision"]
                    started = time.perf_counter()
                    body = {"release_notes": notes, "revision": revisions[release]}
                    answer = client.patch(f"/api/v1/releases/{release}", json=body)
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    self.failures.append(f"PATCH release {release}: {exc!r}")
                else:
                    self.times.append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200:
                        self.failures.append(f"PATCH release {release} answered {answer.status_code}")
                        revisions.pop(release, None)
                    else:
                        revisions[release] = answer.json()["revision"]
                n += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=130)


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else ""


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
        env = production_env(
            database_url=args.database_url,
            redis_url=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            static_root=os.path.join(tmp, "static"),
            SIMULATOR="0",
            LOG_LEVEL="ERROR",
        )
        if not args.no_migrate:
            print("Applying pending migrations to the bench database...", flush=True)
            manage(env, "migrate", "--noinput", "-v", "0")
        print("Collecting static files...", flush=True)
        manage(env, "collectstatic", "--noinput", "-v", "0")
        token = manage(env, "api_token", args.user, "--name", "bench/pages.py", capture=True).strip()
        writer_token = ""
        if args.write_every:
            writer_token = manage(
                env, "api_token", args.writer, "--name", "bench/pages.py writer", capture=True
            ).strip()
        ids = pick_ids(args.database_url)
        apps, releases, events = ids.pop("counts")
        drafts = ids.pop("drafts")
        print(f"Data: {apps:,} apps, {releases:,} releases, {events:,} audit events; page ids {ids}")
        if args.write_every and not drafts:
            print("No draft of the big team outside the measured app to edit.", file=sys.stderr)
            return 2
        if not port_free(args.port):
            print(f"Port {args.port} is taken; pass --port.", file=sys.stderr)
            return 2
        base = f"http://127.0.0.1:{args.port}"
        server = gunicorn(
            env, port=args.port, workers=args.workers, log_path=os.path.join(tmp, "gunicorn.log")
        )
        writer = None
        try:
            server.wait_http(base + "/login/", seconds=60)
            if args.write_every:
                writer = Writer(base, writer_token, drafts, args.write_every)
                writer.start()
            return measure(args, server, base, token, ids, writer)
        finally:
            if writer is not None:
                writer.stop()
            server.stop()


def measure(args, server: Process, base: str, token: str, ids: dict, writer: Writer | None = None) -> int:
    pages = [(name, path.format(**ids)) for name, path in PAGES]
    if args.only:
        pages = [p for p in pages if p == BASELINE or args.only.lower() in p[0].lower()]
    with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as client:
        login(client, args.user, args.password)
        api_headers = {"Authorization": f"Bearer {token}"}

        def get(path: str) -> httpx.Response:
            return client.get(path, headers=api_headers if path.startswith("/api/") else None)

        notes, measured, titles = [], [], {}
        for name, path in pages:
            answer = get(path)
            if answer.status_code == 404:
                notes.append(f"skipped {name} ({path}): 404, not there (yet)")
                continue
            if answer.status_code != 200:
                notes.append(f"skipped {name} ({path}): answered {answer.status_code}")
                if answer.status_code >= 500:
                    notes.append(server.log_tail())
                continue
            titles[path] = (
                title_of(answer.text) if "html" in answer.headers.get("content-type", "") else "JSON"
            )
            measured.append((name, path))
        if BASELINE not in measured:
            print(
                "The trivial page /ping/ is missing: it is the baseline (releases/ping.py).", file=sys.stderr
            )
            return 2
        for _ in range(args.warmup):
            for _name, path in measured:
                get(path)
        times: dict[str, list[float]] = {path: [] for _, path in measured}
        sizes: dict[str, int] = {}
        print(f"Measuring {len(measured)} pages x {args.rounds} rounds, one request at a time...", flush=True)
        for _ in range(args.rounds):  # interleaved, so a slow moment of the machine hits every page alike
            for _name, path in measured:
                started = time.perf_counter()
                answer = get(path)
                times[path].append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    notes.append(f"{path} answered {answer.status_code} during the run")
                sizes[path] = len(answer.content)
    if writer is not None:
        writer.stop()
        notes += writer.failures[:10]
    report(args, measured, times, sizes, titles, notes, writer)
    return 0


def report(args, measured, times, sizes, titles, notes, writer: Writer | None = None) -> None:
    base50 = statistics.median(times[BASELINE[1]])
    base95 = percentile(times[BASELINE[1]], 0.95)
    print()
    print(f"{'page':28} {'path':34} {'p50 ms':>8} {'p95 ms':>8} {'x p50':>6} {'x p95':>6}  {'KB':>6}  title")
    over = []
    for name, path in measured:
        p50, p95 = statistics.median(times[path]), percentile(times[path], 0.95)
        r50, r95 = p50 / base50, p95 / base95
        flag = "  OVER" if max(r50, r95) > TARGET_RATIO else ""
        if flag:
            over.append(name)
        print(
            f"{name[:28]:28} {path[:34]:34} {p50:8.1f} {p95:8.1f} {r50:6.2f} {r95:6.2f}  "
            f"{sizes[path] / 1024:6.1f}  {titles.get(path, '')[:40]}{flag}"
        )
    print()
    print(
        f"{args.rounds} rounds, {args.workers} gunicorn workers, user {args.user}; ratios to {BASELINE[1]}."
    )
    if writer is not None:
        if writer.times:
            print(
                f"Write load: {args.writer} edited a draft of the big team every {args.write_every:g} s, "
                f"{len(writer.times)} edits (PATCH p50 {statistics.median(writer.times):.1f} ms, "
                f"p95 {percentile(writer.times, 0.95):.1f} ms), {len(writer.failures)} failed."
            )
        else:
            print(f"Write load: no edit completed ({len(writer.failures)} failed).")
    if over:
        print(f"Over {TARGET_RATIO:g}x the trivial page: {', '.join(over)}.")
    else:
        print(f"Every page within {TARGET_RATIO:g}x the trivial page.")
    for note in notes:
        print("note:", note)


def main() -> int:
    return main_until_interrupted(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())
