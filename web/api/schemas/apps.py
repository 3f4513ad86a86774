"""Request and answer bodies of platform accounts, apps and their configuration."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

from releases.app_services import SUPPRESSION_MAX_DAYS
from releases.checks import REGISTRY
from web.api.schemas.common import (
    HTTP_URL,
    NO_NUL,
    SOME_TEXT,
    SPACE,
    JsonObject,
    SomeText,
    Strict,
    checked_text,
    text,
)
from web.api.schemas.fleet import TagName

# The service strips the name and refuses it blank (releases.onboarding): the document says so.
ACCOUNT_NAME = {"pattern": SOME_TEXT}


class ManualAccountIn(Strict):
    platform: Literal["manual"]
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL, json_schema_extra=ACCOUNT_NAME)
    team: int | None = None
    component_appid: str = text(64)
    component_appsecret: str = text(256)
    message_token: str = text(128)
    encoding_aes_key: str = text(64)


class WechatAccountIn(Strict):
    """A WeChat third-party platform: all four credentials of its console are required."""

    platform: Literal["wechat"]
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL, json_schema_extra=ACCOUNT_NAME)
    team: int | None = None
    component_appid: str = Field(min_length=1, max_length=64, pattern=SOME_TEXT)
    component_appsecret: str = Field(min_length=1, max_length=256, pattern=SOME_TEXT)
    message_token: str = Field(min_length=1, max_length=128, pattern=SOME_TEXT)
    encoding_aes_key: str = Field(
        min_length=43, max_length=43, pattern=SOME_TEXT, description="WeChat's EncodingAESKey."
    )


class DouyinAccountIn(Strict):
    """A Douyin third-party mini-program app (服务商, 代开发): its appid and secret, and the push
    token (消息验证 TOKEN) and key (消息加密解密 KEY) of its console's 开发配置."""

    platform: Literal["douyin"]
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL, json_schema_extra=ACCOUNT_NAME)
    team: int | None = None
    component_appid: str = Field(min_length=1, max_length=64, pattern=SOME_TEXT)
    component_appsecret: str = Field(min_length=1, max_length=256, pattern=SOME_TEXT)
    message_token: str = Field(min_length=1, max_length=128, pattern=SOME_TEXT)
    encoding_aes_key: str = Field(
        min_length=43, max_length=43, pattern=SOME_TEXT, description="Douyin's 消息加密解密 KEY."
    )


PlatformAccountIn = Annotated[
    WechatAccountIn | DouyinAccountIn | ManualAccountIn, Field(discriminator="platform")
]


class CallbackUrls(Schema):
    authorization: str
    messages: str


class PlatformAccountOut(Schema):
    id: int
    team: int
    platform: str
    name: str
    component_appid: str
    secrets_set: dict[str, bool]
    callback_urls: CallbackUrls | None
    created_at: datetime


class AppIn(Strict):
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL, json_schema_extra={"pattern": SOME_TEXT})
    appid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    platform_account: int
    authorizer_refresh_token: str = text(512)
    privacy_policy_url: str = Field("", max_length=200, pattern=r"^(https?://[^\x00]*)?$")
    repository_url: str = Field("", max_length=300, pattern=r"^(https?://[^\x00]*)?$")
    categories: list[SomeText] = Field(default_factory=list, max_length=20)
    settings: JsonObject = Field(default_factory=dict)


class ChecklistItem(Schema):
    key: str
    label: str


class AppOut(Schema):
    id: int
    team: int
    name: str
    appid: str
    platform_account: int
    platform: str
    authorizer_refresh_token_set: bool
    privacy_policy_url: str
    repository_url: str
    categories: list[str]
    settings: dict[str, Any]
    checklist: list[ChecklistItem]
    required_approvals: list[str]
    tags: list[str]
    authorization_lost_at: datetime | None = Field(
        description="Set when the platform says the authorization is gone; campaigns leave the app out."
    )
    authorization_problem: str
    created_at: datetime


class AppPatch(Strict):
    privacy_policy_url: str | None = Field(
        None, max_length=200, pattern=NO_NUL, json_schema_extra={"pattern": HTTP_URL}
    )
    repository_url: str | None = Field(
        None,
        max_length=300,
        pattern=NO_NUL,
        json_schema_extra={"pattern": HTTP_URL},
        description="Where the code lives; a release's commit links to {repository_url}/commit/{sha}.",
    )
    categories: list[SomeText] | None = Field(None, max_length=20)
    tags: list[TagName] | None = Field(
        None, max_length=20, description="Replaces the app's tags; each 1 to 64 characters, no commas."
    )


class SuppressionIn(Strict):
    key: str = checked_text(64, pattern=NO_NUL, json_schema_extra={"enum": sorted(REGISTRY)})
    reason: str = checked_text(2000)
    expires_on: date = Field(
        description=f"Inclusive; from today to {SUPPRESSION_MAX_DAYS} days ahead (Beijing time)."
    )


class SuppressionOut(Schema):
    id: int
    key: str
    title: str
    reason: str
    expires_on: date
    created_by: str
    created_at: datetime
    active: bool
    removed_by: str | None
    removed_at: datetime | None


class QualificationIn(Strict):
    kind: Literal["business_licence", "category_permit"]
    name: str = text(120)
    number: str = checked_text(64)
    expires_on: date | None = None


class QualificationOut(Schema):
    id: int
    kind: str
    name: str
    number: str
    expires_on: date | None
    problem: str | None
    created_by: str
    created_at: datetime


class ChecklistItemIn(Strict):
    key: str = checked_text(
        pattern=rf"^[{SPACE}]*([a-z][a-z0-9_]{{0,47}})?[{SPACE}]*$",
        required=False,
        json_schema_extra={"not": {"enum": sorted(REGISTRY)}},
        description="Unique in the list, and not the key of an automated check; omit to derive it.",
    )
    label: str = checked_text(200)


class ChecklistIn(Strict):
    items: list[ChecklistItemIn] = Field(max_length=30)


class ChecklistOut(Schema):
    items: list[ChecklistItem]


class ApprovalPolicyIn(Strict):
    required: list[Literal["release_manager", "qa", "product"]]


class ApprovalPolicyOut(Schema):
    required: list[str]
    approvers: dict[str, list[str]]


class CapacitiesIn(Strict):
    capacities: list[Literal["qa", "product"]]


class MemberOut(Schema):
    username: str
    role: str
    capacities: list[str]


class CheckDefinitionOut(Schema):
    key: str
    title: str
    severity: str
    platforms: list[str]
    slow: bool
    explanation: str
