"""Load run (issue 11): simulated users on gunicorn + PostgreSQL at full scale, with the worker and a
stream of WeChat review decisions, then proof that nothing failed and nothing was lost.

    createdb -h 127.0.0.1 -U postgres sluice_bench_load      # once
    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/sluice_bench_load \
        --redis-url redis://127.0.0.1:6379/11

The first run migrates the database and fills it with `manage.py seed_scale` (2,000 apps, 200,000
releases, 2,000,000 audit events; some minutes); later runs reuse the data, and add to it the
releases they write. The audit chain is signed with the bench key (bench/server.py), so the trail
verifies from one run to the next. Options: --users 50, --minutes 3, --think 2,6 (seconds between
a user's clicks), --port 8240, --workers 2 (gunicorn), --decider-apps 2, --no-migrate.

What runs, all on 127.0.0.1 and stopped on exit, on an error and on Ctrl-C: gunicorn with production
settings (as bench/pages.py) and the simulator on, WECHAT_API_BASE at its own /sim; an RQ worker
(`rqworker default platform --with-scheduler`); bench/decider.py, which takes releases through
checks, approval, submission, the simulator's decision (approved, rejected, delayed) and the push
back, one after another; and the locust users of bench/load_users.py (locust as a library), started
over the first minute, each logged in through the real form as a demo user, mixing page views, API
reads and release writes (drafts created, their notes edited with the revision read).

Then it checks, and exits 1 if any fails: no request failed (anything but 2xx/3xx, except a 409
`stale_revision`/`concurrent_transition` on an edit, which is the expected answer to two people
editing at once); every release the users created is in the database and in the audit trail once
(`create`), with exactly as many `edit` events as edits answered 200, and no release of the run
that a user did not see created; the decider saw every decision (none lost) and met no error; no
worker job failed; nothing was logged as an error by gunicorn; `manage.py verify_audit` says the
chain holds. It prints p50/p95 per request kind as the users saw them (locust's percentiles, two
significant digits; they include the wait for a free gunicorn worker) and as gunicorn spent them
(its access log), totals, and the machine's load average.
"""

# isort: off
# locust first: importing it monkey-patches the standard library for gevent.
from locust import between
from locust.env import Environment

# isort: on
import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import gevent
import psycopg2
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.load_users import ACCOUNTS, USER_AGENT, Person, Plan, kind_of  # noqa: E402
from bench.server import (  # noqa: E402
    PYTHON,
    Process,
    gunicorn,
    is_local_postgres,
    manage,
    percentile,
    port_free,
    production_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench_load"
QUEUES = ("default", "platform")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--port", type=int, default=8240)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--decider-apps", type=int, default=2)
    parser.add_argument("--think", default="2,6", help="Seconds between two clicks: MIN,MAX (default 2,6).")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)
    try:
        args.think = tuple(float(n) for n in args.think.split(","))
        assert len(args.think) == 2 and 0 <= args.think[0] <= args.think[1]
    except (ValueError, AssertionError):
        parser.error("--think takes MIN,MAX seconds, e.g. 2,6")
    if not is_local_postgres(args.database_url):
        parser.error("the load run needs PostgreSQL on 127.0.0.1: give a local postgres:// --database-url")
    if not args.redis_url.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("the load run needs Redis on 127.0.0.1: give a local redis:// --redis-url")
    return args


