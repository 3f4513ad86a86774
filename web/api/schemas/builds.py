"""Bodies of CI builds (issue 15): what pipelines post, in the formats their tools print."""

from ninja import Schema
from pydantic import Field

from releases.builds import COMMIT_PATTERN, URL_PATTERN
from web.api.schemas.common import NO_NUL, SOME_TEXT, JsonObject, Strict, checked_text, text
from web.api.schemas.releases import SEMVER, BuildReport, ReleaseOut

# What releases/builds.py reads of each, stated exactly (a schema-valid build is never refused).
_TEXT = {"type": "string", "pattern": SOME_TEXT}
_TEXTS = {"type": "array", "items": _TEXT}
_PLUGINS = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["provider"],
        "properties": {"provider": {"type": "string"}},
    },
}
_SUBPACKAGES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["root"],
        "properties": {"root": _TEXT, "pages": _TEXTS, "plugins": _PLUGINS},
    },
}
MINIPROGRAM_CI = {
    "description": (
        "miniprogram-ci's upload (or preview) result as it prints it: `subPackageInfo` lists every "
        'package as {"name", "size"} in bytes (`__FULL__` the whole code, `__APP__` the main package, '
        "`/root/` a subpackage); `pluginInfo`, when present, names the plugins."
    ),
    "required": ["subPackageInfo"],
    "properties": {
        "subPackageInfo": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "size"],
                "properties": {"name": _TEXT, "size": {"type": "integer", "minimum": 0}},
            },
        }
    },
    "example": {
        "subPackageInfo": [
            {"name": "__FULL__", "size": 1843200},
            {"name": "__APP__", "size": 1126400},
            {"name": "/packageOrder/", "size": 716800},
        ]
    },
}
APP_JSON = {
    "description": (
        "The project's app.json: `pages`, `subPackages` (root and pages), `permission` (scopes with "
        "their desc), `requiredPrivateInfos` and `plugins` make the build report; other keys are ignored."
    ),
    "properties": {
        "pages": _TEXTS,
        "subPackages": _SUBPACKAGES,
        "subpackages": _SUBPACKAGES,
        "permission": {"type": "object", "additionalProperties": {"type": "object"}},
        "requiredPrivateInfos": _TEXTS,
        "plugins": _PLUGINS,
    },
    "example": {
        "pages": ["pages/index/index", "pages/menu/menu"],
        "subPackages": [{"root": "packageOrder", "pages": ["pages/checkout/checkout"]}],
        "permission": {"scope.userLocation": {"desc": "To find the nearest shop"}},
        "requiredPrivateInfos": ["getLocation"],
    },
}


class BuildIn(Strict):
    version: str = Field(min_length=1, max_length=64, pattern=NO_NUL, json_schema_extra={"pattern": SEMVER})
    description: str = text(10_000, description="The version's description; becomes the release notes.")
    commit: str = checked_text(
        64, required=False, pattern=f"^$|{COMMIT_PATTERN}", description="The git commit built."
    )
    branch: str = Field("", max_length=255, pattern=r"^[^\x00\n\r]*$", description="The branch built.")
    ci_url: str = Field(
        "",
        max_length=500,
        pattern=NO_NUL,
        json_schema_extra={"pattern": f"^$|{URL_PATTERN}"},
        description="The CI run, an http(s) URL.",
    )
    miniprogram_ci: JsonObject | None = Field(None, json_schema_extra=MINIPROGRAM_CI)
    app_json: JsonObject | None = Field(None, json_schema_extra=APP_JSON)
    build_report: BuildReport = Field(
        default_factory=dict,
        description="Facts CI measured besides (e.g. first_screen_ms, error_monitoring); derived fields win.",
    )


class BuildOut(Schema):
    id: int
    release: ReleaseOut
