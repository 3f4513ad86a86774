"""WeChat errcodes as named errors with a sentence a release manager can act on.

Every failed call becomes one `WeChatError` (a `PlatformError`): transient ones are raised
so the RQ job retries with backoff; permanent ones land on the release (`code` is
`wechat_<errcode>`) and are shown as they are written here. Codes and meanings follow
../shared/domain/platform-apis.md §1.4, §2 and §4.
"""

from dataclasses import dataclass

from releases.platforms import PlatformError


@dataclass(frozen=True)
class Errcode:
    name: str
    sentence: str
    permanent: bool = True


# Refresh the token once and retry the call (what wechatpy does too).
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})

ERRCODES: dict[int, Errcode] = {
    # Transient: WeChat is busy or rate-limiting; the same call later may succeed.
    -1: Errcode("system_busy", "WeChat is busy (errcode -1); the call will be retried.", False),
    45009: Errcode(
        "api_quota", "WeChat's daily API call limit was reached; the call will be retried.", False
    ),
    9402202: Errcode(
        "concurrent_limit", "WeChat refused concurrent submissions; the call will be retried.", False
    ),
    61039: Errcode(
        "privacy_check_running",
        "WeChat's privacy-interface check of the uploaded code has not finished; the call will be retried.",
        False,
    ),
    89401: Errcode("speedup_unstable", "WeChat's speed-up service is unstable; try again later.", False),
    # Tokens and authorization.
    40001: Errcode(
        "invalid_credential",
        "WeChat refused the credentials: the component appsecret is wrong or the access token is invalid.",
    ),
    40014: Errcode("invalid_access_token", "WeChat refused the access token even after a refresh."),
    42001: Errcode("access_token_expired", "WeChat says the access token expired even after a refresh."),
    41001: Errcode("access_token_missing", "The call reached WeChat without an access token."),
    40125: Errcode("invalid_appsecret", "The component appsecret of this platform account is wrong."),
    61004: Errcode(
        "ip_not_whitelisted",
        "This server's IP address is not on the platform account's API whitelist "
        "in the WeChat Open Platform.",
    ),
    61005: Errcode(
        "ticket_expired",
        "The component_verify_ticket has expired: WeChat has not pushed a fresh one "
        "(check the callback URL).",
    ),
    61006: Errcode(
        "ticket_invalid",
        "WeChat says the component_verify_ticket is invalid "
        "(check the platform account's appid and secrets).",
    ),
    61007: Errcode(
        "api_unauthorized",
        "The mini program has not granted this API's permission set to the platform account; "
        "ask its administrator to re-authorize with code management enabled.",
    ),
    61023: Errcode(
        "refresh_token_invalid",
        "The app's authorizer refresh token is no longer valid: "
        "the mini program must authorize the platform again.",
    ),
    # The template library (wechat-fleet.md §2).
    85064: Errcode("template_not_found", "WeChat has no such draft or template (errcode 85064)."),
    85065: Errcode(
        "template_library_full",
        "The template library is full (200 templates): delete old templates first (errcode 85065).",
    ),
    85014: Errcode("invalid_template", "WeChat has no template with this id (errcode 85014)."),
    # Request shape.
    44002: Errcode(
        "empty_post_data", "WeChat received an empty request body where it requires one (at least {})."
    ),
    47001: Errcode("data_format_error", "WeChat could not parse the request body (data format error)."),
    40097: Errcode("invalid_args", "WeChat refused the arguments of the call."),
    # Submitting.
    61040: Errcode(
        "privacy_api_unauthorized",
        "The code uses privacy interfaces that are not authorized or declared; "
        "declare them and upload again.",
    ),
    85006: Errcode("invalid_tag", "WeChat refused the review item tags."),
    85007: Errcode("invalid_page", "A page path in the review items does not exist."),
    85008: Errcode("invalid_category", "The mini program has no approved category to submit under."),
    85009: Errcode(
        "already_in_review",
        "A version of this mini program is already under review on WeChat; "
        "withdraw it or wait for the decision.",
    ),
    85010: Errcode("empty_item", "A review item is empty."),
    85011: Errcode("invalid_title", "A review item title is invalid."),
    85012: Errcode("invalid_audit_id", "WeChat does not know this audit id."),
    85023: Errcode("item_count", "The review items must number 1 to 5."),
    85051: Errcode(
        "data_too_large", "The review notes (version_desc) or preview material are too long for WeChat."
    ),
    85058: Errcode("no_audit", "WeChat holds no submission for this mini program."),
    85077: Errcode(
        "category_withdrawn", "A category of the mini program was withdrawn by WeChat; update the categories."
    ),
    85085: Errcode(
        "submit_quota_spent",
        "The platform account's monthly review quota is spent (shared by all its mini programs); "
        "ask for more quota in 小程序服务商助手 or wait for next month.",
    ),
    85086: Errcode(
        "not_committed", "No code has been uploaded (committed) for this mini program yet; upload it first."
    ),
    85087: Errcode("navigate_appids", "navigateToMiniProgram is used; declare the target appid list."),
    85092: Errcode("preview_info_format", "The preview material (preview_info) has the wrong format."),
    85093: Errcode("preview_info_count", "Too many preview pictures or videos."),
    85094: Errcode(
        "ugc_declare_required", "This category needs a UGC declaration (ugc_declare) on submission."
    ),
    86000: Errcode("third_party_only", "This call must come from the third-party platform."),
    86001: Errcode(
        "no_trial_version", "The platform has uploaded no code (trial version) for this mini program."
    ),
    86002: Errcode(
        "init_incomplete",
        "The mini program has not completed its set-up: set its name, avatar and description first.",
    ),
    86007: Errcode("submission_forbidden", "WeChat forbids submissions of this mini program."),
    86008: Errcode(
        "provider_penalised", "WeChat has restricted all code submissions of this platform account."
    ),
    86009: Errcode(
        "provider_new_restricted", "WeChat has restricted first submissions through this platform account."
    ),
    86010: Errcode(
        "provider_update_restricted",
        "WeChat has restricted update submissions through this platform account.",
    ),
    87006: Errcode("game_forbidden", "Mini games cannot be submitted through this API."),
    9400001: Errcode(
        "live_streaming", "Mini programs with live-streaming enabled cannot release versions this way."
    ),
    # Withdrawing.
    87013: Errcode(
        "undo_quota_spent",
        "WeChat allows at most 5 withdrawals a day and 10 a month per mini program; that limit is reached.",
    ),
    # Releasing.
    85019: Errcode("nothing_in_review", "WeChat holds no reviewed version to release."),
    85020: Errcode("not_approved", "WeChat has not approved the version, so it cannot be released."),
    85052: Errcode("already_released", "This version is already released on WeChat."),
    # Phased release and rollback.
    85079: Errcode("no_online_release", "The mini program has no released version yet."),
    85080: Errcode("commit_not_approved", "The uploaded code has not been approved."),
    85081: Errcode(
        "invalid_gray_percentage", "The phased-release percentage must be a whole number from 0 to 100."
    ),
    85082: Errcode(
        "gray_percentage_too_low",
        "A phased release can only grow: the new percentage must be higher than the current one.",
    ),
    87011: Errcode(
        "gray_release_running",
        "A phased release is in progress, so WeChat cannot roll back; cancel the phased release first.",
    ),
    87012: Errcode(
        "cannot_roll_back",
        "WeChat cannot roll this version back (no earlier online version, or it was already rolled back).",
    ),
    # Speed-up.
    89402: Errcode("speedup_not_queued", "The submission is not waiting in WeChat's review queue."),
    89403: Errcode("speedup_unsupported", "WeChat does not speed up this kind of submission."),
    89404: Errcode("speedup_already", "This submission was already sped up."),
    89405: Errcode("speedup_quota_spent", "The platform account's speed-up quota for this month is spent."),
}