def load_ids(database_url: str) -> tuple[list[int], list[int], tuple] | None:
    """Apps and a sample of releases of seed_scale's big team (the one the demo users are in), and
    the counts of apps, releases and events; None before seed_scale ran."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT a.id FROM releases_app a JOIN releases_team t ON t.id = a.team_id "
            "WHERE t.name = 'Scale Platform' AND a.appid NOT LIKE 'wxload%%' ORDER BY a.id"
        )
        apps = [row[0] for row in cursor.fetchall()]
        if len(apps) < 100:
            return None
        cursor.execute(
            "SELECT id FROM releases_release WHERE app_id = ANY(%s) ORDER BY random() LIMIT 1000", [apps]
        )
        releases = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT (SELECT count(*) FROM releases_app), (SELECT count(*) FROM releases_release), "
            "(SELECT count(*) FROM releases_auditevent)"
        )
        return apps, releases, cursor.fetchone()


def failed_jobs(redis_url: str) -> int:
    connection = Redis.from_url(redis_url)
    return sum(FailedJobRegistry(queue=Queue(name, connection=connection)).count for name in QUEUES)


def wait_for_queues(redis_url: str, seconds: float = 120) -> tuple[int, int]:
    """(jobs left: queued, running or due; jobs scheduled for later, e.g. review polls) once nothing
    is left or time is up. A job scheduled for later is a timer, not work left undone."""
    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + seconds
    while True:
        queues = [Queue(name, connection=connection) for name in QUEUES]
        due = sum(len(q.scheduled_job_registry.get_jobs_to_schedule(int(time.time()))) for q in queues)
        left = due + sum(q.count + q.started_job_registry.count for q in queues)
        if left == 0 or time.monotonic() > deadline:
            return left, sum(q.scheduled_job_registry.count for q in queues) - due
        time.sleep(1)


def audit_of_run(database_url: str) -> dict[int, tuple[int, int]]:
    """Every release of this run (by its version) with its `create` and `edit` audit events."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, count(e.id) FILTER (WHERE e.action = 'create'), "
            "count(e.id) FILTER (WHERE e.action = 'edit') "
            "FROM releases_release r LEFT JOIN releases_auditevent e ON e.release_id = r.id "
            "WHERE r.version LIKE %s GROUP BY r.id",
            [f"{Plan.run_major}.%"],
        )
        return {rid: (creates, edits) for rid, creates, edits in cursor.fetchall()}


def run(args) -> int:
    logs = tempfile.mkdtemp(prefix="sluice-load-logs-")  # kept: gunicorn's, the worker's, the decider's
    print(f"Logs in {logs}", flush=True)
    with tempfile.TemporaryDirectory(prefix="sluice-load-") as tmp:
        base = f"http://127.0.0.1:{args.port}"
        env = production_env(
            database_url=args.database_url,
            redis_url=args.redis_url,
            static_root=os.path.join(tmp, "static"),
            SIMULATOR="1",
            WECHAT_API_BASE=f"{base}/sim",
        )
        if not args.no_migrate:
            print("Applying pending migrations...", flush=True)
            manage(env, "migrate", "--noinput", "-v", "0")
        print("Collecting static files...", flush=True)
        manage(env, "collectstatic", "--noinput", "-v", "0")
        if load_ids(args.database_url) is None:
            print("No generated data in this database: seeding it (some minutes, once)...", flush=True)
            manage(env, "seed_scale")
        Plan.apps, Plan.releases, (apps, releases, events) = load_ids(args.database_url)
        print(f"Data: {apps:,} apps, {releases:,} releases, {events:,} audit events.")
        Plan.tokens = {
            u: manage(env, "api_token", u, "--name", "bench/load.py", capture=True).strip() for u in ACCOUNTS
        }
        if not port_free(args.port):
            print(f"Port {args.port} is taken; pass --port.", file=sys.stderr)
            return 2
        failed_before = failed_jobs(args.redis_url)
        processes: list[Process] = []
        try:
            access_log = os.path.join(logs, "access.log")
            web = gunicorn(
                env,
                port=args.port,
                workers=args.workers,
                log_path=os.path.join(logs, "gunicorn.log"),
                access_log=access_log,
            )
            processes.append(web)
            web.wait_http(base + "/login/")
            worker_command = [str(PYTHON), "manage.py", "rqworker", *QUEUES, "--with-scheduler"]
            processes.append(Process("worker", worker_command, env, os.path.join(logs, "worker.log")))
            report_path = os.path.join(logs, "decider.json")
            decider_command = [str(PYTHON), "bench/decider.py", "--base", base, "--report", report_path]
            decider_command += ["--apps", str(args.decider_apps)]
            decider = Process("decider", decider_command, env, os.path.join(logs, "decider.log"))
            processes.append(decider)
            wait_for_line(decider, "decider ready")
            found = {"load_before": os.getloadavg()}
            environment = swarm(args, base)
            print("Stopping the decider (it waits for its outstanding decisions)...", flush=True)
            decider.stop(grace=120)
            report_file = Path(report_path)
            found["decided"] = json.loads(report_file.read_text()) if report_file.exists() else None
            found["jobs_left"], found["jobs_later"] = wait_for_queues(args.redis_url)
            found["load_after"] = os.getloadavg()
        finally:
            for process in reversed(processes):
                process.stop()
        if found["decided"] is None:
            print(decider.log_tail(), file=sys.stderr)
        found["server_errors"] = [
            line for line in Path(web.log_path).read_text().splitlines() if " ERROR " in line
        ]
        found["server_times"] = server_times(access_log)
        found["jobs_failed"] = failed_jobs(args.redis_url) - failed_before
        print("Checking the audit trail...", flush=True)
        found["audited"] = audit_of_run(args.database_url)
        found["verify"] = verify_audit(env)
        return report(args, environment, found)


