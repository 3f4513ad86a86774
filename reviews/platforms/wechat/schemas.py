"""The shape of every WeChat answer, validated at the boundary (platform-apis.md §1–§3).

Unknown extra fields are ignored (WeChat adds fields over time); a missing or mistyped
field we rely on fails validation, which the client turns into a transient error.
"""

from enum import IntEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class AuditStatus(IntEnum):
    APPROVED = 0
    REJECTED = 1
    IN_REVIEW = 2
    WITHDRAWN = 3
    DELAYED = 4


class Answer(BaseModel):
    """Every answer; token endpoints omit errcode on success."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    errcode: int = 0
    errmsg: str = ""


class ComponentToken(Answer):
    component_access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)


class AuthorizerToken(Answer):
    authorizer_access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    authorizer_refresh_token: str = ""


class AuthorizerProfile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # The original ID (原始ID, gh_...): audit pushes name their mini program by it (ToUserName).
    user_name: str = Field(min_length=1)
    nick_name: str = ""


class AuthorizerInfo(Answer):
    """api_get_authorizer_info (wechat-fleet.md §1.6); only what Sluice uses is required."""

    authorizer_info: AuthorizerProfile


class SubmitAudit(Answer):
    auditid: int


class AuditState(Answer):
    """get_auditstatus. `reason` is the rejection (status 1) or delay (status 4) reason."""

    status: AuditStatus
    reason: str = ""
    # The field table says `screenshot`, the official example `ScreenShot`: accept both.
    screenshot: str = Field(default="", validation_alias=AliasChoices("screenshot", "ScreenShot"))

    @property
    def screenshots(self) -> list[str]:
        return [media_id for media_id in self.screenshot.split("|") if media_id]


class LatestAuditState(AuditState):
    auditid: int
    user_version: str = ""
    user_desc: str = ""
    submit_audit_time: int | None = None


class GrayReleasePlanDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: int  # 0 initial, 1 running, 2 paused, 3 finished, 4 deleted
    create_timestamp: int | None = None
    gray_percentage: int = 0
    support_experiencer_first: bool = False
    support_debuger_first: bool = False


class GrayReleasePlan(Answer):
    gray_release_plan: GrayReleasePlanDetail


class HistoryVersion(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    app_version: int
    user_version: str = ""
    user_desc: str = ""
    commit_time: int | None = None


class HistoryVersions(Answer):
    version_list: list[HistoryVersion] = []


class Quota(Answer):
    rest: int
    limit: int
    speedup_rest: int
    speedup_limit: int


class CodePrivacyInfo(Answer):
    without_auth_list: list[str] = []
    without_conf_list: list[str] = []


class VersionInfoRelease(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    release_time: int | None = None
    release_version: str = ""
    release_desc: str = ""


class VersionInfo(Answer):
    exp_info: dict | None = None
    release_info: VersionInfoRelease | None = None
