"""Strict readers for environment variables.

Every setting comes from the environment; a value we cannot understand stops
start-up with an ImproperlyConfigured that names the variable, instead of
silently falling back to a default nobody asked for.
"""

import os
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_ints(name: str, default: list[int], *, minimum: int | None = None) -> list[int]:
    """A comma-separated list of whole numbers, e.g. `5,15,30`; empty means an empty list."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    values = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            value = int(item)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r}: {item!r} is not a whole number.") from None
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name}={raw!r}: every value must be at least {minimum}.")
        values.append(value)
    return values


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or default
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(schemes)
        raise ImproperlyConfigured(f"{name}={raw!r} must be a URL with one of the schemes: {allowed}.")
    return raw


def env_database(name: str, default: str) -> dict:
    url = env_url(name, default, schemes=("sqlite", "postgres", "postgresql", "pgsql"))
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises a mix of types for malformed URLs
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
    return config
