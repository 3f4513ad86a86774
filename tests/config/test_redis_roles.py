"""The queues' Redis never evicts; what may be lost and recomputed (pages, analytics, WeChat tokens,
failed-token counters) lives in CACHE_URL, a Redis that may (issue 11)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from releases.system_checks import check_queue_redis_never_evicts

ROOT = Path(__file__).resolve().parents[2]


def _services(compose: str) -> dict[str, str]:
    """{service name: its block of lines} of the compose file's `services:` section."""
    section = compose.split("\nservices:\n", 1)[1].split("\nvolumes:", 1)[0]
    return dict(re.findall(r"^  ([\w-]+):\n((?:(?:    .*)?\n)+)", section + "\n", re.M))


def test_compose_runs_the_queues_on_a_redis_that_never_evicts_and_the_cache_on_one_that_does():
    compose = (ROOT / "docker-compose.yml").read_text()
    services = _services(compose)
    assert re.search(r'REDIS_URL: "redis://redis:6379/\d+"', compose)
    assert re.search(r'CACHE_URL: "redis://cache:6379/\d+"', compose)
    assert '"--maxmemory-policy", "noeviction"' in services["redis"]
    assert '"--maxmemory-policy", "allkeys-lru"' in services["cache"]
    assert '"--maxmemory",' in services["cache"]  # bounded, or LRU never starts


def _settings_of(**env) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "CACHE_URL", "REDIS_URL"))}
    code = (
        "from django.conf import settings as s; q = s.RQ_QUEUES; "
        "print(q['default']['URL'], q['platform']['URL'], s.CACHES['default']['LOCATION'])"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**base, "SECRET_KEY": "k" * 50, "SLUICE_AUDIT_KEYS": "a" * 32, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_cache_follows_cache_url_and_the_queues_stay_on_redis_url():
    assert _settings_of(REDIS_URL="redis://q:6379/0") == "redis://q:6379/0 redis://q:6379/0 redis://q:6379/0"
    moved = _settings_of(REDIS_URL="redis://q:6379/0", CACHE_URL="redis://c:6379/1")
    assert moved == "redis://q:6379/0 redis://q:6379/0 redis://c:6379/1"


def test_a_cache_url_that_is_no_redis_url_stops_start_up(monkeypatch):
    from config.env import env_url

    monkeypatch.setenv("CACHE_URL", "memcached://x")
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        env_url("CACHE_URL", "redis://x", schemes=("redis", "rediss", "unix"))


class StubRedis:
    def __init__(self, policy=None, error=None):
        self.policy, self.error = policy, error

    def config_get(self, name):
        if self.error:
            raise self.error
        return {name: self.policy}


def test_the_deploy_check_warns_when_the_queue_redis_may_evict():
    (warning,) = check_queue_redis_never_evicts(connection=StubRedis("allkeys-lru"))
    assert warning.id == "sluice.W001" and "allkeys-lru" in warning.msg


def test_the_deploy_check_is_quiet_for_noeviction_or_a_redis_it_cannot_ask():
    assert check_queue_redis_never_evicts(connection=StubRedis("noeviction")) == []
    assert check_queue_redis_never_evicts(connection=StubRedis(error=ConnectionError("down"))) == []
