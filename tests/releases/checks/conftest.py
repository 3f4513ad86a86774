"""Helpers for the check tests: run one check on an unsaved release, or all through the service."""

import copy

import pytest

from releases import services
from releases.checks import REGISTRY
from releases.errors import Refused
from releases.models import CheckRun, Release
from tests.conftest import GOOD_NOTES, GOOD_REPORT


@pytest.fixture
def run_check(app):
    """run_check(key, **release_fields) -> Outcome, on an unsaved release of `app`."""

    def run(key, *, report_changes=None, **fields):
        report = copy.deepcopy(GOOD_REPORT)
        report.update(report_changes or {})
        fields.setdefault("review_notes", GOOD_NOTES)
        fields.setdefault("build_report", report)
        release = Release(app=fields.pop("app", app), version="1.0.0", **fields)
        return REGISTRY[key].run(release)

    return run


@pytest.fixture
def check_results(alice):
    """Tick the checklist, run the checks (services.release_check): ({key: result row}, refused?)."""

    def run(release):
        for item in release.app.checklist:  # so that a passing run moves the release on
            services.release_confirm_check(release=release, actor=alice, key=item["key"])
        try:
            run = services.release_check(release=release, actor=alice)
            refused = False
        except Refused as err:
            assert err.code == "checks_failed"
            run = CheckRun.objects.get(pk=err.details["run_id"])
            refused = True
        release.refresh_from_db()
        return {r.key: r for r in run.results.all()}, refused

    return run
