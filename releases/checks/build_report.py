"""The shape of the build report CI sends with a release.

`validate_build_report` is pure: it returns {field: message} for every known field with a
wrong type (empty when the report is fine). Unknown keys are allowed and kept; absent fields
are fine (the checks that need them say so).
"""

import math
from typing import Any

STRING_LISTS = ("permissions", "apis", "pages", "store_texts")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _packages_error(packages: Any) -> str | None:
    if not isinstance(packages, list):
        return 'must be a list of {"name": string, "size": bytes}.'
    for i, package in enumerate(packages):
        if not isinstance(package, dict):
            return f'item {i} must be an object {{"name": string, "size": bytes}}.'
        name, size = package.get("name"), package.get("size")
        if not isinstance(name, str) or not name:
            return f"item {i}: name must be a non-empty string."
        whole = isinstance(size, int) or (isinstance(size, float) and size.is_integer())  # JSON: 1.0 is 1
        if isinstance(size, bool) or not whole or size < 0:
            return f"item {i} ({name}): size must be a whole number of bytes >= 0."
    return None


def validate_build_report(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {"build_report": "must be an object."}
    errors: dict[str, str] = {}
    if "packages" in data and (error := _packages_error(data["packages"])):
        errors["packages"] = error
    for key in STRING_LISTS:
        if key in data:
            value = data[key]
            if not isinstance(value, list):
                errors[key] = "must be a list of strings."
            elif bad := [i for i, v in enumerate(value) if not isinstance(v, str)]:
                errors[key] = f"must be a list of strings; item {bad[0]} is not a string."
    if "first_screen_ms" in data:
        value = data["first_screen_ms"]
        if value is not None and (not _is_number(value) or value < 0):
            errors["first_screen_ms"] = "must be a number of milliseconds >= 0."
    if "error_monitoring" in data:
        value = data["error_monitoring"]
        if value is not None and not isinstance(value, str):
            errors["error_monitoring"] = "must be the monitoring tool's name (a string) or null."
    return errors
