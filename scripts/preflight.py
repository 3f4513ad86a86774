"""Before `make test`: are the PostgreSQL and Redis servers the suite needs reachable?

Checks the servers, not the database: pytest-django creates test_<name> itself, so the
database named in DATABASE_URL need not exist. Prints what is down, with the command
that starts it on a development machine, and exits non-zero.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import unquote, urlparse

import psycopg2
import redis

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def check_postgres(url: str) -> str | None:
    """None if the server answers, else why not."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        return f"DATABASE_URL must point at PostgreSQL for the tests, not {parsed.scheme!r}"
    params = {
        "host": unquote(parsed.hostname or "") or None,
        "port": parsed.port,
        "user": unquote(parsed.username or "") or None,
        "password": unquote(parsed.password or "") or None,
        "connect_timeout": 3,
    }
    named = parsed.path.lstrip("/") or "postgres"
    error = None
    # The maintenance database first, then the named one: either proves the server is up.
    for dbname in dict.fromkeys(["postgres", named]):
        try:
            psycopg2.connect(dbname=dbname, **params).close()
            return None
        except psycopg2.Error as exc:
            error = str(exc).strip()
    return error


def check_redis(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, ValueError) as exc:
        return str(exc).strip()
    return None


def safe(url: str) -> str:
    """The URL without its password, for printing."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


def main() -> int:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    down = []
    if error := check_postgres(database_url):
        down.append(("PostgreSQL", safe(database_url), error, START_POSTGRES))
    if error := check_redis(redis_url):
        down.append(("Redis", safe(redis_url), error, START_REDIS))
    for name, url, error, command in down:
        print(f"preflight: {name} is not reachable at {url}", file=sys.stderr)
        print("    " + error.replace("\n", "\n    "), file=sys.stderr)
        print(f"  start it with:\n    {command}\n", file=sys.stderr)
    if down:
        return 1
    print(f"preflight: PostgreSQL ({safe(database_url)}) and Redis ({safe(redis_url)}) are up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
