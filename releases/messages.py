"""Stored English, read in the reader's language (issue 15): the one rule for every sentence the
product keeps in English and shows to a person later.

Check results, refusal reasons, remediation tasks, seeded playbooks and audit notes are written in
English (the API and the audit chain keep them as they were said). Their producers format a
message id marked with gettext_noop, e.g. ``gettext_noop("First screen in %(ms)s ms.") % {...}``,
so the English text is the msgid with its parameters filled in. `localize` turns it back: an
exact msgid is translated; otherwise the msgids with named placeholders are matched as patterns
("First screen in (?P<ms>.+?) ms.") and the translation is formatted with the parameters, each
parameter itself localized (a check title inside "2 check(s) failed: …"). Text no msgid matches
(what a person typed) is shown as it is. Rows stored before a message was marked read the same
way, since only the English is stored.
"""

import re
from functools import lru_cache

from django.utils import translation
from django.utils.translation import trans_real

PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
LIST_SEPARATOR = "; "
ELLIPSIS = "…"  # a list cut short ("a; b; …") ends with it
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"])")


def localize(text: str, language: str | None = None) -> str:
    """`text` (English, as stored) in `language` (default: the active one)."""
    language = language or translation.get_language() or "en"
    if not text or language.startswith("en"):
        return text
    return _localize(str(text), language)


@lru_cache(maxsize=4096)
def _localize(text: str, language: str) -> str:
    found = _one(text, language, depth=0)
    if found is not None:
        return found
    sentences = SENTENCE_END.split(text)  # a message joined from several known sentences
    if len(sentences) > 1:
        return "".join(_one(s, language, depth=0) or s for s in sentences)
    return text


def _one(text: str, language: str, depth: int) -> str | None:
    catalog = _catalog(language)
    if text in catalog:
        return catalog[text]
    stripped = text.strip()
    if stripped != text and stripped in catalog:
        return catalog[stripped]
    if depth > 1:
        return None
    pieces = text.split(LIST_SEPARATOR) if LIST_SEPARATOR in text else []
    if pieces:  # a list whose every item is known reads as that list, before any loose pattern
        parts = [part if part == ELLIPSIS else _one(part, language, depth) for part in pieces]
        if all(part is not None for part in parts):
            return "；".join(parts)
    for pattern, translated in _patterns(language):
        match = pattern.fullmatch(text)
        if match:
            params = {
                name: _one(value, language, depth + 1) or value for name, value in match.groupdict().items()
            }
            try:
                return translated % params
            except (KeyError, TypeError, ValueError):
                return None
    if LIST_SEPARATOR in text:  # a list of known items ("privacy policy; performance")
        parts = [_one(part, language, depth) for part in text.split(LIST_SEPARATOR)]
        if any(part is not None for part in parts):
            return "；".join(
                found or original for found, original in zip(parts, text.split(LIST_SEPARATOR), strict=True)
            )
    return None


def _catalog(language: str) -> dict:
    return _tables(language)[0]


def _patterns(language: str) -> list:
    return _tables(language)[1]


@lru_cache(maxsize=8)
def _tables(language: str) -> tuple[dict, list]:
    catalog = trans_real.translation(language)._catalog
    exact = {key: value for key, value in catalog.items() if isinstance(key, str) and key and value}
    patterns = []
    for msgid, msgstr in exact.items():
        if PLACEHOLDER.search(msgid):
            pattern = _pattern(msgid)
            if pattern is not None:
                literal = len(PLACEHOLDER.sub("", msgid))  # the text a match must contain
                patterns.append((literal, pattern, PLACEHOLDER.sub(r"%(\1)s", msgstr)))
    # The most specific first: the most literal text (“The next opening is %(when)s.” before
    # “%(app)s %(version)s is %(state)s.”, whose three placeholders match almost anything).
    patterns.sort(key=lambda item: (-item[0], -len(item[1].pattern)))
    patterns = [(pattern, translated) for _literal, pattern, translated in patterns]
    return exact, patterns


def _pattern(msgid: str):
    parts, seen, position = [], set(), 0
    for match in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : match.start()]))
        name, kind = match.groups()
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(rf"(?P<{name}>-?\d+)" if kind == "d" else rf"(?P<{name}>.+?)")
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    if not "".join(parts[::2]).strip("\\ "):  # nothing but placeholders: it would match anything
        return None
    return re.compile("".join(parts), re.DOTALL)
