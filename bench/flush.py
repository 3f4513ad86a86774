"""Emptying every table between live-server tests: TRUNCATE (Django's flush) against DELETE in
replica role (tests/fixtures/flush.py), in the same run.

    .venv/bin/python bench/flush.py [--database-url postgres://postgres@127.0.0.1:5432/sluice_bench_flush]

pytest-django empties every table after each transactional test (about 300 of the suite's tests:
live servers, workers, second connections). This measures both ways on a database migrated like the
test database, with a few rows in a few tables as a test leaves them, alternating ABBA so drift hits
both. It drops and recreates the database (its name must contain "bench").
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sluice_bench_flush")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        sys.exit("bench/flush.py: the database name must contain 'bench' (it is dropped).")
    name = args.database_url.rsplit("/", 1)[-1]
    admin = args.database_url.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-qc", sql], check=True)  # noqa: S603, S607 -- our own names
    env = {**os.environ, "DATABASE_URL": args.database_url, "SLUICE_TESTING": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    os.environ.update(
        DATABASE_URL=args.database_url, SLUICE_TESTING="1", DJANGO_SETTINGS_MODULE="config.settings"
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management.color import no_style
    from django.db import connection
    from django.db.backends.postgresql.operations import DatabaseOperations

    from releases.models import Team
    from tests.fixtures import flush

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    ways = {
        "truncate": lambda: DatabaseOperations.sql_flush(connection.ops, no_style(), tables),
        "delete": lambda: flush.sql_flush(connection.ops, no_style(), tables),
    }
    times = {way: [] for way in ways}
    for i in range(args.rounds):
        for way in ("truncate", "delete") if i % 2 == 0 else ("delete", "truncate"):
            Team.objects.bulk_create([Team(name=f"team {i} {n}") for n in range(20)])  # what a test leaves
            statements = ways[way]()
            started = time.perf_counter()
            connection.ops.execute_sql_flush(statements)
            times[way].append(time.perf_counter() - started)
    print(f"{len(tables)} tables, {args.rounds} rounds each (ABBA)")
    for way, samples in times.items():
        print(
            f"{way:9s} median {statistics.median(samples) * 1000:8.1f} ms   p95 "
            f"{sorted(samples)[int(len(samples) * 0.95) - 1] * 1000:8.1f} ms"
        )
    ratio = statistics.median(times["truncate"]) / statistics.median(times["delete"])
    print(f"truncate / delete (medians): {ratio:.0f}x")


if __name__ == "__main__":
    main()
