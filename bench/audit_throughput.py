"""Audited-write throughput at scale: release creations per second through the API, with the keyed,
chained audit trail and, in the same run, with the audit row written without the chain (issue 11).

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/audit_throughput.py

Every release creation writes one audit event in its transaction; with the chain, the event's link
and HMAC are computed and the one-row chain head updated under its row lock, so every audited write
of the whole installation passes through that lock one at a time. The variant ("unchained") runs
the same request but writes the audit row with a plain hash of its own content: no key, no link, no
lock, no head; what the same load costs when the chain is not there. The target is the chained trail
costing at most 20% of the variant's throughput.

What it does, all on 127.0.0.1:
1. The seeded database (--database-url, default postgres://postgres@127.0.0.1:5432/sluice_bench_audit)
   is created if missing, migrated, and filled by `manage.py seed_scale` at full size (2,000 apps,
   200,000 releases, 2,000,000 audit events; a few minutes) unless it already holds that data.
2. Each run works on a copy of it (`CREATE DATABASE ... TEMPLATE`, name + "_run", dropped at the end
   unless --keep-copy), so the variant's unchained rows never reach the seeded database, whose trail
   stays verifiable, and every run starts from the same data.
3. `gunicorn -w 2` (sync workers, production settings) serves `bench_app` below: the app as shipped
   (config.wsgi), except that a request carrying `X-Bench-Audit: unchained` writes its audit row
   the variant's way (releases.audit._chain_and_save replaced for that request, in the gunicorn
   workers only; the application has no such switch).
4. --clients threads each POST /api/v1/apps/{app}/releases in a loop (one app per client, of the demo
   users' big team, as the developer `dev` with an API token). All of them switch variant together
   every --window seconds (chained, unchained, unchained, chained, ...), so the machine's ups and
   downs (other processes on a shared machine) hit both alike; after --warmup seconds, --seconds are
   timed, half for each variant.
5. Prints creations per second per variant (each request counted for the variant it asked for),
   latency p50/p95, the same per half of the run (a check that they agree), and what the chain costs;
   then how long the chained writes waited for the chain head's lock and held it until their commit
   (measured in the workers, sent back in a response header): one over the hold time is the most
   audited writes per second the chain lets through, however many workers.

Options: --seconds 120, --window 3, --warmup 10, --clients 8, --workers 2, --port 8241, --keep-copy.
The audit key is BENCH_AUDIT_KEYS or a fixed bench-only key, so the seeded database verifies
(`manage.py verify_audit` with that key) from one run to the next.
"""

