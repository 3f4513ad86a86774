"""Word lists from releases/checks/data/*.json, matched with context rather than raw substrings.

A list is a JSON object whose "rules" each have:

- ``id``: a stable name, shown in the evidence;
- ``label``: what a person reads ("第一 (ranking claim)");
- ``pattern``: a regular expression (case-insensitive) for the offending words;
- ``unless_before`` (optional): a regular expression; a match whose preceding text ends
  with it (whitespace between is allowed) is not reported, e.g. "收" before "集赞";
- ``unless_after`` (optional): a regular expression; a match whose following text starts
  with it (after optional whitespace) is not reported, e.g. "次" after "第一".

Overlapping matches (of one or several rules) are reported once, as their union.
Keys starting with "_" are documentation and ignored.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_noop

DATA_DIR = Path(__file__).resolve().parent / "data"
CONTEXT_CHARS = 20
LOOK_CHARS = 40  # how far before/after a match the allow-list patterns look


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    pattern: re.Pattern
    unless_before: re.Pattern | None = None
    unless_after: re.Pattern | None = None

    def allowed(self, text: str, start: int, end: int) -> bool:
        before = text[max(0, start - LOOK_CHARS) : start]
        after = text[end : end + LOOK_CHARS]
        if self.unless_before is not None and self.unless_before.search(before):
            return True
        return self.unless_after is not None and bool(self.unless_after.match(after))


@dataclass(frozen=True)
class Span:
    field: str
    rule: str
    label: str
    text: str
    start: int
    end: int
    context: str

    def as_evidence(self) -> dict:
        return {
            "field": self.field,
            "rule": self.rule,
            "label": self.label,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "context": self.context,
        }

    def describe(self) -> str:
        return gettext_noop("%(field)s [%(start)s:%(end)s] “%(text)s” (%(label)s) in “%(context)s”") % {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "label": self.label,
            "context": self.context,
        }


def _compile_rule(raw: dict) -> Rule:
    flags = re.IGNORECASE
    before = raw.get("unless_before")
    after = raw.get("unless_after")
    return Rule(
        id=raw["id"],
        label=raw.get("label", raw["id"]),
        pattern=re.compile(raw["pattern"], flags),
        unless_before=re.compile(rf"(?:{before})\s*$", flags) if before else None,
        unless_after=re.compile(rf"\s*(?:{after})", flags) if after else None,
    )


@cache
def load_rules(name: str) -> tuple[Rule, ...]:
    """The compiled rules of data/<name>.json (cached: the files ship with the code)."""
    with open(DATA_DIR / f"{name}.json", encoding="utf-8") as handle:
        data = json.load(handle)
    return tuple(_compile_rule(raw) for raw in data["rules"])


def _context(text: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    return ("…" if left > 0 else "") + text[left:right] + ("…" if right < len(text) else "")


def find_spans(field: str, text: str, rules: tuple[Rule, ...]) -> list[Span]:
    """Every offending span of `text`, in order, overlaps merged, allow-listed contexts skipped."""
    if not text:
        return []
    found: list[tuple[int, int, Rule]] = []
    for rule in rules:
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if end > start and not rule.allowed(text, start, end):
                found.append((start, end, rule))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    merged: list[list] = []  # [start, end, [rules]]: overlapping matches become one span
    for start, end, rule in found:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if rule not in merged[-1][2]:
                merged[-1][2].append(rule)
        else:
            merged.append([start, end, [rule]])
    return [
        Span(
            field,
            "+".join(r.id for r in rules),
            " / ".join(r.label for r in rules),
            text[start:end],
            start,
            end,
            _context(text, start, end),
        )
        for start, end, rules in merged
    ]


def release_texts(release) -> list[tuple[str, str]]:
    """The texts a reviewer or a user reads: (field name, text) pairs.

    Store texts come from the build report's optional ``store_texts`` list; strings only
    (anything else is the build report validation's business, not this check's).
    """
    texts = [("release_notes", release.release_notes or ""), ("review_notes", release.review_notes or "")]
    report = release.build_report if isinstance(release.build_report, dict) else {}
    store_texts = report.get("store_texts")
    if isinstance(store_texts, list):
        texts += [(f"store_texts[{i}]", t) for i, t in enumerate(store_texts) if isinstance(t, str)]
    return texts
