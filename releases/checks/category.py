"""Service category against features, driven by data/category_features.json."""

import json
import re
from functools import cache

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register
from releases.checks.wordlists import DATA_DIR


def words(name: str) -> str:
    """'pages/shop/goodsDetail' -> 'pages shop goods detail': \\b then works on words."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]+", " ", name).strip().lower()


@cache
def load_category_rules() -> tuple[dict, ...]:
    with open(DATA_DIR / "category_features.json", encoding="utf-8") as handle:
        rules = json.load(handle)["rules"]
    for rule in rules:
        for need in rule.get("requires_pages", []):
            need["regex"] = re.compile(need["pattern"], re.IGNORECASE)
        for forbid in rule.get("forbids", []):
            forbid["regexes"] = [re.compile(p, re.IGNORECASE) for p in forbid["patterns"]]
    return tuple(rules)


def _applies(rule: dict, category: str) -> bool:
    lowered = category.lower()
    if any(x.lower() in lowered for x in rule.get("category_excludes", [])):
        return False
    return any(k.lower() in lowered for k in rule["category_keywords"])


def _strings(report: dict, key: str) -> list[str]:
    value = report.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@register
class CategoryFeatures(Check):
    key = "category_features"
    title = _("Features match the service category")
    explanation = _(
        "“Features do not match the category” is one of the most common rejections. Reviewers "
        "expect an e-commerce category (商家自营, 电商, 商城, 购物) to show goods and take orders; a "
        "social or community category (社交, 社区, 论坛) to have made the UGC declaration (content "
        "moderation, reporting, user agreement); and a tool category (工具) not to carry live-stream "
        "tipping. How to fix: add the missing feature (and list its pages in the build report), "
        "declare UGC with build_report.ugc_declaration, remove the out-of-category feature, or "
        "change the app's category on the platform so it matches what the app does."
    )

    def run(self, release) -> Outcome:
        categories = [c for c in (release.app.categories or []) if isinstance(c, str)]
        if not categories:
            return Outcome(True, gettext_noop("The app has no service category set; nothing to compare."))
        report = release.build_report if isinstance(release.build_report, dict) else {}
        pages = _strings(report, "pages")
        problems = []
        for category in categories:
            for rule in load_category_rules():
                if _applies(rule, category):
                    problems += self._problems(rule, category, report, pages)
        if not problems:
            return Outcome(True)
        return Outcome(
            False,
            "; ".join(p["message"] for p in problems) + ".",
            {"problems": problems, "categories": categories},
        )

    def _problems(self, rule: dict, category: str, report: dict, pages: list[str]) -> list[dict]:
        problems = []
        base = {"category": category, "rule": rule["id"]}
        missing = [
            need
            for need in rule.get("requires_pages", [])
            if not any(need["regex"].search(words(p)) for p in pages)
        ]
        if missing:
            listed = (
                gettext_noop("the build report lists no pages")
                if not pages
                else gettext_noop("pages: %(pages)s") % {"pages": ", ".join(pages)}
            )
            problems.append(
                base
                | {
                    "missing": [f"{need['label']} ({need['hint']})" for need in missing],
                    "pages": pages,
                    "message": gettext_noop(
                        "category “%(category)s” (%(rule)s) needs %(needs)s, but %(listed)s"
                    )
                    % {
                        "category": category,
                        "rule": rule["name"],
                        "needs": " and ".join(need["label"] for need in missing),
                        "listed": listed,
                    },
                }
            )
        for need in rule.get("requires_report", []):
            if not report.get(need["key"]):
                problems.append(
                    base
                    | {
                        "missing": [need["key"]],
                        "message": gettext_noop(
                            "category “%(category)s” (%(rule)s) needs %(needs)s: %(hint)s"
                        )
                        % {
                            "category": category,
                            "rule": rule["name"],
                            "needs": need["label"],
                            "hint": need["hint"],
                        },
                    }
                )
        for forbid in rule.get("forbids", []):
            found = [
                {"in": where, "name": name}
                for where in forbid["in"]
                for name in _strings(report, where)
                if any(regex.search(words(name)) for regex in forbid["regexes"])
            ]
            if found:
                problems.append(
                    base
                    | {
                        "forbidden": forbid["label"],
                        "found": found,
                        "message": gettext_noop(
                            "category “%(category)s” (%(rule)s) may not carry %(forbidden)s, found in %(found)s"  # noqa: E501
                        )
                        % {
                            "category": category,
                            "rule": rule["name"],
                            "forbidden": forbid["label"],
                            "found": ", ".join(f"{f['in']} {f['name']}" for f in found),
                        },
                    }
                )
        return problems
