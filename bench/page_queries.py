"""The SQL behind one page: count, time, the slowest queries and the repeated ones (per-row queries).

The companion of bench/pages.py for finding out why a page is slow. It renders the page in this
process with Django's test client (logged in as --user, no password needed), records every query
with its time, and prints them slowest first; `--explain` adds PostgreSQL's EXPLAIN ANALYZE of the
slowest ones. Read-only apart from an API token row when the path starts with /api/.

    .venv/bin/python bench/page_queries.py /releases/203/ --database-url postgres://postgres@127.0.0.1:5432/sluice_bench
    .venv/bin/python bench/page_queries.py /apps/ --top 5 --explain 2
"""

import argparse
import os
import re
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--top", type=int, default=10, help="Slowest queries to print (default 10).")
    parser.add_argument("--explain", type=int, default=0, help="EXPLAIN ANALYZE this many of the slowest.")
    parser.add_argument("--repeat", type=int, default=3, help="Loads before the recorded one (warm caches).")
    parser.add_argument("--profile", type=int, default=0, help="Print this many functions of a cProfile run.")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        SLUICE_AUDIT_KEYS=os.environ.get("BENCH_AUDIT_KEYS") or secrets.token_urlsafe(32),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        LOG_LEVEL="ERROR",
    )
    for name in ("SLUICE_DEMO", "SLUICE_TESTING"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import warnings

    from django.conf import settings

    warnings.filterwarnings("ignore", message="No directory at")
    # Static URLs without collectstatic's manifest: this renders in-process, nothing is served.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    user = get_user_model().objects.get(username=args.user)
    headers = {}
    if args.path.startswith("/api/"):
        from releases.tokens import api_token_create

        headers["Authorization"] = f"Bearer {api_token_create(user=user, name='bench/page_queries.py')}"
    else:
        client.force_login(user)
    for _ in range(max(0, min(args.repeat, 20))):
        client.get(args.path, headers=headers)
    queries: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            queries.append((elapsed, _interpolate(context["cursor"], sql, params)))

    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        response = client.get(args.path, headers=headers)
        total = (time.perf_counter() - started) * 1000
    sql_ms = sum(t for t, _ in queries)
    print(
        f"{args.path}: HTTP {response.status_code}, {len(response.content) / 1024:.1f} KB, {total:.1f} ms, "
        f"{len(queries)} queries taking {sql_ms:.1f} ms (the rest, {total - sql_ms:.1f} ms, is Python)"
    )
    shapes = Counter(re.sub(r"\b\d+\b", "N", sql) for _, sql in queries)
    repeated = [(n, shape) for shape, n in shapes.items() if n > 1]
    for n, shape in sorted(repeated, reverse=True)[:5]:
        print(f"\nrepeated {n}x (a per-row query?): {shape[:400]}")
    slowest = sorted(queries, reverse=True)
    for ms, sql in slowest[: args.top]:
        print(f"\n{ms:8.2f} ms  {sql[:1200]}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, args.path, headers=headers)
        print("\nWhere the Python time goes (cumulative, this project's and Django's functions):")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(
            r"/(releases|reviews|web|templates)/|django/template", args.profile
        )
    for ms, sql in slowest[: args.explain]:
        print(f"\nEXPLAIN ANALYZE of the {ms:.2f} ms query:")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            for (line,) in cursor.fetchall():
                print("  " + line)
    return 0


def _interpolate(cursor, sql, params) -> str:
    """The statement as PostgreSQL received it (psycopg2's mogrify), to read and to EXPLAIN."""
    try:
        text = cursor.cursor.mogrify(sql, params) if params is not None else sql
        return text.decode() if isinstance(text, bytes) else text
    except Exception:  # noqa: BLE001 -- a statement we cannot render is still worth listing
        return f"{sql} -- params {params!r}"


if __name__ == "__main__":
    sys.exit(main())
