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


class Category(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    first: str = ""
    second: str = ""


class MiniProgramInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    categories: list[Category] = []


class AuthorizerProfile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # The original ID (原始ID, gh_...): audit pushes name their mini program by it (ToUserName).
    user_name: str = Field(min_length=1)
    nick_name: str = ""
    principal_name: str = ""
    account_status: int | None = None
    mini_program_info: MiniProgramInfo | None = Field(default=None, alias="MiniProgramInfo")


class FuncScope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int


class FuncInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    funcscope_category: FuncScope


class AuthorizationInfo(BaseModel):
    """authorization_info of api_query_auth and api_get_authorizer_info (wechat-fleet.md §1.5)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    authorizer_appid: str = Field(min_length=1)
    authorizer_refresh_token: str = ""
    func_info: list[FuncInfo] = []

    @property
    def permission_sets(self) -> list[int]:
        return sorted({f.funcscope_category.id for f in self.func_info})


class AuthorizerInfo(Answer):
    """api_get_authorizer_info (wechat-fleet.md §1.6); only what Sluice uses is required."""

    authorizer_info: AuthorizerProfile
    authorization_info: AuthorizationInfo | None = None


class QueryAuth(Answer):
    authorization_info: AuthorizationInfo


class PreAuthCode(Answer):
    pre_auth_code: str = Field(min_length=1)
    expires_in: int = Field(gt=0)


class AuthorizerListItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    authorizer_appid: str = Field(min_length=1)
    refresh_token: str = ""  # reported missing at times (wechat-fleet.md §1.7)
    auth_time: int | None = None


class AuthorizerList(Answer):
    total_count: int = Field(ge=0)
    authorizers: list[AuthorizerListItem] = Field(default=[], alias="list")


class TemplateEntry(BaseModel):
    """A draft (gettemplatedraftlist) or a template (gettemplatelist): the fields they share."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    create_time: int | None = None
    user_version: str = ""
    user_desc: str = ""
    draft_id: int | None = None
    template_id: int | None = None
    source_miniprogram_appid: str = ""
    source_miniprogram: str = ""
    developer: str = ""
    template_type: int = 0


class TemplateDrafts(Answer):
    draft_list: list[TemplateEntry] = []


class Templates(Answer):
    template_list: list[TemplateEntry] = []


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
