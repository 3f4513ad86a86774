"""Semantic versions: mini-program platforms compare them numerically (1.10.0 > 1.9.0)."""

from collections.abc import Iterable

import semver


def parse(version: str) -> semver.Version | None:
    try:
        return semver.Version.parse(version.strip())
    except (ValueError, TypeError):
        return None


def max_version(versions: Iterable[str]) -> str | None:
    parsed = [(v, parse(v)) for v in versions]
    valid = [(v, p) for v, p in parsed if p is not None]
    if not valid:
        return None
    return max(valid, key=lambda pair: pair[1])[0]
