"""Settings come only from the environment, and a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLUICE_", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, named",
    [
        ({"SLUICE_DEMO": "maybe"}, "SLUICE_DEMO"),
        ({"SLUICE_TESTING": "1", "DATABASE_URL": "mysql2://x"}, "DATABASE_URL"),
        ({"SLUICE_TESTING": "1", "REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"SLUICE_TESTING": "1", "DOUYIN_API_BASE": "ftp://open.douyin.com"}, "DOUYIN_API_BASE"),
        ({"SLUICE_TESTING": "1", "SLUICE_INFLIGHT_STALE_SECONDS": "soon"}, "SLUICE_INFLIGHT_STALE_SECONDS"),
        ({"SLUICE_TESTING": "1", "SLUICE_STEP_RETRY_SECONDS": "5,soon"}, "SLUICE_STEP_RETRY_SECONDS"),
        ({"SLUICE_TESTING": "1", "SLUICE_STEP_RETRY_SECONDS": "5,0"}, "SLUICE_STEP_RETRY_SECONDS"),
        # A lease that could run out while RQ still lets the job run would let a second worker in.
        (
            {
                "SLUICE_TESTING": "1",
                "SLUICE_STEP_JOB_TIMEOUT_SECONDS": "120",
                "SLUICE_STEP_LEASE_SECONDS": "150",
            },
            "SLUICE_STEP_LEASE_SECONDS",
        ),
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "a-long-random-production-secret-" * 2}, "SLUICE_AUDIT_KEYS"),
        ({"SLUICE_TESTING": "1", "SLUICE_AUDIT_KEYS": "too-short-to-be-a-key"}, "SLUICE_AUDIT_KEYS"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(env, named):
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="a-long-random-production-secret-" + "k8Zq!v2#Lp9" * 4,
        SLUICE_AUDIT_KEYS="a-long-random-production-audit-key-" + "Q7wX2mP9" * 4,
        ALLOWED_HOSTS="sluice.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:////tmp/x.sqlite3"),
    )
    assert result.returncode == 0, result.stderr


def test_the_demo_seeds_on_sqlite(tmp_path, migrated_sqlite):
    """`make run` uses SQLite on a fresh machine: every query the seed and the first pages run
    must work there too (DISTINCT ON, for one, does not)."""
    env = {
        "SLUICE_DEMO": "1",
        "SLUICE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{migrated_sqlite}",
    }
    seeded = _manage("seed_demo", **env)
    assert seeded.returncode == 0, seeded.stderr
    assert "sluice-demo" in seeded.stdout or "Demo" in seeded.stdout
