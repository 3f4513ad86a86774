"""The word lists and the category rules load, compile and keep stable, unique ids."""

import pytest

from releases.checks import REGISTRY
from releases.checks.category import load_category_rules
from releases.checks.wordlists import load_rules


@pytest.mark.parametrize("name", ["ad_law_claims", "induced_sharing"])
def test_every_word_list_rule_compiles_with_a_unique_id(name):
    rules = load_rules(name)
    assert rules
    assert len({r.id for r in rules}) == len(rules)


def test_every_category_rule_has_keywords_and_something_to_check():
    for rule in load_category_rules():
        assert rule["category_keywords"]
        assert rule.get("requires_pages") or rule.get("requires_report") or rule.get("forbids")


def test_every_check_has_a_title_a_severity_and_an_explanation_for_people():
    for key, check in REGISTRY.items():
        assert check.key == key and check.title
        assert check.severity in ("error", "warning")
        assert len(check.explanation) > 40 or key in {"version_semantic", "version_newer", "package_size"}


def test_the_existing_checks_keep_their_keys():
    assert {"version_semantic", "version_newer", "review_notes", "package_size"} <= set(REGISTRY)
    assert {
        "ad_law_claims",
        "induced_sharing",
        "first_screen",
        "first_screen_target",
        "error_monitoring",
        "category_features",
    } <= set(REGISTRY)
