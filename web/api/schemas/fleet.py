"""Request and answer bodies of fleets (issue 14): authorization links, the authorizer import,
the template library and app tags."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from web.api.schemas.common import NO_NUL, Strict


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


class AppTagsFilter(Strict):
    tag: str | None = Field(None, max_length=64, pattern=NO_NUL, description="Apps carrying this tag.")
    platform_account: int | None = None
    all: bool = Field(False, description="Every app of the team.")


class AppTagsIn(Strict):
    """Add and remove tags on many apps of one team: by ids (`apps`) or by `filter`."""

    team: int | None = Field(None, description="Required when you are in several teams.")
    apps: list[int] | None = Field(None, max_length=10000)
    filter: AppTagsFilter | None = None
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class AppTagsOut(Schema):
    matched: int = Field(description="Apps the ids or the filter selected.")
    changed: int = Field(description="Apps whose tags changed.")
