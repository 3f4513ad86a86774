"""The one interface releases/ knows about a platform.

Concrete adapters live in reviews/platforms/<name>/ and are chosen by a PlatformAccount's
`platform` through settings.SLUICE_PLATFORM_ADAPTERS, so a new platform plugs in without
touching this app.
"""

from dataclasses import dataclass, field
from enum import IntEnum

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class PlatformError(Exception):
    """A platform call failed. Transient errors are retried; permanent ones are recorded."""

    def __init__(self, message: str, *, code: str = "platform_error", permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class Submission:
    """What the platform calls the version under review: WeChat's auditid, Douyin's submission
    time (it numbers nothing, so the `ctime` of its audit version stands in; both only grow)."""

    audit_id: str = ""


class ReviewCode(IntEnum):
    """Where a submission stands, in Sluice's codes (they happen to be WeChat's audit statuses;
    each adapter maps its platform's own, e.g. Douyin's 0 审核中 is IN_REVIEW)."""

    APPROVED = 0
    REJECTED = 1
    IN_REVIEW = 2
    WITHDRAWN = 3
    DELAYED = 4


@dataclass(frozen=True)
class ReviewStatus:
    """A platform's answer about one submission (reviews.polling applies it, push or poll).

    `reason` is the platform's rejection or delay text, verbatim; `audit_id` names the
    submission the answer is about (a newer one than the release's means a resubmission made
    in the platform's console).
    """

    status: ReviewCode
    audit_id: str
    reason: str = ""
    screenshots: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Probe:
    """One thing a connection test tried (issue 15): what, whether it worked, and what came back."""

    what: str
    ok: bool
    detail: str


class PlatformAdapter:
    """Operations every platform offers. Each call must be safe to retry after a crash."""

    # Steps run inside the web request when the adapter makes no network call.
    runs_inline: bool = False
    # The review outcome is typed in by a person (manual platform) instead of pushed/polled.
    outcomes_recorded_by_hand: bool = False
    # The platform counts submissions and speed-ups per month (WeChat's queryquota); without one,
    # the limits show no quota rows rather than "1 / unknown".
    monthly_quota: bool = False

    def __init__(self, account) -> None:
        self.account = account

    def find_submission(self, release) -> Submission | None:
        """The submission of this release the platform already holds, if a crash hid it from us."""
        return None

    def checkpoint(self, step: str, release) -> dict:
        """What the platform shows before the first call of `step`, for a call whose effect cannot
        be read back from the platform otherwise (the online version before a rollback).

        Saved on the release before the call is made, with "taken_by" naming the attempt that
        took it: a later attempt finds it in `release.step_checkpoint` and can tell whether an
        earlier attempt's call took effect. Empty: nothing to remember.
        """
        return {}

    def upload(self, release) -> None:
        """Make the release's template code (`template_id` with its `ext_json`) the app's test
        version: WeChat's commit, Douyin's package_version/upload. Called by the submit step only
        when the release names a template and the app's test version is other code; must be safe
        to repeat (a crash between the upload and recording it repeats it)."""
        raise PlatformError(
            "This platform cannot upload a template's code.", code="not_supported", permanent=True
        )

    def submit(self, release) -> Submission:
        raise NotImplementedError

    def preview_qr_code(self, release) -> bytes | None:
        """The image a tester scans to open the app's test version, once `upload` put the release's
        code there (WeChat's experience QR code); None when the platform draws none. Raise
        PlatformError when it cannot be read. The caller checks what the bytes are."""
        return None

    def review_status(self, release, audit_id: str = "") -> ReviewStatus | None:
        """The platform's word on the submission `audit_id` (the latest one when empty); None when
        the app was never submitted. The one status call of a poll and of a pushed event."""
        raise PlatformError("This platform reports no review status.", code="not_supported", permanent=True)

    def latest_review(self, release) -> ReviewStatus | None:
        """The app's latest submission on the platform, whoever made it (a console resubmission)."""
        return self.review_status(release)

    def on_submitted(self, release) -> None:
        """Called once the submission is recorded: an API platform starts following the review here."""
        return None

    def connection_test(self) -> list[Probe]:
        """What a person checks after entering an account's credentials: each probe says what
        was tried and exactly what came back. Runs in the request, so at most a call or two."""
        return [
            Probe(
                str(_("Manual platform")),
                True,
                str(_("Nothing to connect to: releases are submitted by hand.")),
            )
        ]

    def on_app_added(self, app) -> None:
        """Called in the transaction that adds the app: queue what the platform should learn about it
        (never call the platform here: the transaction is still open)."""
        return None

    def withdraw(self, release) -> None:
        raise NotImplementedError

    def publish(self, release) -> None:
        raise NotImplementedError

    def rollback(self, release) -> None:
        """Roll back to the previous online version, or `release.rollback_to` of the history."""
        raise NotImplementedError

    # A publish step brings the platform to `releases.rollout.target_percentage(release.rollout)`:
    # 100 is a full release, less a phased one; percentages only grow (the rules check first).

    def revert_phased(self, release) -> None:
        """Cancel the phased release: users who got the version go back to the online one."""
        raise NotImplementedError

    def phased_plan(self, release) -> dict | None:
        """The platform's phased plan, {"status": initial|running|paused|finished|deleted,
        "percentage": int}, to reconcile with; None when the platform cannot say (manual)."""
        return None

    def speedup(self, release) -> None:
        """Ask the platform to review the submitted release faster (spends the monthly quota)."""
        raise PlatformError("This platform offers no speed-up.", code="not_supported", permanent=True)

    def set_service(self, app, online: bool) -> None:
        """Take the app's service offline (nobody can open it) or back online."""
        raise PlatformError("This platform offers no emergency stop.", code="not_supported", permanent=True)

    supports_speedup: bool = False
    supports_service_stop: bool = False

    def privacy_scan(self, release) -> list[dict] | None:
        """The platform's own scan of the uploaded code for undeclared privacy interfaces.

        None: this platform offers no scan (the `platform_privacy_scan` check then passes
        with a note). Otherwise one dict per problem, empty when clean; each should carry
        "api" (e.g. "wx.getLocation"), "problem" (a short code such as "without_auth" or
        "without_conf") and "message" (a sentence for people). Called from a worker, so it
        may take seconds; raise PlatformError when the scan cannot be read (the check then
        reports an error and blocks, never a silent pass).
        """
        return None

    # The platform attaches screenshots to a rejection that `fetch_screenshot` can download.
    fetches_screenshots: bool = False

    def fetch_screenshot(self, app, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """One rejection screenshot as (bytes, the content type the platform claimed). Called from a
        worker, never in a transaction; raise PlatformError (transient ones are retried later)."""
        raise PlatformError("This platform attaches no screenshots.", code="not_supported", permanent=True)

    def rejection_items(self, reason: str) -> list[dict]:
        """The platform's rejection text as numbered items, each sorted into a RejectionCategory.

        Each item is {number, title, details, text, category}. The parsing and the rules are the
        platform side's (reviews/rejections/); a platform without them gives one "other" item,
        which remediation plans from like any unknown reason.
        """
        text = (reason or "").strip()
        return [{"number": 1, "title": "", "details": [], "text": text, "category": "other"}] if text else []


def reviewer_note(release, limit: int) -> str:
    """What a platform's reviewer reads with a submission (WeChat's feedback_info on a resubmission,
    Douyin's audit_note): the explanation written in the remediation after a rejection, else the
    review notes (test accounts and how to reach the new features), cut to the platform's limit."""
    note = ""
    if release.in_flight_from == "rejected":
        from releases.remediation import feedback_info

        note = feedback_info(release) or ""
    return (note or release.review_notes or "")[:limit]


def has_monthly_quota(platform: str) -> bool:
    """Whether the platform's adapter keeps a monthly review quota (read off its class: no client
    is built, so a page can ask it for every app)."""
    path = settings.SLUICE_PLATFORM_ADAPTERS.get(platform)
    return bool(path) and import_string(path).monthly_quota


def followed_platforms() -> list[str]:
    """The platforms whose reviews Sluice follows by asking (not typed in by hand)."""
    return [
        name
        for name, path in settings.SLUICE_PLATFORM_ADAPTERS.items()
        if not import_string(path).outcomes_recorded_by_hand
    ]


def adapter_for(account) -> PlatformAdapter:
    try:
        path = settings.SLUICE_PLATFORM_ADAPTERS[account.platform]
    except KeyError:
        raise PlatformError(
            f"No adapter is configured for the {account.platform!r} platform.", permanent=True
        ) from None
    return import_string(path)(account)
