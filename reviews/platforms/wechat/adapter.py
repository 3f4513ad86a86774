"""The WeChat third-party platform behind releases.platforms.PlatformAdapter.

Each release step (submit, withdraw, publish, rollback) runs in an RQ worker on the
`platform` queue; transient failures propagate so RQ retries, permanent ones are recorded
on the release by releases.services. The step methods reconcile with WeChat before
repeating a call whose effect may already have happened (a worker killed between the
call and the database write). The lower-level methods mirror WeChat's code-management
API one to one (platform-apis.md §2) and take the App they act for.
"""

import json
import logging

from releases import rollout as phased
from releases.models import State
from releases.platforms import PlatformAdapter, ReviewCode, ReviewStatus, Submission
from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.connection import connection_test
from reviews.platforms.wechat.errors import WeChatError
from reviews.platforms.wechat.fleet import FleetCalls
from reviews.platforms.wechat.schemas import (
    Answer,
    AuditState,
    AuditStatus,
    AuthorizerInfo,
    CodePrivacyInfo,
    GrayReleasePlan,
    HistoryVersions,
    LatestAuditState,
    Quota,
    SubmitAudit,
    VersionInfo,
)
from reviews.platforms.wechat.tokens import Tokens
from reviews.rejections import classify_reason

logger = logging.getLogger(__name__)

# WeChat stamps submissions in whole seconds with its own clock; allow for both. Too little
# slack risks a second submit_audit (refused with 85009, shown); too much risks adopting an
# older submission.
CLOCK_SLACK_SECONDS = 10
FEEDBACK_INFO_MAX = 200
# wxa/commit's user_desc: WeChat shows it in the version list, and long texts are refused.
USER_DESC_MAX = 200
# get_latest_auditstatus answers these when the mini program has never been submitted.
NO_SUBMISSION_ERRCODES = frozenset({85058, 85012, 86001})
# What a rollback's checkpoint keeps (see WeChatAdapter.rollback).
VERSION_KEYS = ("online", "history")


def _began(release) -> int:
    """The earliest moment (WeChat's clock, whole seconds) a call of this step may have reached
    WeChat: its first start, which a retry after giving up keeps."""
    began_at = release.step_began_at or release.state_changed_at
    return int(began_at.timestamp()) - CLOCK_SLACK_SECONDS


def _review(answer, audit_id: str) -> ReviewStatus:
    return ReviewStatus(
        status=ReviewCode(int(answer.status)),
        audit_id=str(audit_id),
        reason=answer.reason,
        screenshots=tuple(answer.screenshots),
    )