class WeChatError(PlatformError):
    """One failed WeChat call. `errcode` is None for network and HTTP failures."""

    def __init__(
        self, message: str, *, errcode: int | None = None, errmsg: str = "", name: str = "", permanent: bool
    ) -> None:
        code = f"wechat_{errcode}" if errcode is not None else f"wechat_{name or 'error'}"
        super().__init__(message, code=code, permanent=permanent)
        self.errcode = errcode
        self.errmsg = errmsg
        self.name = name

    @property
    def is_token_error(self) -> bool:
        return self.errcode in TOKEN_ERRCODES


def error_for(errcode: int, errmsg: str = "", *, api: str = "") -> WeChatError:
    """The named error for an errcode; an unknown code is permanent and quotes WeChat's own text."""
    known = ERRCODES.get(errcode)
    if known is None:
        where = f" {api}" if api else ""
        return WeChatError(
            f"WeChat refused{where} with errcode {errcode}: {errmsg or 'no message'}.",
            errcode=errcode,
            errmsg=errmsg,
            name="unknown",
            permanent=True,
        )
    return WeChatError(
        known.sentence, errcode=errcode, errmsg=errmsg, name=known.name, permanent=known.permanent
    )


def transient(name: str, message: str) -> WeChatError:
    """A failure outside WeChat's errcodes (timeout, connection, 5xx, malformed answer): retry."""
    return WeChatError(message, name=name, permanent=False)
