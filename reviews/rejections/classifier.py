"""Sort rejection items into categories with the keyword/pattern rules in data/rules.toml.

Rules are data so playbook authors can extend them without a deploy of code; what no rule
recognises is "other" (and counted, see releases.rejection_recording).
"""

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from releases.models import RejectionCategory
from releases.rejection_recording import normalise
from reviews.rejections.parser import ReasonItem, parse_reason

RULES_PATH = Path(__file__).parent / "data" / "rules.toml"
OTHER = RejectionCategory.OTHER.value
CATEGORIES = [c.value for c in RejectionCategory]


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    priority: int
    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]

    def matches(self, text: str, compact: str) -> bool:
        """Chinese keywords match the text without spaces; English ones only at a word start,
        so "lag" is not found in "flag"."""
        for keyword in self.keywords:
            if keyword.isascii():
                if re.search(r"(?<![a-z0-9])" + re.escape(keyword), text):
                    return True
            elif keyword in compact:
                return True
        return any(p.search(text) or p.search(compact) for p in self.patterns)


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    ignore: tuple[re.Pattern, ...]


def _keyword(keyword: str) -> str:
    keyword = normalise(keyword)
    return keyword if keyword.isascii() else keyword.replace(" ", "")


def _rule(index: int, raw: dict) -> Rule:
    name = raw.get("name") or f"rule {index + 1}"
    category = raw.get("category")
    if category not in CATEGORIES or category == OTHER:
        raise ValueError(f"rules.toml: {name} has an unknown category {category!r}")
    try:
        patterns = tuple(re.compile(normalise(p)) for p in raw.get("patterns", []))
    except re.error as exc:
        raise ValueError(f"rules.toml: {name} has a bad pattern: {exc}") from None
    keywords = tuple(_keyword(k) for k in raw.get("keywords", []))
    if not keywords and not patterns:
        raise ValueError(f"rules.toml: {name} has neither keywords nor patterns")
    return Rule(name, category, int(raw.get("priority", 0)), keywords, patterns)


def load_rules(path: Path | str = RULES_PATH) -> RuleBook:
    """Read and validate a rules file; a mistake names the rule instead of misclassifying."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    rules = tuple(_rule(i, raw) for i, raw in enumerate(data.get("rule", [])))
    ignore = tuple(re.compile(normalise(p)) for p in data.get("ignore", []))
    return RuleBook(rules, ignore)


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    return load_rules()


@lru_cache(maxsize=8)
def rules_for(platform: str) -> RuleBook:
    """The shared rules, plus the platform's own (data/rules.<platform>.toml) ahead of them: each
    platform words its rejections its own way (Douyin's reason_detail is keyed by host app)."""
    book = default_rules()
    path = RULES_PATH.with_name(f"rules.{platform}.toml")
    if not path.exists():
        return book
    extra = load_rules(path)
    return RuleBook(extra.rules + book.rules, extra.ignore + book.ignore)


def classify_text(text: str, book: RuleBook | None = None) -> str:
    """The category of one piece of text: the highest-priority matching rule, else "other"."""
    book = book or default_rules()
    text = normalise(text)
    for pattern in book.ignore:
        text = pattern.sub(" ", text)
    compact = text.replace(" ", "")
    best: Rule | None = None
    for rule in book.rules:
        if (best is None or rule.priority > best.priority) and rule.matches(text, compact):
            best = rule
    return best.category if best else OTHER


def classify_item(item: ReasonItem, book: RuleBook | None = None) -> str:
    """The title decides ("账号信息不符合规范" with a detail "包含色情因素" is about the account);
    the details only when the title alone says nothing recognisable."""
    category = classify_text(item.title, book) if item.title else OTHER
    if category == OTHER and item.details:
        category = classify_text(" ".join(item.details), book)
    return category


def classify_reason(raw: str, book: RuleBook | None = None) -> list[dict]:
    """Parsed items of a reason, each as a dict with its category."""
    return [{**item.as_dict(), "category": classify_item(item, book)} for item in parse_reason(raw)]