def wait_for_line(process: Process, text: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while text not in Path(process.log_path).read_text(errors="replace"):
        if not process.running() or time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} did not start:\n{process.log_tail()}")
        time.sleep(0.5)


def swarm(args, base: str) -> Environment:
    Person.host, Person.wait_time = base, between(*args.think)
    environment = Environment(user_classes=[Person], stop_timeout=60)
    runner = environment.create_local_runner()
    runner.start(args.users, spawn_rate=args.users / 60)  # people arrive over a minute
    seconds = args.minutes * 60
    print(f"{args.users} users for {seconds:.0f} s...", flush=True)

    def progress():
        while True:
            gevent.sleep(30)
            total = environment.stats.total
            print(
                f"  {total.num_requests} requests, {total.num_failures} failed, {total.current_rps:.1f}/s",
                flush=True,
            )

    ticker = gevent.spawn(progress)
    gevent.spawn_later(seconds, runner.quit)  # each user finishes its task first (stop_timeout)
    runner.greenlet.join()
    ticker.kill()
    return environment


def server_times(access_log: str) -> dict[str, list[float]]:
    """Milliseconds each request of the users spent in a gunicorn worker, by kind (no queueing)."""
    times = defaultdict(list)
    for line in Path(access_log).read_text(errors="replace").splitlines():
        method, path, _status, micros, agent = line.split(" ", 4)
        kind = kind_of(method, path) if agent.strip('"') == USER_AGENT else None
        if kind:
            times[kind].append(int(micros) / 1000)
    return times


def verify_audit(env: dict) -> tuple[bool, str]:
    try:
        return True, manage(env, "verify_audit", capture=True).strip()
    except Exception as exc:  # noqa: BLE001 -- the failure is the answer
        return False, str(exc)


