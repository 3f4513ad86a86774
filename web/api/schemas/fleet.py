"""Request and answer bodies of fleets (issue 14): authorization links, the authorizer import,
the template library and app tags."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from web.api.schemas.common import NO_NUL, SPACE, Id, Strict

# A tag as the service keeps it (releases.fleet.clean_tags): no control character or comma, and
# something besides spaces; at most 64 characters.
TAG_PATTERN = rf"^[^\x00-\x1f,]*[^\x00-\x1f,{SPACE}][^\x00-\x1f,]*$"
TagName = Annotated[str, Field(min_length=1, max_length=64, pattern=TAG_PATTERN)]


class AuthorizationLinkOut(Schema):
    pc_url: str = Field(description="Open in a desktop browser: the administrator scans its QR code.")
    mobile_url: str = Field(description="Open inside WeChat on the administrator's phone.")
    pre_auth_code: str
    expires_at: datetime = Field(description="The links work once, until then.")


class AuthorizationLinkIn(Strict):
    redirect_uri: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://[^\x00]*$",
        description="Where WeChat sends the browser afterwards; default: the account's page in Sluice.",
    )


class ImportOut(Schema):
    imported: int = Field(description="Apps created.")
    updated: int = Field(description="Apps already known, updated.")
    total: int = Field(description="Authorizers WeChat lists for the account.")


class TemplateOut(Schema):
    template_id: int
    draft_id: int | None
    user_version: str = Field(description="The template's version.")
    user_desc: str = Field(description="Its description.")
    source_miniprogram_appid: str = Field(description="The development mini program it came from.")
    source_miniprogram: str
    developer: str
    template_type: int
    created_on_platform: datetime | None
    synced_at: datetime


class DraftOut(Schema):
    draft_id: int
    user_version: str
    user_desc: str
    source_miniprogram_appid: str
    source_miniprogram: str
    developer: str
    created_on_platform: datetime | None
    synced_at: datetime


class TemplateIn(Strict):
    draft_id: int = Field(ge=0, description="A draft of the account's draft box (GET .../template-drafts).")


class SyncOut(Schema):
    drafts: int
    templates: int


class TargetApps(Strict):
    apps: list[Id] = Field(max_length=10000, description="App ids; ids of other teams match nothing.")


class TargetTags(Strict):
    tags: list[Annotated[str, Field(max_length=64, pattern=NO_NUL)]] = Field(
        min_length=1, max_length=20, description="Apps carrying any of these tags."
    )


class TargetAll(Strict):
    all: Literal[True] = Field(description="Every app of the team.")


class AppTagsIn(Strict):
    """Add and remove tags on many apps of one team, chosen like a campaign's targets."""

    team: int | None = Field(None, description="Required when you are in several teams.")
    targets: TargetApps | TargetTags | TargetAll
    add: list[TagName] = Field(default_factory=list, max_length=20)
    remove: list[TagName] = Field(default_factory=list, max_length=20)


class AppTagsOut(Schema):
    matched: int = Field(description="Apps the ids or the filter selected.")
    changed: int = Field(description="Apps whose tags changed.")
