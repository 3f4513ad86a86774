"""Douyin's error codes as named errors, each transient or permanent (douyin.md §0, §3, §5).

A failed call is one `DouyinError` (a `PlatformError`, code `douyin_<err_no>`): transient ones
are raised so the step's job retries with backoff (busy, rate limits, "retry" failures, state
conflicts a poll of `versions` settles); permanent ones land on the release with the sentence
written here. Token errors refresh the token once (reviews.platforms.douyin.tokens).
"""

from dataclasses import dataclass

from releases.platforms import PlatformError


@dataclass(frozen=True)
class Code:
    name: str
    sentence: str
    permanent: bool = True


# Refresh the token (only if no one did meanwhile), then retry once.
TOKEN_CODES = frozenset({28001003, 28001008, 40009, 40010, 40020})
# The merchant must authorize again: an operator is alerted, retrying cannot help.
REAUTHORIZE_CODES = frozenset({28001018, 40036, 40022, 40021})

CODES: dict[int, Code] = {
    # Transient: Douyin is busy, rate-limiting, or asks to try again.
    28001005: Code("system_busy", "Douyin is busy (28001005); the call will be retried.", False),
    28001006: Code(
        "network_error", "Douyin had a network error (28001006); the call will be retried.", False
    ),
    28003017: Code("quota_spent", "Douyin's API quota is spent for now (28003017); retrying later.", False),
    28003018: Code("rate_limited", "Douyin is rate-limiting the calls (28003018); retrying later.", False),
    40000: Code("system_error", "Douyin had a system error (40000); the call will be retried.", False),
    40045: Code("token_failed", "Douyin could not issue a token (40045); the call will be retried.", False),
    11300: Code("submit_failed", "Douyin could not take the submission (11300); retrying.", False),
    11301: Code("submit_too_often", "Douyin allows one submission per 10 seconds (11301); retrying.", False),
    11400: Code("release_failed", "Douyin could not release the version (11400); retrying.", False),
    11500: Code("rollback_failed", "Douyin could not roll back (11500); retrying.", False),
    11501: Code("rollback_too_often", "Douyin allows one rollback per 10 minutes (11501); retrying.", False),
    11600: Code("withdraw_failed", "Douyin could not withdraw the submission (11600); retrying.", False),
    # State conflicts: the adapter reads `versions` to tell whether an earlier attempt succeeded;
    # what is left is a conflict a person must look at.
    11302: Code("no_test_version", "Douyin holds no test version to submit: upload the code first."),
    11303: Code(
        "already_in_review",
        "A version of this mini program is already under review on Douyin; withdraw it or wait.",
    ),
    11402: Code("nothing_to_release", "Douyin holds no reviewed version to release."),
    11403: Code("still_in_review", "The version is still under review on Douyin.", False),
    11404: Code("not_approved", "Douyin has not approved the version, so it cannot be released."),
    11601: Code("already_withdrawn", "The submission was already withdrawn on Douyin."),
    11602: Code("withdraw_in_progress", "Douyin is processing the submission and cannot withdraw it.", False),
    11603: Code("already_decided", "Douyin has already decided the submission; it cannot be withdrawn."),
    # Terminal: a human must act in the Douyin console.
    10003: Code("no_record", "Douyin has no earlier online version to roll back to."),
    10104: Code("entity_banned", "The company behind this mini program is banned on Douyin."),
    10105: Code("entity_in_review", "The company's verification is still under review on Douyin."),
    10106: Code("entity_rejected", "The company's verification was rejected on Douyin."),
    10107: Code("app_banned", "This mini program is banned on Douyin."),
    10108: Code("dev_app", "A bound development mini program cannot be submitted or released."),
    10109: Code(
        "name_reset", "The mini program went unsubmitted too long and its name was reset: rename it first."
    ),
    11305: Code("entity_unverified", "The company's verification is not complete on Douyin."),
    11401: Code("recently_taken_down", "The version was taken down recently: submit it for review again."),
    28001016: Code("app_blocked", "This mini program is banned or offline on Douyin."),
    40029: Code("no_template", "Douyin does not know this template: check the release's template_id."),
    40034: Code("no_draft", "Douyin does not know this draft."),
    40035: Code("too_many_templates", "The component app already has 200 templates."),
    # Request shape and credentials.
    28001007: Code("invalid_argument", "Douyin refused the arguments of the call (28001007)."),
    40001: Code("invalid_argument", "Douyin refused the arguments of the call (40001)."),
    40002: Code("missing_argument", "The call lacked an argument Douyin requires (40002)."),
    40003: Code("unknown_component", "Douyin does not know this component appid."),
    40004: Code("unknown_app", "Douyin does not know this mini program (or it is not authorized)."),
    40037: Code("invalid_ticket", "Douyin says the component_ticket is invalid: wait for the next push."),
    40038: Code("invalid_secret", "Douyin refused the component appsecret of this platform account."),
    # Tokens (after the one refresh) and authorization.
    28001003: Code("invalid_token", "Douyin refused the access token even after a refresh."),
    28001008: Code("token_expired", "Douyin says the access token expired even after a refresh."),
    40009: Code("component_token_expired", "Douyin refused the component token even after a refresh."),
    40010: Code("component_token_invalid", "Douyin refused the component token even after a refresh."),
    40020: Code("authorizer_token_invalid", "Douyin refused the app's token even after a refresh."),
    40021: Code(
        "refresh_token_invalid",
        "The app's authorizer refresh token is no longer valid: the mini program must authorize again.",
    ),
    40022: Code("not_authorized", "The mini program has not authorized this component app."),
    28001018: Code(
        "permission_missing",
        "The mini program has not granted the 开发管理 permission: its administrator must re-authorize.",
    ),
    40036: Code(
        "permission_missing", "The mini program has not granted this API's permission: re-authorize."
    ),
}


class DouyinError(PlatformError):
    """One failed Douyin call. `err_no` is None for network and HTTP failures."""

    def __init__(
        self, message: str, *, err_no: int | None = None, err_msg: str = "", name: str = "", permanent: bool
    ) -> None:
        code = f"douyin_{err_no}" if err_no is not None else f"douyin_{name or 'error'}"
        super().__init__(message, code=code, permanent=permanent)
        self.err_no = err_no
        self.err_msg = err_msg
        self.name = name

    @property
    def is_token_error(self) -> bool:
        return self.err_no in TOKEN_CODES

    @property
    def needs_reauthorization(self) -> bool:
        return self.err_no in REAUTHORIZE_CODES


def error_for(err_no: int, err_msg: str = "", *, api: str = "") -> DouyinError:
    """The named error for a code; an unknown code is permanent and quotes Douyin's own text."""
    known = CODES.get(err_no)
    if known is None:
        where = f" {api}" if api else ""
        return DouyinError(
            f"Douyin refused{where} with err_no {err_no}: {err_msg or 'no message'}.",
            err_no=err_no,
            err_msg=err_msg,
            name="unknown",
            permanent=True,
        )
    return DouyinError(
        known.sentence, err_no=err_no, err_msg=err_msg, name=known.name, permanent=known.permanent
    )


def transient(name: str, message: str) -> DouyinError:
    """A failure outside Douyin's codes (timeout, connection, 5xx, malformed answer): retry."""
    return DouyinError(message, name=name, permanent=False)
