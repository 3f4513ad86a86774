"""Request and answer bodies of platform accounts, apps and their configuration."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, field_validator

from web.api.schemas.common import Strict


class PlatformAccountIn(Strict):
    platform: Literal["wechat", "manual"]
    name: str = Field(min_length=1, max_length=120)
    team: int | None = None
    component_appid: str = Field("", max_length=64)
    component_appsecret: str = Field("", max_length=256)
    message_token: str = Field("", max_length=128)
    encoding_aes_key: str = Field("", max_length=64)


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
    name: str = Field(min_length=1, max_length=120)
    appid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    platform_account: int
    authorizer_refresh_token: str = Field("", max_length=512)
    privacy_policy_url: str = Field("", max_length=200)
    categories: list[str] = Field(default_factory=list, max_length=20)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("privacy_policy_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


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
    categories: list[str]
    settings: dict[str, Any]
    checklist: list[ChecklistItem]
    required_approvals: list[str]
    created_at: datetime


class AppPatch(Strict):
    privacy_policy_url: str | None = Field(None, max_length=200)
    categories: list[str] | None = Field(None, max_length=20)


class SuppressionIn(Strict):
    key: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date


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
    name: str = Field("", max_length=120)
    number: str = Field(min_length=1, max_length=64)
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
    key: str = Field("", max_length=48)
    label: str = Field(min_length=1, max_length=200)


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
