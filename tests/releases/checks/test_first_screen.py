"""First screen: above 3000 ms blocks, above the 2000 ms target warns, no measurement is a failure."""

import pytest

from releases.models import State


def test_it_blocks_a_first_screen_above_three_seconds(run_check):
    outcome = run_check("first_screen", report_changes={"first_screen_ms": 3400})
    assert not outcome.passed
    assert outcome.evidence == {"first_screen_ms": 3400, "limit_ms": 3000}
    assert "3400 ms" in outcome.message


@pytest.mark.parametrize("ms", [3000, 2500, 0, 1200.5])
def test_it_does_not_block_at_or_below_three_seconds(run_check, ms):
    assert run_check("first_screen", report_changes={"first_screen_ms": ms}).passed


def test_the_target_warns_above_two_seconds(run_check):
    outcome = run_check("first_screen_target", report_changes={"first_screen_ms": 2500})
    assert not outcome.passed
    assert outcome.evidence == {"first_screen_ms": 2500, "limit_ms": 2000}


def test_the_target_is_met_at_exactly_two_seconds(run_check):
    assert run_check("first_screen_target", report_changes={"first_screen_ms": 2000}).passed


@pytest.mark.parametrize("key", ["first_screen", "first_screen_target"])
def test_it_fails_and_asks_ci_when_the_measurement_is_missing(run_check, key):
    outcome = run_check(key, build_report={})
    assert not outcome.passed
    assert "CI should measure the first screen" in outcome.message


@pytest.mark.parametrize("value", ["fast", True, -1])
def test_it_fails_on_a_measurement_that_is_not_a_duration(run_check, value):
    outcome = run_check("first_screen", report_changes={"first_screen_ms": value})
    assert not outcome.passed
    assert outcome.evidence == {"first_screen_ms": value}


def test_a_slow_but_acceptable_first_screen_warns_and_still_passes_the_gate(make_release, check_results):
    from tests.conftest import GOOD_REPORT

    release = make_release(build_report=GOOD_REPORT | {"first_screen_ms": 2600})
    results, refused = check_results(release)
    assert not refused and release.state == State.CHECKED
    assert (results["first_screen_target"].status, results["first_screen_target"].severity) == (
        "failed",
        "warning",
    )
    assert results["first_screen"].status == "passed"


def test_a_first_screen_above_three_seconds_blocks_the_gate(make_release, check_results):
    from tests.conftest import GOOD_REPORT

    release = make_release(build_report=GOOD_REPORT | {"first_screen_ms": 4100})
    results, refused = check_results(release)
    assert refused and release.state == State.DRAFT
    assert results["first_screen"].status == "failed"
