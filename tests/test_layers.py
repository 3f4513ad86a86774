"""The layers that import-linter cannot see: the domain imports no HTTP, URL, view or template
machinery of Django (import-linter's contracts cover packages, not Django's own subpackages), and
no dotted-path hook remains in settings but the platform adapter registry."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
WEB_ONLY = ("django.http", "django.shortcuts", "django.urls", "django.template", "django.views", "ninja")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_the_domain_imports_nothing_of_the_web():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "releases").rglob("*.py"))
        if "migrations" not in path.parts
        for name in _imports(path)
        if name.startswith(WEB_ONLY)
    ]
    assert offenders == []


def test_the_only_dotted_path_setting_is_the_adapter_registry():
    hooks = [
        name
        for name in dir(settings)
        if name.startswith("SLUICE_")
        and isinstance(getattr(settings, name), str | dict)
        and any(
            "." in str(v) and str(v).split(".")[0] in {"releases", "reviews", "web"}
            for v in (
                getattr(settings, name).values()
                if isinstance(getattr(settings, name), dict)
                else [getattr(settings, name)]
            )
        )
    ]
    assert hooks == ["SLUICE_PLATFORM_ADAPTERS"]
