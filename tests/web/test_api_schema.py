"""The API against its own OpenAPI document: schemathesis generates requests (valid and invalid)
for every operation and sends them to a real server (gunicorn, in its own process) over the test
PostgreSQL database, seeded with a team, apps and releases. Every answer must be a non-5xx that
matches the documented status codes, content type and schema; valid requests must not be refused
with a 400, invalid ones must be. Bounded to a few minutes on two cores: SLUICE_SCHEMATHESIS_EXAMPLES
(default 6) examples per operation and kind, e.g. 100 for a deeper run."""

import datetime
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import schemathesis
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.errors import FailureGroup

from releases.app_services import SUPPRESSION_MAX_DAYS
from releases.models import CheckSuppression, Qualification
from releases.tokens import api_token_create

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("SLUICE_SCHEMATHESIS_EXAMPLES", "6"))

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def world(app, other_app, adam, alice, mike, vera, make_release):
    """What the generated requests find: ids that exist, beside the random ones that do not."""
    drafts = [make_release("1.0.0"), make_release("1.1.0", upto="checked")]
    submitted = make_release("2.0.0", upto="submitted")
    CheckSuppression.objects.create(
        app=app, key="privacy_policy", reason="Known", expires_on=datetime.date(2030, 1, 1), created_by=adam
    )
    Qualification.objects.create(app=app, kind="business_licence", number="91310000", created_by=adam)
    return {
        "app_id": [app.pk],
        "release_id": [drafts[0].pk, submitted.pk],
        "team_id": [app.team_id],
        "username": ["alice", "vera"],
        "suppression_id": list(CheckSuppression.objects.values_list("pk", flat=True)),
        "qualification_id": list(Qualification.objects.values_list("pk", flat=True)),
        "token": api_token_create(user=adam),
    }


@pytest.fixture
def api_server(world, tmp_path):
    """gunicorn serving config.wsgi on a loopback port, over the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("the API is fuzzed against PostgreSQL")
    port = _free_port()
    # schemathesis' auth checks send unknown tokens by the hundred from this one address: no lockout.
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SLUICE_TESTING": "1",
        "API_TOKEN_FAILURE_LIMIT": "1000000",
    }
    log = (tmp_path / "gunicorn.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            # The fuzzer's negative query strings run to kilobytes: let the API answer them (in front of
            # it, gunicorn's default 4094-byte request line would refuse them with a 414 first).
            "--limit-request-line",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/api/v1/openapi.json", timeout=10).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.seek(0)
        errors = [line for line in log if " ERROR " in line or "Traceback" in line]
        print("".join(errors[-50:]))
        log.close()


def _fuzz(operation, mode, base_url, path_parameters=None) -> list[str]:
    """Send `EXAMPLES` generated requests of one operation; the distinct failures schemathesis found."""
    found: dict[str, str] = {}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        try:
            case.call_and_validate(base_url=base_url)
        except (AssertionError, FailureGroup) as error:  # one schemathesis Failure per failed check
            for failure in getattr(error, "exceptions", [error]):
                seen = f"{mode.value} {operation.label}: {failure.code} {failure.title}"
                if seen not in found:
                    found[seen] = f"{seen}\n    {case.as_curl_command()}\n    {failure.message[:800]}"
        except requests.RequestException as error:
            found.setdefault(f"{mode.value} {operation.label}: {error!r}", f"{error!r}\n    {case!r}")

    run()
    return list(found.values())


STATUSES: Counter = Counter()


def after_call(context, case, response):
    STATUSES[response.status_code] += 1


# The two rules JSON Schema cannot state, applied to the generated bodies instead: a suppression
# expires within SUPPRESSION_MAX_DAYS of today (a window that moves), and checklist keys are unique
# in their list (uniqueItems compares whole items).
def map_body(context, body):
    if context.operation.path.endswith("/suppressions") and isinstance(body, dict):
        try:
            expires = datetime.date.fromisoformat(body.get("expires_on"))
        except (TypeError, ValueError):
            return body
        today = timezone.localdate()
        window = SUPPRESSION_MAX_DAYS + 1
        return {
            **body,
            "expires_on": (today + datetime.timedelta(days=expires.toordinal() % window)).isoformat(),
        }
    if context.operation.path.endswith("/publish-policy") and isinstance(body, dict):
        return {**body, "publish_policy": _ordered_policy(body.get("publish_policy"))}
    return body


def _ordered_policy(policy):
    """A window ends after it starts, and so does a freeze (each made so by moving its times)."""
    if not isinstance(policy, dict):
        return policy
    fixed = dict(policy)
    if isinstance(policy.get("windows"), list):
        fixed["windows"] = [_ordered_window(w) for w in policy["windows"]]
    if isinstance(policy.get("freezes"), list):
        fixed["freezes"] = [_ordered_freeze(f) for f in policy["freezes"]]
    return fixed


def _ordered_window(window):
    times = [window.get(key) for key in ("from", "to")] if isinstance(window, dict) else []
    if len(times) == 2 and all(isinstance(t, str) for t in times) and times[1] <= times[0]:
        return {**window, "from": "00:00", "to": "23:59"}
    return window


def _ordered_freeze(freeze):
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    try:
        start = datetime.datetime.fromisoformat(freeze["from"])
        end = datetime.datetime.fromisoformat(freeze["to"])
        start, end = (m if m.tzinfo else m.replace(tzinfo=beijing) for m in (start, end))
        if end <= start:
            return {**freeze, "to": (start + datetime.timedelta(hours=1)).isoformat()}
    except (TypeError, ValueError, KeyError, OverflowError):
        pass
    return freeze


def filter_body(context, body):
    if context.operation.path.endswith("/checklist") and isinstance(body, dict):
        items = body.get("items")
        keys = [
            i["key"].strip() for i in items or [] if isinstance(i, dict) and isinstance(i.get("key"), str)
        ]
        return len([k for k in keys if k]) == len({k for k in keys if k})
    return True


# Paths that belong to another operation: POST /releases/{id}/health is the health report (its own
# route and body, web/api/rollouts.py), not the `health` action of /releases/{id}/{action}.
OTHER_OPERATIONS = {"/releases/{release_id}/{action}": {"action": {"health"}}}


def filter_path_parameters(context, parameters):
    taken = next((v for p, v in OTHER_OPERATIONS.items() if context.operation.path.endswith(p)), {})
    return not any(parameters and parameters.get(name) in values for name, values in taken.items())


def test_every_generated_request_gets_a_documented_answer_and_never_a_server_error(api_server, world):
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"BearerToken": {"bearer": world["token"]}}},
            # The API ignores query parameters it does not define, as HTTP APIs do.
            "generation": {"allow-extra-parameters": False},
        }
    )
    schema = schemathesis.openapi.from_url(f"{api_server}/api/v1/openapi.json", config=config)
    schema.hook(map_body)
    schema.hook(filter_body)
    schema.hook(filter_path_parameters)
    schema.hook(after_call)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [parameter.name for parameter in operation.path_parameters]
        # Invalid requests are refused before any object is looked up: random ids will do. Valid
        # ones also go to objects that exist (each seeded id), to get past their 404.
        failures += _fuzz(operation, GenerationMode.NEGATIVE, api_server)
        failures += _fuzz(operation, GenerationMode.POSITIVE, api_server)
        for i in range(max((len(world[name]) for name in names if name in world), default=0)):
            existing = {name: world[name][i % len(world[name])] for name in names if name in world}
            failures += _fuzz(operation, GenerationMode.POSITIVE, api_server, existing)
    print("answers by status:", dict(sorted(STATUSES.items())))
    assert not failures, "\n\n".join(failures)
