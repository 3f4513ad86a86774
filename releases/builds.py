"""A build as CI already describes it, turned into the release's build report (issue 15).

CI posts what its tools print: miniprogram-ci's upload (or preview) result, whose
`subPackageInfo` lists every package with its size in bytes (`__FULL__` the whole code,
`__APP__` the main package, `/root/` each subpackage), and the project's `app.json` (pages,
`subPackages`, `permission`, `requiredPrivateInfos`, `plugins`). Nobody types the build report by
hand any more: `derive_build_report` reads both and returns the report the checks read, or
raises `Invalid("invalid_build", ...)` whose details name every malformed field by its path
(`app_json.pages[2]`), so a pipeline's author sees exactly what to fix. Keys the checks do not
read are ignored here (app.json has dozens); a known key of the wrong shape is an error, never
a silent skip: a permission dropped on the way would let the privacy check pass a build that
reads the location.

Pure: no database, no HTTP.
"""

import re
from typing import Any

from django.utils.translation import gettext_noop

from releases.errors import Invalid

# A git object name: SHA-1 (40) or SHA-256 (64) hex, or an abbreviation of at least 7.
COMMIT_PATTERN = r"^[0-9a-fA-F]{7,64}$"
COMMIT = re.compile(COMMIT_PATTERN)
# The characters str.strip() removes, spelled out so JSON Schema readers (the API document states
# this pattern) and Python agree on what a space is; no quotes or angle brackets either.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
URL_PATTERN = rf"^[hH][tT][tT][pP][sS]?://[^{_SPACE}<>\"'\x00]+$"
URL = re.compile(URL_PATTERN)


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)


def _is_size(value: Any) -> bool:
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return whole and not isinstance(value, bool) and value >= 0


def _strings(value: Any, path: str, errors: _Errors) -> list[str]:
    if not isinstance(value, list):
        errors.add(path, "must be a list of strings.")
        return []
    good = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item.strip() and "\x00" not in item:
            good.append(item.strip())
        else:
            errors.add(f"{path}[{i}]", "must be a non-empty string.")
    return good


def _packages(result: Any, errors: _Errors) -> list[dict]:
    """miniprogram-ci's `subPackageInfo`: [{"name": "__FULL__" | "__APP__" | "/root/", "size": bytes}]."""
    if not isinstance(result, dict):
        errors.add("miniprogram_ci", "must be miniprogram-ci's upload result, an object.")
        return []
    info = result.get("subPackageInfo")
    if info is None:
        errors.add("miniprogram_ci.subPackageInfo", "is missing; miniprogram-ci's upload result has it.")
        return []
    if not isinstance(info, list):
        errors.add("miniprogram_ci.subPackageInfo", 'must be a list of {"name", "size"}.')
        return []
    packages = []
    for i, item in enumerate(info):
        path = f"miniprogram_ci.subPackageInfo[{i}]"
        if not isinstance(item, dict):
            errors.add(path, 'must be an object {"name": string, "size": bytes}.')
            continue
        name, size = item.get("name"), item.get("size")
        if not isinstance(name, str) or not name.strip():
            errors.add(f"{path}.name", "must be a non-empty string.")
        elif not _is_size(size):
            errors.add(f"{path}.size", "must be a whole number of bytes >= 0.")
        else:
            packages.append({"name": name, "size": int(size)})
    return packages


def _plugins(result: Any, app_json: dict, errors: _Errors) -> list[str]:
    """Plugins as "provider@version": from app.json's `plugins` (and its subpackages'), and
    from miniprogram-ci's `pluginInfo` when the upload reports it."""
    found = []

    def from_app_json(plugins: Any, path: str) -> None:
        if not isinstance(plugins, dict):
            errors.add(path, 'must be an object {"alias": {"provider", "version"}}.')
            return
        for alias, plugin in plugins.items():
            if not isinstance(plugin, dict) or not isinstance(plugin.get("provider"), str):
                errors.add(f"{path}.{alias}", 'must be an object with a "provider" string.')
                continue
            found.append(f"{plugin['provider']}@{plugin.get('version', '')}".rstrip("@"))

    if "plugins" in app_json:
        from_app_json(app_json["plugins"], "app_json.plugins")
    for key in ("subPackages", "subpackages"):
        subs = app_json.get(key)
        for i, sub in enumerate(subs if isinstance(subs, list) else []):
            if isinstance(sub, dict) and "plugins" in sub:
                from_app_json(sub["plugins"], f"app_json.{key}[{i}].plugins")
    info = result.get("pluginInfo") if isinstance(result, dict) else None
    if isinstance(info, list):
        for plugin in info:
            if isinstance(plugin, dict) and isinstance(plugin.get("pluginProvider"), str):
                found.append(f"{plugin['pluginProvider']}@{plugin.get('version', '')}".rstrip("@"))
    return sorted(set(found))


