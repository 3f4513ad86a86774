"""Per-app text from a campaign's templates: `{{ name }}` placeholders, nothing else.

The ext.json template is a JSON value; each of its strings is rendered on its own, so a value can
never break out of its string into the structure. A string that is exactly one placeholder takes
the variable's value as it is (a number, a list, an object); inside longer text, the value is
written as text. No expression is evaluated, no attribute looked up: a name is looked up in the
app's variables and that is all. An unknown name, or a variable that is not JSON, is an error for
that app alone (RenderError), so one bad row never stops the campaign.
"""

import re

from django.utils.translation import gettext_noop

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
WHOLE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")


class RenderError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def builtins(app) -> dict:
    """Variables every app has: its appid and name (the merchant's name unless given)."""
    return {"appid": app.appid, "app_name": app.name, "merchant_name": app.name}


def variables_for(app, given: dict) -> dict:
    own = given.get(app.appid) if isinstance(given, dict) else None
    return {**builtins(app), **(own if isinstance(own, dict) else {})}


def _text(value) -> str:
    if isinstance(value, (dict, list)):
        raise RenderError(
            gettext_noop("a list or object can only fill a value of its own, not part of a text")
        )
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_text(template: str, variables: dict) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in variables:
            raise RenderError(gettext_noop("no variable “%(name)s” for this app") % {"name": name})
        try:
            return _text(variables[name])
        except RenderError as exc:
            raise RenderError(
                gettext_noop("“%(name)s”: %(error)s") % {"name": name, "error": exc.message}
            ) from None

    return PLACEHOLDER.sub(one, template or "")


def render_json(template, variables: dict):
    """The template with every string rendered; keys are rendered as text too."""
    if isinstance(template, str):
        whole = WHOLE.match(template)
        if whole:
            name = whole.group(1)
            if name not in variables:
                raise RenderError(gettext_noop("no variable “%(name)s” for this app") % {"name": name})
            return variables[name]
        return render_text(template, variables)
    if isinstance(template, list):
        return [render_json(item, variables) for item in template]
    if isinstance(template, dict):
        return {render_text(str(k), variables): render_json(v, variables) for k, v in template.items()}
    return template


def placeholders(*templates) -> set[str]:
    """Every name the templates use (for the create form's hint and a dry run)."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            found.update(PLACEHOLDER.findall(value))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(str(key))
                walk(item)

    for template in templates:
        walk(template)
    return found
