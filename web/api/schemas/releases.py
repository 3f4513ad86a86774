"""Request and answer bodies of releases: the full representation, its list row and its parts."""

import copy
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from releases.checks.build_report import STRING_LISTS
from web.api.schemas.common import NO_NUL, SPACE, JsonValue, Strict, Text, checked_text, no_nul_keys, text

# Semantic versioning 2.0.0 with ASCII digits, around spaces the service strips (releases.versioning).
SEMVER = (
    rf"^[{SPACE}]*(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    rf"(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?[{SPACE}]*$"
)
STRINGS = {"type": "array", "items": {"type": "string", "pattern": NO_NUL}}
# The fields CI may send, as releases/checks/build_report.py checks them (`invalid_build_report`).
BUILD_REPORT = {
    "description": "What CI knows about the build; other keys are kept.",
    "properties": {
        "packages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "pattern": NO_NUL},
                    "size": {"type": "integer", "minimum": 0, "description": "Bytes."},
                },
                "required": ["name", "size"],
                "propertyNames": {"pattern": NO_NUL},
            },
        },
        **{key: STRINGS for key in STRING_LISTS},
        "first_screen_ms": {"type": ["number", "null"], "minimum": 0},
        "error_monitoring": {"anyOf": [{"type": "string", "pattern": NO_NUL}, {"type": "null"}]},
    },
}


def _build_report_schema(schema: dict) -> None:
    no_nul_keys(schema)
    schema.update(copy.deepcopy(BUILD_REPORT))
    # A package's other keys hold any JSON value, as the report's own other keys do.
    schema["properties"]["packages"]["items"]["additionalProperties"] = dict(schema["additionalProperties"])


BuildReport = Annotated[dict[Text, JsonValue], Field(json_schema_extra=_build_report_schema)]


class ReleaseIn(Strict):
    version: str = Field(min_length=1, max_length=64, pattern=NO_NUL, json_schema_extra={"pattern": SEMVER})
    release_notes: str = text(10_000)
    review_notes: str = text(10_000)
    build_report: BuildReport = Field(default_factory=dict)
    target_date: date | None = Field(None, description="When the team plans to ship it (the calendar).")
    template_id: str = Field(
        "",
        max_length=64,
        pattern=NO_NUL,
        description="A template of the platform account's library: the code this release ships, "
        "uploaded before submitting (third-party platforms).",
    )
    ext_json: dict[Text, JsonValue] = Field(
        default_factory=dict, description="The app's ext.json uploaded with the template."
    )


class ReleasePatch(Strict):
    # The revision the edit is based on (from GET /releases/{id}); another one is a 409 stale_revision.
    revision: int = Field(ge=1)
    version: str | None = Field(
        None, min_length=1, max_length=64, pattern=NO_NUL, json_schema_extra={"pattern": SEMVER}
    )
    release_notes: str | None = text(10_000, default=None)
    review_notes: str | None = text(10_000, default=None)
    build_report: BuildReport | None = None
    target_date: date | None = Field(
        None, description="When the team plans to ship it; a plan, voids nothing."
    )
    template_id: str | None = Field(None, max_length=64, pattern=NO_NUL)
    ext_json: dict[Text, JsonValue] | None = None


class ActionOut(Schema):
    name: str
    enabled: bool
    reason: str


class CheckOut(Schema):
    key: str
    title: str
    kind: str
    severity: str
    status: str
    message: str
    evidence: dict[str, Any]


class CheckRunOut(Schema):
    id: int
    revision: int
    pending: int
    passed: bool | None
    started_by: str | None
    created_at: datetime
    finished_at: datetime | None


class ApprovalOut(Schema):
    approver: str
    capacity: str
    override: bool
    revision: int
    comment: str
    created_at: datetime


class ApprovalStatusOut(Schema):
    required: list[str]
    missing: list[str]
    complete: bool
    current: list[ApprovalOut]


class RejectionItemOut(Schema):
    text: str
    category: str
    title: str
    details: list[str]


class RejectionOut(Schema):
    reason: str
    items: list[RejectionItemOut]
    categories: list[str]
    screenshots: list[str]
    audit_id: str
    at: datetime


class RemediationTaskOut(Schema):
    key: str
    title: str
    description: str
    category: str
    required: bool
    done: bool
    done_by: str | None
    done_at: datetime | None
    note: str
    check: str | None
    evidence: str
    waived: bool
    waived_by: str | None
    waive_reason: str


class ReleaseCoreOut(Schema):
    """The fields a release has in every answer (filled by _common_out)."""

    id: int
    app: int
    version: str
    state: str
    revision: int
    author: str
    owner: str | None
    approved: bool
    platform_audit_id: str
    last_error: dict[str, str] | None
    rejection_reason: str
    review_delay: dict[str, Any] | None
    submitted_at: datetime | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RolloutOut(Schema):
    status: str  # scheduled, running, paused, halted, completed, reverted
    stage: int  # the live stage, 1-based (0: none yet)
    percentage: int
    next_stage_at: datetime | None
    plan: list[dict[str, int]]
    experiencer_first: bool = False
    debuger_first: bool = False
    halted_reason: str = ""


class SpeedupErrorOut(Schema):
    code: str
    message: str


class SpeedupOut(Schema):
    state: str  # requesting (the platform call in flight), requested, failed
    error: SpeedupErrorOut | None = None


class BuildSourceOut(Schema):
    commit: str
    branch: str
    ci_url: str


class ReleaseOut(ReleaseCoreOut):
    release_notes: str
    review_notes: str
    build_report: dict[str, Any]
    # Where the code came from, when CI posted it (POST /apps/{id}/builds); null otherwise.
    build: BuildSourceOut | None = None
    template_id: str = ""
    ext_json: dict[str, Any] = {}
    checks: list[CheckOut]
    check_run: CheckRunOut | None
    approvals: ApprovalStatusOut
    actions: list[ActionOut]
    rollout: RolloutOut | None = None
    # The last speed-up of this review (POST /releases/{id}/speedup); null if none was asked for.
    speedup: SpeedupOut | None = None
    rejection: RejectionOut | None = None
    remediation: list[RemediationTaskOut] = []


class ReleaseSummaryOut(ReleaseCoreOut):
    """One row of an app's release list: the release itself, without the checks, approvals and
    actions of GET /releases/{id} (which cost several queries each)."""

    url: str


class ReleasePageOut(Schema):
    results: list[ReleaseSummaryOut]
    next: str | None = None


class EventOut(Schema):
    id: int
    at: datetime
    actor: str | None
    action: str
    from_state: str
    to_state: str
    data: dict[str, Any]


class ActionIn(Schema):
    """What each action takes is in the description of POST /releases/{id}/{action}."""

    comment: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000})
    outcome: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000})
    reason: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000})
    capacity: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000})
    # approve, override-approval: the revision the approver read; another one is a 409 stale_revision.
    revision: int | None = Field(None, ge=1)
    # publish: a rollout plan overriding the app's default, a list of stages or {plan, experiencer_first,
    # debuger_first}; e.g. [{"percentage": 5, "hold_minutes": 120}, {"percentage": 100}].
    rollout: JsonValue | None = None
    # publish, schedule-publish outside the publish window: a team admin's reason (audited).
    override_reason: str = checked_text(
        pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000}
    )
    # schedule-publish: an ISO-8601 moment (Beijing time without an offset) or "next window".
    at: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 64})
    # rollback: one of the platform's five most recent versions (its app_version); default the previous.
    app_version: int | None = Field(None, ge=1)