import argparse
import functools
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.server import (  # noqa: E402
    Process,
    gunicorn,
    is_local_postgres,
    main_until_interrupted,
    manage,
    port_free,
    production_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench_audit"
TARGET_COST = 0.20
VARIANTS = ("chained", "unchained")
SCHEDULE = ("chained", "unchained", "unchained", "chained")  # ABBA: a steady drift favours neither
HEADER = "X-Bench-Audit"
BIG_TEAM = "Scale Platform"
USER = "dev"


# -- the variant, imported by the gunicorn workers ------------------------------------------------

_request = threading.local()


@functools.cache
def _application():
    from django.db.backends.base.base import BaseDatabaseWrapper

    from config.wsgi import application
    from releases import audit

    chained, lock_head, commit = audit._chain_and_save, audit._lock_head, BaseDatabaseWrapper._commit

    def save_unchained(event):
        """The same row, with a plain hash of its own content: no key, no link, no lock, no head."""
        event.prev_hash = ""
        event.hash = audit.event_hash(event, secrets.token_hex(8))
        event.save()

    def timed_lock_head():
        head = lock_head()
        _request.locked = time.perf_counter()  # the row lock is held from here to the commit
        return head

    def chain_and_save(event):
        if getattr(_request, "unchained", False):
            return save_unchained(event)
        asked = time.perf_counter()
        chained(event)
        _request.pending.append((asked, _request.locked))

    def timed_commit(self):
        """The commit releases the chain head's lock: how long each write waited for it, and held it."""
        result = commit(self)
        done = time.perf_counter()
        _request.chain += [(asked, locked, done) for asked, locked in getattr(_request, "pending", ())]
        _request.pending = []
        return result

    audit._chain_and_save, audit._lock_head = chain_and_save, timed_lock_head
    BaseDatabaseWrapper._commit = timed_commit
    return application


def bench_app(environ, start_response):
    """WSGI entry point (gunicorn bench.audit_throughput:bench_app): config.wsgi, plus the variant;
    a chained request's answer says how long it waited for the chain lock and held it (ms)."""
    _request.unchained = environ.get("HTTP_X_BENCH_AUDIT") == "unchained"
    _request.chain, _request.pending = [], []

    def start(status, headers, exc_info=None):
        waits = ",".join(
            f"{(locked - asked) * 1000:.3f}/{(done - locked) * 1000:.3f}"
            for asked, locked, done in _request.chain
        )
        return start_response(status, [*headers, ("X-Bench-Chain-Lock", waits)], exc_info)

    return _application()(environ, start)


# -- setup ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seconds", type=float, default=120, help="Timed seconds (half per variant).")
    parser.add_argument("--window", type=float, default=3, help="Seconds before the clients switch variant.")
    parser.add_argument("--warmup", type=float, default=10, help="Untimed seconds of load first.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8241)
    parser.add_argument("--keep-copy", action="store_true", help="Keep the run's copy of the database.")
    args = parser.parse_args(argv)
    if not is_local_postgres(args.database_url):
        parser.error("the benchmark runs on PostgreSQL on 127.0.0.1: give a local postgres:// URL")
    if not (1 <= args.clients <= 64 and args.seconds >= 2 * len(SCHEDULE) * args.window > 0):
        parser.error("--clients 1..64, and --seconds at least 8 windows")
    return args


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def admin_sql(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE, from the server's maintenance database (outside a transaction)."""
    conn = psycopg2.connect(with_database(url, "postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def database_exists(url: str) -> bool:
    conn = psycopg2.connect(with_database(url, "postgres"))
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def query(url: str, sql: str, params=()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        conn.close()


def server_env(database_url: str, static_root: str) -> dict:
    return production_env(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        static_root=static_root,
        SIMULATOR="0",
        LOG_LEVEL="ERROR",
    )


def prepare_seeded(args, env: dict) -> None:
    env = {**env, "SIMULATOR": "1"}  # seed_scale is a development command (the bench app)
    if not database_exists(args.database_url):
        print(f"Creating {database_name(args.database_url)}...", flush=True)
        admin_sql(args.database_url, f'CREATE DATABASE "{database_name(args.database_url)}"')
    print("Applying pending migrations to the seeded database...", flush=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    if not query(args.database_url, "SELECT 1 FROM releases_team WHERE name = %s", [BIG_TEAM]):
        print("Seeding it at full scale (manage.py seed_scale, a few minutes)...", flush=True)
        manage(env, "seed_scale")


def copy_database(args) -> str:
    copy = database_name(args.database_url) + "_run"
    admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{copy}"')
    started = time.monotonic()
    admin_sql(
        args.database_url,
        f'CREATE DATABASE "{copy}" TEMPLATE "{database_name(args.database_url)}" STRATEGY FILE_COPY',
    )
    print(f"Copied it to {copy} in {time.monotonic() - started:.0f} s.", flush=True)
    return with_database(args.database_url, copy)


def pick_apps(url: str, count: int) -> list[int]:
    rows = query(
        url,
        "SELECT a.id FROM releases_app a JOIN releases_team t ON t.id = a.team_id WHERE t.name = %s "
        "ORDER BY a.id LIMIT %s",
        [BIG_TEAM, count],
    )
    if len(rows) < count:
        sys.exit(f"Only {len(rows)} apps in {BIG_TEAM}; seed the database first.")
    return [row[0] for row in rows]


# -- serving and load ----------------------------------------------------------------------------------


class Load:
    """--clients threads creating releases as fast as they are answered, all switching variant at the
    same moments; each result is kept with the variant it asked for and when it finished."""

    def __init__(self, base: str, token: str, apps: list[int], window: float):
        self.base, self.token, self.apps, self.window = base, token, apps, window
        self.stop = threading.Event()
        self.results: list[tuple[str, float, float, int]] = []  # (variant, finished, seconds, status)
        self.locks: list[tuple[float, float, float]] = []  # (finished, waited ms, held ms) per chained write
        self.lock = threading.Lock()
        self.origin = time.perf_counter()

    def variant(self, moment: float) -> str:
        return SCHEDULE[int((moment - self.origin) / self.window) % len(SCHEDULE)]

    def client(self, index: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        path = f"/api/v1/apps/{self.apps[index]}/releases"
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as http:
            number = 0
            while not self.stop.is_set():
                number += 1
                started = time.perf_counter()
                variant = self.variant(started)
                body = {"version": f"9000.{index}.{number}", "release_notes": "Throughput bench."}
                answer = http.post(path, json=body, headers={HEADER: variant})
                finished = time.perf_counter()
                with self.lock:
                    self.results.append((variant, finished, finished - started, answer.status_code))
                    for pair in filter(None, answer.headers.get("X-Bench-Chain-Lock", "").split(",")):
                        self.locks.append((finished, *map(float, pair.split("/"))))

    def run(self, warmup: float, seconds: float) -> dict:
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(len(self.apps))]
        for thread in threads:
            thread.start()
        # the timed part starts and ends on a window boundary, after the warm-up, with whole ABBA cycles
        cycle = self.window * len(SCHEDULE)
        start = self.origin + cycle * -(-warmup // cycle)
        end = start + cycle * max(1, round(seconds / cycle))
        time.sleep(max(0.0, end - time.perf_counter()))
        self.stop.set()
        for thread in threads:
            thread.join()
        middle = (start + end) / 2
        locks = [lock for lock in self.locks if start <= lock[0] < end]
        return {
            "all": summarise(self.results, start, end),
            "first half": summarise(self.results, start, middle),
            "second half": summarise(self.results, middle, end),
            "lock": {"waited": sorted(lock[1] for lock in locks), "held": sorted(lock[2] for lock in locks)},
        }


def summarise(results: list, start: float, end: float) -> dict:
    """Per variant: creations per second of its own time (half of start..end), latency, errors."""
    out = {}
    for variant in VARIANTS:
        timed = [r for r in results if r[0] == variant and start <= r[1] < end]
        created = sorted(r[2] * 1000 for r in timed if r[3] == 201)
        out[variant] = {
            "rate": len(created) / ((end - start) / 2),
            "p50": statistics.median(created) if created else 0.0,
            "p95": created[int(0.95 * (len(created) - 1))] if created else 0.0,
            "errors": sum(1 for r in timed if r[3] != 201),
            "statuses": sorted({r[3] for r in timed if r[3] != 201}),
        }
    return out


def run(args) -> int:
    if not port_free(args.port):
        print(f"Port {args.port} is taken; pass --port.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
        static_root = os.path.join(tmp, "static")
        prepare_seeded(args, server_env(args.database_url, static_root))
        copy_url = copy_database(args)
        try:
            return measure(args, server_env(copy_url, static_root), copy_url, tmp)
        finally:
            if not args.keep_copy:
                admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{database_name(copy_url)}"')


def measure(args, env: dict, url: str, tmp: str) -> int:
    manage(env, "collectstatic", "--noinput", "-v", "0")
    token = manage(env, "api_token", USER, "--name", "bench/audit_throughput.py", capture=True).strip()
    apps = pick_apps(url, args.clients)
    apps_n, releases_n, events_n = query(
        url,
        "SELECT (SELECT count(*) FROM releases_app), (SELECT count(*) FROM releases_release), "
        "(SELECT count FROM releases_auditchainhead WHERE id = 1)",
    )[0]
    print(f"Data: {apps_n:,} apps, {releases_n:,} releases, {events_n:,} audit events.")
    print(
        f"{args.clients} clients, gunicorn -w {args.workers}, {args.seconds:g} s timed after "
        f"{args.warmup:g} s "
        f"of warm-up, switching variant every {args.window:g} s.",
        flush=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    server: Process = gunicorn(
        env,
        port=args.port,
        workers=args.workers,
        log_path=os.path.join(tmp, "gunicorn.log"),
        app="bench.audit_throughput:bench_app",
    )
    try:
        server.wait_http(base + "/login/", seconds=60)
        outcome = Load(base, token, apps, args.window).run(args.warmup, args.seconds)
    finally:
        server.stop()
    return report(outcome)


def report(outcome: dict) -> int:
    print()
    lock = outcome.pop("lock")
    print(f"{'':12} {'variant':10} {'creations/s':>12} {'p50 ms':>8} {'p95 ms':>8}")
    for part, by_variant in outcome.items():
        for name in VARIANTS:
            row = by_variant[name]
            errors = f"  {row['errors']} errors {row['statuses']}" if row["errors"] else ""
            print(f"{part:12} {name:10} {row['rate']:12.1f} {row['p50']:8.1f} {row['p95']:8.1f}{errors}")
    chained, unchained = (outcome["all"][name]["rate"] for name in VARIANTS)
    cost = 1 - chained / unchained if unchained else 0.0
    verdict = "within" if cost <= TARGET_COST else "OVER"
    print()
    print(
        f"The keyed, chained trail costs {cost:.1%} of the throughput "
        f"({chained:.1f} against {unchained:.1f} creations/s; {verdict} the {TARGET_COST:.0%} target)."
    )
    if lock["held"]:
        held, waited = lock["held"], lock["waited"]
        print(
            f"The chain head's lock, per chained write: waited p50 {statistics.median(waited):.2f} ms, "
            f"p95 {waited[int(0.95 * (len(waited) - 1))]:.2f} ms; held until commit p50 "
            f"{statistics.median(held):.2f} ms, p95 {held[int(0.95 * (len(held) - 1))]:.2f} ms: "
            f"at most about {1000 / statistics.median(held):.0f} audited writes/s pass through it."
        )
    return 0 if cost <= TARGET_COST else 1


def main() -> int:
    return main_until_interrupted(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())