class WeChatAdapter(FleetCalls, PlatformAdapter):
    runs_inline = False
    outcomes_recorded_by_hand = False
    monthly_quota = True

    def __init__(self, account, client: WeChatClient | None = None, tokens: Tokens | None = None) -> None:
        super().__init__(account)
        self.client = client or WeChatClient()
        self._tokens = tokens

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = Tokens(self.account, self.client)
        return self._tokens

    # -- release steps ----------------------------------------------------------------

    def find_submission(self, release) -> Submission | None:
        """Our submission, if WeChat already holds it: the latest one, made since this step began.

        The submit step moved the release to `submitting` (step_began_at) before calling,
        so a submission stamped after that moment can only be the call whose answer a dead
        worker never recorded (a retry after giving up keeps that moment, since the attempts
        it gave up on may have submitted). Anything older (the rejected previous attempt, a version
        submitted in the console) is not ours, and submitting proceeds; so is the
        submission this release already holds (a quick resubmission after a rejection), and one
        any other release of the app recorded (the previous version, decided and published
        seconds before this attempt: the clock slack alone would mistake it for ours).
        """
        latest = self.get_latest_auditstatus(release.app)
        if latest is None or latest.submit_audit_time is None:
            return None
        if release.app.releases.filter(platform_audit_id=str(latest.auditid)).exists():
            return None
        if latest.submit_audit_time < _began(release):
            return None
        return Submission(audit_id=str(latest.auditid))

    def upload(self, release) -> None:
        """wxa/commit: the template with the app's ext.json becomes the trial version, named by the
        release's version and notes. Committing again replaces the trial version, so a repeat after
        a crash is harmless."""
        self.commit(
            release.app,
            # A JSON number, as wechat-fleet.md §3 says: a quoted id has been answered with 85014.
            template_id=int(release.template_id) if release.template_id.isdigit() else release.template_id,
            ext_json=json.dumps(release.ext_json or {}, ensure_ascii=False),
            user_version=release.version,
            user_desc=(release.release_notes or release.version)[:USER_DESC_MAX],
        )

    def preview_qr_code(self, release) -> bytes | None:
        """get_qrcode: the trial version's QR code, which wxa/commit (upload) made."""
        return self.get_qrcode(release.app)

    def submit(self, release) -> Submission:
        """feedback_info is WeChat's note to the reviewer, allowed only on a resubmission after a
        rejection: the explanation written in the remediation tasks, else the review notes."""
        feedback = None
        if release.in_flight_from == State.REJECTED:
            from releases.remediation import feedback_info

            feedback = feedback_info(release) or release.review_notes
        answer = self.submit_audit(release.app, version_desc=release.review_notes, feedback_info=feedback)
        return Submission(audit_id=str(answer.auditid))

    def review_status(self, release, audit_id: str = "") -> ReviewStatus | None:
        """get_auditstatus of the submission, or get_latest_auditstatus when its auditid is unknown."""
        if audit_id:
            return _review(self.get_auditstatus(release.app, audit_id), audit_id)
        return self.latest_review(release)

    def latest_review(self, release) -> ReviewStatus | None:
        latest = self.get_latest_auditstatus(release.app)
        return None if latest is None else _review(latest, str(latest.auditid))

    def privacy_scan(self, release) -> list[dict]:
        """get_code_privacy_info: interfaces the uploaded code uses without authorisation or without
        a declaration in the privacy guideline; each one is a reason for rejection."""
        info = self.get_code_privacy_info(release.app)
        problems = [
            {
                "api": api,
                "problem": "without_auth",
                "message": f"{api} is used but not authorised for this app.",
            }
            for api in info.without_auth_list
        ]
        problems += [
            {
                "api": api,
                "problem": "without_conf",
                "message": f"{api} is used but not declared in the user-privacy guideline.",
            }
            for api in info.without_conf_list
        ]
        return problems

    def on_submitted(self, release) -> None:
        from reviews.polling import review_watch_start

        review_watch_start(release)

    def connection_test(self):
        return connection_test(self.tokens)

    def on_app_added(self, app) -> None:
        from reviews.original_ids import original_id_learn_later

        original_id_learn_later(app)

    def rejection_items(self, reason: str) -> list[dict]:
        """WeChat's numbered reason, split and sorted into categories by reviews/rejections/."""
        return classify_reason(reason)

    fetches_screenshots = True

    def fetch_screenshot(self, app, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """A rejection screenshot (wechat-fleet.md §6): get_material with the rejected app's own token.

        Field reports see 40007 (invalid media_id) there, so on 40007 the temporary-media call is
        tried once; that fallback is experimental (WeChat documents get_material only).
        """
        try:
            return self.tokens.as_app(
                app,
                lambda token: self.client.download(
                    "POST",
                    "/cgi-bin/material/get_material",
                    params={"access_token": token},
                    body={"media_id": media_id},
                    max_bytes=max_bytes,
                ),
            )
        except WeChatError as exc:
            if exc.errcode != 40007:
                raise
        logger.info("get_material: 40007 for %s of %s, trying media/get (experimental)", media_id, app.appid)
        return self.tokens.as_app(
            app,
            lambda token: self.client.download(
                "GET",
                "/cgi-bin/media/get",
                params={"access_token": token, "media_id": media_id},
                max_bytes=max_bytes,
            ),
        )

    def withdraw(self, release) -> None:
        """undocodeaudit, unless WeChat already shows our submission withdrawn (a retried step)."""
        latest = self.get_latest_auditstatus(release.app)
        if (
            latest is not None
            and str(latest.auditid) == release.platform_audit_id
            and latest.status == AuditStatus.WITHDRAWN
        ):
            return
        self.undocodeaudit(release.app)

    def publish(self, release) -> None:
        """A stage below 100% is grayrelease, 100% is release (which ends a phased release)."""
        percentage = phased.target_percentage(release.rollout)
        if percentage < 100:
            self._gray(release, percentage)
        else:
            self._release(release)

    def _gray(self, release, percentage: int) -> None:
        """grayrelease, unless the plan already shows this percentage (a crashed attempt's call took
        effect: a second call with the same value is refused with 85082)."""
        plan = self.getgrayreleaseplan(release.app).gray_release_plan
        if plan.status in (1, 2) and plan.gray_percentage >= percentage:
            return
        rollout = release.rollout
        self.grayrelease(
            release.app,
            percentage,
            support_experiencer_first=rollout.get("experiencer_first", False),
            support_debuger_first=rollout.get("debuger_first", False),
        )

    def revert_phased(self, release) -> None:
        """revertgrayrelease, unless the plan is already gone (an earlier attempt reverted it)."""
        plan = self.getgrayreleaseplan(release.app).gray_release_plan
        if plan.status in (1, 2):
            self.revertgrayrelease(release.app)

    def phased_plan(self, release) -> dict | None:
        plan = self.getgrayreleaseplan(release.app).gray_release_plan
        status = {0: "initial", 1: "running", 2: "paused", 3: "finished", 4: "deleted"}.get(
            plan.status, "initial"
        )
        return {"status": status, "percentage": plan.gray_percentage}

    supports_speedup = True
    supports_service_stop = True

    def speedup(self, release) -> None:
        self.speedupaudit(release.app, release.platform_audit_id)

    def set_service(self, app, online: bool) -> None:
        self.change_visitstatus(app, "open" if online else "close")

    def _release(self, release) -> None:
        """release; on a retried step, "already released" means the crashed attempt succeeded.

        We only publish an approved release, which is the app's latest submission on WeChat,
        so 85052 says that very version is online. 85019/85020 count as done only if WeChat
        shows a release made since this step began.
        """
        try:
            self.release(release.app)
        except WeChatError as exc:
            if exc.errcode == 85052:
                return
            if exc.errcode not in (85019, 85020) or not self._released_since(release):
                raise

    def checkpoint(self, step: str, release) -> dict:
        """Before the first revertcoderelease: the online version and the version history."""
        return self._versions(release.app) if step == "rollback" else {}

    def rollback(self, release) -> None:
        """revertcoderelease, unless an earlier attempt's call already rolled back.

        WeChat refuses a second rollback with 87012, so a step retried after a worker died
        between the call and the write would fail for good. The version info and history
        tell instead: once they differ from what the checkpoint saw before the first call,
        that call took effect (a rollback changes the online version and the versions one
        can go back to). The attempt that took the checkpoint made no call yet.
        """
        checkpoint = release.step_checkpoint
        if checkpoint and checkpoint.get("taken_by") != release.step_claimed_by:
            seen = {key: checkpoint.get(key) for key in VERSION_KEYS}
            if self._versions(release.app) != seen:
                return
        self.revertcoderelease(release.app, release.rollback_to)

    def _versions(self, app) -> dict:
        """getversioninfo's online version and get_history_version's app_versions, JSON-ready."""
        info = self.getversioninfo(app).release_info
        history = self.get_history_versions(app).version_list
        return {
            "online": [info.release_version, info.release_time] if info is not None else None,
            "history": sorted(version.app_version for version in history),
        }

    def _released_since(self, release) -> bool:
        try:
            info = self.getversioninfo(release.app)
        except WeChatError:
            return False
        released_at = info.release_info.release_time if info.release_info else None
        return released_at is not None and released_at >= _began(release)

    # -- the authorization API (wechat-fleet.md §1) -----------------------------------

    def get_authorizer_info(self, app) -> AuthorizerInfo:
        """api_get_authorizer_info, with the platform account's own token (the app's is not needed)."""
        return self.authorizer_info(app.appid)

    # -- the code-management API (platform-apis.md §2) --------------------------------

    def _get(self, app, path: str, schema, params: dict | None = None):
        return self.tokens.as_app(
            app, lambda token: self.client.get(path, schema, params={"access_token": token, **(params or {})})
        )

    def _post(self, app, path: str, schema, body: dict):
        return self.tokens.as_app(
            app, lambda token: self.client.post(path, schema, params={"access_token": token}, body=body)
        )

    def commit(
        self, app, *, template_id: int | str, ext_json: str, user_version: str, user_desc: str
    ) -> Answer:
        body = {
            "template_id": template_id,
            "ext_json": ext_json,
            "user_version": user_version,
            "user_desc": user_desc,
        }
        return self._post(app, "/wxa/commit", Answer, body)

    def submit_audit(
        self, app, *, version_desc: str, feedback_info: str | None = None, **extra
    ) -> SubmitAudit:
        """feedback_info is only honoured by WeChat after a rejection, so it is sent only then."""
        body = {**extra, "version_desc": version_desc}
        if feedback_info:
            body["feedback_info"] = feedback_info[:FEEDBACK_INFO_MAX]
        return self._post(app, "/wxa/submit_audit", SubmitAudit, body)

    def get_auditstatus(self, app, auditid: int | str) -> AuditState:
        return self._post(app, "/wxa/get_auditstatus", AuditState, {"auditid": int(auditid)})

    def get_latest_auditstatus(self, app) -> LatestAuditState | None:
        """None when the mini program has never been submitted."""
        try:
            return self._get(app, "/wxa/get_latest_auditstatus", LatestAuditState)
        except WeChatError as exc:
            if exc.errcode in NO_SUBMISSION_ERRCODES:
                return None
            raise

    def undocodeaudit(self, app) -> Answer:
        return self._get(app, "/wxa/undocodeaudit", Answer)

    def speedupaudit(self, app, auditid: int | str) -> Answer:
        return self._post(app, "/wxa/speedupaudit", Answer, {"auditid": int(auditid)})

    def release(self, app) -> Answer:
        return self._post(app, "/wxa/release", Answer, {})  # WeChat requires exactly {} (else 44002)

    def grayrelease(
        self,
        app,
        gray_percentage: int,
        *,
        support_debuger_first: bool = False,
        support_experiencer_first: bool = False,
    ) -> Answer:
        body = {
            "gray_percentage": gray_percentage,
            "support_debuger_first": support_debuger_first,
            "support_experiencer_first": support_experiencer_first,
        }
        return self._post(app, "/wxa/grayrelease", Answer, body)

    def getgrayreleaseplan(self, app) -> GrayReleasePlan:
        return self._get(app, "/wxa/getgrayreleaseplan", GrayReleasePlan)

    def revertgrayrelease(self, app) -> Answer:
        return self._get(app, "/wxa/revertgrayrelease", Answer)

    def revertcoderelease(self, app, app_version: int | None = None) -> Answer:
        params = {"app_version": app_version} if app_version is not None else None
        return self._get(app, "/wxa/revertcoderelease", Answer, params)

    def change_visitstatus(self, app, action: str) -> Answer:
        return self._post(app, "/wxa/change_visitstatus", Answer, {"action": action})

    def get_history_versions(self, app) -> HistoryVersions:
        return self._get(app, "/wxa/revertcoderelease", HistoryVersions, {"action": "get_history_version"})

    def queryquota(self, app) -> Quota:
        return self._get(app, "/wxa/queryquota", Quota)

    def get_code_privacy_info(self, app) -> CodePrivacyInfo:
        return self._get(app, "/wxa/security/get_code_privacy_info", CodePrivacyInfo)

    def getversioninfo(self, app) -> VersionInfo:
        return self._post(app, "/wxa/getversioninfo", VersionInfo, {})
