"""Error monitoring: a tool's name is required, its absence warns without blocking."""

import pytest

from releases.models import State


def test_it_warns_when_no_monitoring_is_declared(run_check):
    outcome = run_check("error_monitoring", report_changes={"error_monitoring": None})
    assert not outcome.passed
    assert outcome.evidence == {"error_monitoring": None}


@pytest.mark.parametrize("value", ["", "   ", 0, ["sentry"]])
def test_a_blank_or_non_string_value_is_not_a_declaration(run_check, value):
    assert not run_check("error_monitoring", report_changes={"error_monitoring": value}).passed


def test_any_named_tool_is_a_near_miss_that_does_not_fire(run_check):
    outcome = run_check("error_monitoring", report_changes={"error_monitoring": " fundebug "})
    assert outcome.passed
    assert outcome.message == "Error monitoring: fundebug."


def test_missing_monitoring_is_stored_as_a_warning_and_does_not_block(make_release, check_results):
    from tests.conftest import GOOD_REPORT

    report = {k: v for k, v in GOOD_REPORT.items() if k != "error_monitoring"}
    release = make_release(build_report=report)
    results, refused = check_results(release)
    assert not refused and release.state == State.CHECKED
    result = results["error_monitoring"]
    assert (result.status, result.severity) == ("failed", "warning")
    assert "missing" in result.message
