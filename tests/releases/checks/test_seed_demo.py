"""The demo data's build report passes every automated check, so `make run` seeds a published 1.0.0."""

import io

from django.core.management import call_command

from releases.models import Release, State


def test_the_demo_seed_runs_its_first_release_through_the_checks_to_published(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = Release.objects.get(version="1.0.0", app__appid="wxd0000000000demo")
    assert first.state == State.PUBLISHED
    run = first.check_runs.get()
    assert run.passed
    assert {r.key: r.status for r in run.results.all() if r.status != "passed"} == {}