def report(args, environment: Environment, found: dict) -> int:
    """Print the numbers, then every invariant that does not hold; 1 if any, else 0."""
    stats, server = environment.stats, found["server_times"]
    print()
    print(f"{'':24} {'':>8} {'':>6} {'as the users saw it':>23}   {'in gunicorn':>15}")
    print(
        f"{'request kind':24} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}   "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for entry in [*sorted(stats.entries.values(), key=lambda e: e.name), stats.total]:
        times = server.get(entry.name) or [t for kind_times in server.values() for t in kind_times]
        print(
            f"{entry.name if entry.name != 'Aggregated' else 'total':24} {entry.num_requests:8} "
            f"{entry.num_failures:6} {entry.get_response_time_percentile(0.5):7.0f} "
            f"{entry.get_response_time_percentile(0.95):7.0f} {entry.max_response_time:7.0f}   "
            f"{percentile(times, 0.5) if times else 0:7.0f} {percentile(times, 0.95) if times else 0:7.0f}"
        )
    total = stats.total
    seconds = max(1.0, (total.last_request_timestamp or 0) - (total.start_time or 0))
    print(
        f"{total.num_requests / seconds:.1f} requests/s over {seconds:.0f} s; {args.users} users, "
        f"{args.think[0]:g} to {args.think[1]:g} s between clicks, {args.workers} gunicorn workers; "
        "users' times include the wait for a free worker"
    )
    print(
        f"load average (1, 5, 15 min): {_loads(found['load_before'])} at the start, "
        f"{_loads(found['load_after'])} at the end, on {os.cpu_count()} CPUs"
    )
    for error in stats.errors.values():
        print(f"  failed {error.occurrences}x {error.method} {error.name}: {error.error}"[:300])

    problems = []
    if total.num_failures:
        problems.append(f"{total.num_failures} request(s) failed")
    for error in environment.runner.exceptions.values():
        problems.append(f"a user's task raised {error['count']}x: {error['msg']}"[:300])
    edits = sum(Plan.created.values())
    print(
        f"\nwrites: {len(Plan.created)} releases created, {edits} edits answered 200, conflicts "
        f"answered 409: {dict(Plan.conflicts) or 'none'}"
    )
    audited, decided = found["audited"], found["decided"]
    lost = [rid for rid in Plan.created if rid not in audited]
    unseen = [rid for rid in audited if rid not in Plan.created]
    wrong = [
        rid
        for rid, (creates, n) in audited.items()
        if rid in Plan.created and (creates, n) != (1, Plan.created[rid])
    ]
    audit_edits = sum(n for _, n in audited.values())
    print(
        f"audit trail: {len(audited)} releases of this run, {sum(c for c, _ in audited.values())} create "
        f"and {audit_edits} edit events; missing {len(lost)}, unexpected {len(unseen)}, "
        f"counts differing {len(wrong)}"
    )
    if lost or unseen or wrong:
        problems.append(
            f"writes vs audit trail: missing {lost[:5]}, unexpected {unseen[:5]}, differing {wrong[:5]}"
        )

    if decided is None:
        problems.append("the decider wrote no summary")
    else:
        seen = decided["seen_ms"]
        latency = (
            f"p50 {percentile(seen, 0.5):.0f} ms, p95 {percentile(seen, 0.95):.0f} ms, max {max(seen):.0f} ms"
            if seen
            else "none"
        )
        print(
            f"decider: {decided['releases']} releases started, {decided['published']} published, "
            f"{decided['cancelled']} cancelled after a rejection; decisions {decided['decisions']}; "
            f"decision seen through the API after {latency} (0.5 s polling included); "
            f"{decided['api_calls']} API calls"
        )
        if not sum(decided["decisions"].values()):
            problems.append("the decider made no decision")
        for kind in ("lost", "errors", "unfinished"):
            if decided[kind]:
                problems.append(f"decider {kind}: {decided[kind][:3]}")
    jobs_failed, jobs_left = found["jobs_failed"], found["jobs_left"]
    print(
        f"worker: {jobs_failed} job(s) failed, {jobs_left} left in the queues after the run "
        f"({found['jobs_later']} scheduled for later)"
    )
    if jobs_failed or jobs_left:
        problems.append(f"worker: {jobs_failed} failed job(s), {jobs_left} left")
    if found["server_errors"]:
        problems.append(f"gunicorn logged errors: {found['server_errors'][:3]}")
    verified, said = found["verify"]
    print(f"verify_audit: {said}")
    if not verified:
        problems.append("the audit chain does not verify")

    print()
    for problem in problems:
        print("FAIL:", problem)
    if not problems:
        print("OK: 0 errors, every write in the audit trail, every decision seen, the chain verifies.")
    return 1 if problems else 0


def _loads(values) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("Interrupted; everything started was stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