def _pages(app_json: dict, errors: _Errors) -> tuple[list[str], list[str]]:
    pages = _strings(app_json.get("pages", []), "app_json.pages", errors)
    roots = []
    for key in ("subPackages", "subpackages"):
        subs = app_json.get(key, [])
        if not isinstance(subs, list):
            errors.add(f"app_json.{key}", 'must be a list of {"root", "pages"}.')
            continue
        for i, sub in enumerate(subs):
            path = f"app_json.{key}[{i}]"
            if not isinstance(sub, dict) or not isinstance(sub.get("root"), str) or not sub["root"].strip():
                errors.add(f"{path}.root", "must be the subpackage's root directory, a non-empty string.")
                continue
            root = sub["root"].strip().strip("/")
            roots.append(root)
            sub_pages = _strings(sub.get("pages", []), f"{path}.pages", errors)
            pages += [f"{root}/{page.lstrip('/')}" for page in sub_pages]
    return pages, roots


def _permissions(app_json: dict, errors: _Errors) -> list[str]:
    """The scopes of `permission` (e.g. scope.userLocation, with the reason users are shown) and
    the location APIs of `requiredPrivateInfos` (e.g. getLocation): what the privacy check reads."""
    found = []
    permission = app_json.get("permission", {})
    if not isinstance(permission, dict):
        errors.add("app_json.permission", 'must be an object {"scope.xxx": {"desc": string}}.')
    else:
        for scope, spec in permission.items():
            if not isinstance(spec, dict):
                errors.add(f"app_json.permission.{scope}", 'must be an object {"desc": string}.')
            else:
                found.append(scope)
    found += _strings(app_json.get("requiredPrivateInfos", []), "app_json.requiredPrivateInfos", errors)
    return found


def derive_build_report(miniprogram_ci: Any, app_json: Any, *, keep: dict | None = None) -> dict:
    """The build report of a CI build; `keep` holds report fields CI sent besides (e.g.
    `first_screen_ms` from a performance run), which the derived fields override."""
    errors = _Errors()
    report = dict(keep or {})
    if miniprogram_ci is not None:
        report["packages"] = _packages(miniprogram_ci, errors)
    if app_json is not None:
        if not isinstance(app_json, dict):
            errors.add("app_json", "must be the project's app.json, an object.")
        else:
            report["pages"], report["subpackages"] = _pages(app_json, errors)
            report["permissions"] = _permissions(app_json, errors)
            report["plugins"] = _plugins(miniprogram_ci, app_json, errors)
    if errors:
        raise Invalid(
            "invalid_build",
            gettext_noop("The build has malformed fields: %(fields)s.") % {"fields": ", ".join(errors)},
            details=dict(errors),
        )
    return report


def validate_build_source(*, commit: str, branch: str, ci_url: str) -> dict[str, str]:
    """Where the build came from, checked: {field: message} for each malformed one."""
    errors = {}
    if commit and not COMMIT.match(commit):
        errors["commit"] = "must be a git commit hash (7 to 64 hexadecimal characters)."
    if branch and (len(branch) > 255 or any(c in branch for c in "\x00\n\r")):
        errors["branch"] = "must be a branch name of at most 255 characters on one line."
    if ci_url and (len(ci_url) > 500 or not URL.match(ci_url)):
        errors["ci_url"] = "must be an http(s) URL of at most 500 characters."
    return errors
