"""validate_build_report names each field of the wrong type and accepts unknown keys."""

import pytest

from releases.checks.build_report import validate_build_report
from tests.conftest import GOOD_REPORT


def test_it_accepts_a_complete_report_with_unknown_keys():
    assert validate_build_report(GOOD_REPORT | {"ci_job": 42, "store_texts": ["门店"]}) == {}


def test_it_accepts_an_empty_report_and_nulls():
    assert validate_build_report({}) == {}
    assert validate_build_report({"first_screen_ms": None, "error_monitoring": None}) == {}


def test_it_refuses_a_report_that_is_not_an_object():
    assert validate_build_report("big") == {"build_report": "must be an object."}


@pytest.mark.parametrize(
    "report, field, words",
    [
        ({"packages": {"__APP__": 1}}, "packages", "must be a list"),
        ({"packages": ["__APP__"]}, "packages", "item 0 must be an object"),
        ({"packages": [{"size": 1}]}, "packages", "item 0: name"),
        ({"packages": [{"name": "__APP__", "size": "1 MB"}]}, "packages", "item 0 (__APP__): size"),
        ({"packages": [{"name": "a", "size": 1}, {"name": "b", "size": -1}]}, "packages", "item 1 (b)"),
        ({"packages": [{"name": "a", "size": 1.5}]}, "packages", "whole number"),
        ({"packages": [{"name": "a", "size": True}]}, "packages", "whole number"),
        ({"permissions": "scope.userLocation"}, "permissions", "list of strings"),
        ({"apis": ["wx.getLocation", 3]}, "apis", "item 1 is not a string"),
        ({"pages": None}, "pages", "list of strings"),
        ({"first_screen_ms": "1200"}, "first_screen_ms", "number"),
        ({"first_screen_ms": -5}, "first_screen_ms", ">= 0"),
        ({"first_screen_ms": False}, "first_screen_ms", "number"),
        ({"first_screen_ms": float("nan")}, "first_screen_ms", "number"),
        ({"error_monitoring": True}, "error_monitoring", "string"),
    ],
)
def test_it_names_the_field_with_the_wrong_type(report, field, words):
    errors = validate_build_report(report)
    assert list(errors) == [field]
    assert words in errors[field]


def test_a_float_first_screen_and_zero_sizes_are_near_misses_that_pass():
    assert (
        validate_build_report({"first_screen_ms": 1234.5, "packages": [{"name": "__APP__", "size": 0}]}) == {}
    )


def test_it_reports_every_bad_field_at_once():
    assert set(validate_build_report({"pages": 1, "apis": 2, "first_screen_ms": "x"})) == {
        "pages",
        "apis",
        "first_screen_ms",
    }


def test_a_package_size_written_as_a_whole_float_is_a_whole_number_as_json_says():
    assert validate_build_report({"packages": [{"name": "__APP__", "size": 1024.0}]}) == {}
    assert "packages" in validate_build_report({"packages": [{"name": "__APP__", "size": 1024.5}]})
