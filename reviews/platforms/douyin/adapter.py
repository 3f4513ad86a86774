"""Douyin's third-party mini-program API (代开发, v2) behind releases.platforms.PlatformAdapter.

Each step runs in an RQ worker like WeChat's; before repeating a call whose effect may already
have happened (a worker killed between the call and the database write), it reads
`package_version/versions` to tell. Douyin numbers no submission, so the `ctime` of the audit
version names it (Submission.audit_id): it only grows, and a newer one than the release's is a
resubmission made in the console. The lower-level methods mirror douyin.md §3 one to one.

What Douyin does not have: phased (gray) release (console-only, douyin.md §3.9), a speed-up, an
emergency stop, a privacy scan and a monthly quota; the defaults of the interface say so.
"""

import json

from releases import rollout as phased
from releases.platform_rules import DOUYIN
from releases.platform_rules import DOUYIN_HOSTS_SETTING as HOSTS_SETTING
from releases.platforms import PlatformAdapter, ReviewCode, ReviewStatus, Submission, reviewer_note
from reviews.platforms.douyin.client import DouyinClient
from reviews.platforms.douyin.connection import connection_test
from reviews.platforms.douyin.errors import DouyinError
from reviews.platforms.douyin.tokens import Tokens
from reviews.rejections import classify_reason, rules_for

AUDIT_NOTE_MAX = DOUYIN.reviewer_note_max
USER_DESC_MAX = 200
# versions → audit.status (douyin.md §3.6): 0 审核中, 1 通过, 2 不通过, 3 撤回.
AUDIT_STATUS = {
    0: ReviewCode.IN_REVIEW,
    1: ReviewCode.APPROVED,
    2: ReviewCode.REJECTED,
    3: ReviewCode.WITHDRAWN,
}
CLOCK_SLACK_SECONDS = 10

BASE = "/api/apps/v1/package_version/"


def _began(release) -> int:
    began_at = release.step_began_at or release.state_changed_at
    return int(began_at.timestamp()) - CLOCK_SLACK_SECONDS


def _pick(data: dict, *names, default=None):
    """Douyin mixes snake_case and camelCase in one answer (douyin.md §3.6): accept both."""
    for name in names:
        if data.get(name) is not None:
            return data[name]
    return default


def reason_text(audit: dict) -> str:
    """The rejection as one text: `reason`, then each host's reasons from `reason_detail`."""
    lines = [str(audit.get("reason") or "").strip()]
    detail = _pick(audit, "reason_detail", "reasonDetail", default={}) or {}
    for host, reasons in detail.items() if isinstance(detail, dict) else ():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            if str(reason).strip() and str(reason).strip() not in lines:
                lines.append(f"{host}: {str(reason).strip()}")
    return "\n".join(line for line in lines if line)


class DouyinAdapter(PlatformAdapter):
    runs_inline = False
    outcomes_recorded_by_hand = False
    monthly_quota = False

    def __init__(self, account, client: DouyinClient | None = None, tokens: Tokens | None = None) -> None:
        super().__init__(account)
        self.client = client or DouyinClient()
        self._tokens = tokens

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = Tokens(self.account, self.client)
        return self._tokens

    # -- release steps ----------------------------------------------------------------

    def upload(self, release) -> None:
        """package_version/upload: the template with the release's ext.json becomes the test version.
        Uploading again replaces it, so a repeat after a crash is harmless."""
        self.package_upload(
            release.app,
            template_id=release.template_id,
            ext_json=json.dumps(release.ext_json or {}, ensure_ascii=False),
            user_version=release.version,
            user_desc=(release.release_notes or release.version)[:USER_DESC_MAX],
        )

    def host_names(self, app) -> list[str]:
        """The app's chosen host apps that Douyin offers; every offered host when none is chosen.
        A host left out makes the app invisible there, so an unknown or unavailable choice is refused."""
        offered = list(self.get_audit_hosts(app).get("host_names") or [])
        chosen = [str(name) for name in (app.settings or {}).get(HOSTS_SETTING) or []]
        if not chosen:
            return offered
        unknown = sorted(set(chosen) - set(offered))
        if unknown:
            raise DouyinError(
                f"Douyin does not offer the host apps {', '.join(unknown)} for {app.name} "
                f"(it offers {', '.join(offered) or 'none'}): change the app's {HOSTS_SETTING}.",
                name="unknown_hosts",
                permanent=True,
            )
        return chosen

    def find_submission(self, release) -> Submission | None:
        """Our submission, if Douyin holds one made since this step began that no release recorded."""
        audit = self.versions(release.app).get("audit") or {}
        ctime = audit.get("ctime")
        if ctime is None or int(ctime) < _began(release):
            return None
        if release.app.releases.filter(platform_audit_id=str(ctime)).exists():
            return None
        return Submission(audit_id=str(ctime))

    def submit(self, release) -> Submission:
        """audit with the host apps and the note to the reviewer, then `versions` for its ctime."""
        self.audit(
            release.app,
            host_names=self.host_names(release.app),
            audit_note=reviewer_note(release, AUDIT_NOTE_MAX),
        )
        audit = self.versions(release.app).get("audit") or {}
        return Submission(audit_id=str(audit.get("ctime") or ""))

    def on_submitted(self, release) -> None:
        from reviews.polling import review_watch_start

        review_watch_start(release)

    def review_status(self, release, audit_id: str = "") -> ReviewStatus | None:
        """versions' audit: Douyin keeps only the latest submission, so this is also latest_review."""
        audit = self.versions(release.app).get("audit")
        if not audit or audit.get("status") not in AUDIT_STATUS:
            return None
        code = AUDIT_STATUS[audit["status"]]
        reason = reason_text(audit) if code == ReviewCode.REJECTED else ""
        return ReviewStatus(status=code, audit_id=str(audit.get("ctime") or ""), reason=reason)

    def connection_test(self):
        return connection_test(self.tokens)

    def rejection_items(self, reason: str) -> list[dict]:
        return classify_reason(reason, rules_for("douyin"))

    def withdraw(self, release) -> None:
        """revoke_audit, unless Douyin already shows our submission withdrawn (a retried step)."""
        audit = self.versions(release.app).get("audit") or {}
        if str(audit.get("ctime")) == release.platform_audit_id and audit.get("status") == 3:
            return
        try:
            self.revoke_audit(release.app)
        except DouyinError as exc:
            if exc.err_no != 11601:  # already withdrawn: by the attempt that died
                raise

    def publish(self, release) -> None:
        """release; Douyin has no phased-release API, so only a full release is possible."""
        if phased.target_percentage(release.rollout) < 100:
            raise DouyinError(
                "Douyin offers no phased release through its API: publish to everyone, or use its console.",
                name="no_phased_release",
                permanent=True,
            )
        if self._published(release):
            return
        try:
            self.release(release.app)
        except DouyinError as exc:
            if exc.err_no != 11402 or not self._published(release):
                raise

    def _published(self, release) -> bool:
        audit = self.versions(release.app).get("audit") or {}
        return str(audit.get("ctime")) == release.platform_audit_id and bool(audit.get("has_publish"))

    def checkpoint(self, step: str, release) -> dict:
        """Before the first rollback: the online version and whether Douyin allowed a rollback."""
        return self._online(release.app) if step == "rollback" else {}

    def rollback(self, release) -> None:
        """rollback to the previous online version: at most once per release, never from the first.

        Douyin picks the version (no rollback_to), refuses a second rollback, and takes 3-5 minutes
        to apply one; a retried step compares with the checkpoint: once can_rollback turned false or
        the online version changed, the earlier attempt's call took effect.
        """
        if release.rollback_to is not None:
            raise DouyinError(
                "Douyin rolls back to the previous online version only; it cannot pick a version.",
                name="no_version_choice",
                permanent=True,
            )
        online = self._online(release.app)
        checkpoint = release.step_checkpoint
        earlier = bool(checkpoint) and checkpoint.get("taken_by") != release.step_claimed_by
        if earlier and checkpoint.get("can_rollback") and online != {k: checkpoint.get(k) for k in online}:
            return
        if not online["can_rollback"]:
            raise DouyinError(
                "Douyin allows no rollback now: there is no earlier online version (the first release), it "
                "was taken down, or this release was already rolled back once.",
                name="cannot_roll_back",
                permanent=True,
            )
        self.rollback_call(release.app)

    def _online(self, app) -> dict:
        current = self.versions(app).get("current") or {}
        rollback = current.get("rollback") or {}
        return {
            "online": current.get("version"),
            "can_rollback": bool(rollback.get("can_rollback")),
            "last_version": rollback.get("last_version"),
        }

    # -- the code-management API (douyin.md §3) --------------------------------------

    def _get(self, app, api: str, params: dict | None = None) -> dict:
        return self.tokens.as_app(
            app, lambda token: self.client.get(BASE + api + "/", token=token, params=params)
        )

    def _post(self, app, path: str, body: dict | None = None) -> dict:
        return self.tokens.as_app(app, lambda token: self.client.post(path, token=token, body=body))

    def package_upload(
        self, app, *, template_id: str, ext_json: str, user_version: str, user_desc: str
    ) -> dict:
        body = {
            # int64 in Douyin's docs, beyond 2^53 in its example: sent as a JSON integer, never a float.
            "template_id": int(template_id) if str(template_id).isdigit() else template_id,
            "user_version": user_version,
            "user_desc": user_desc,
            "ext_json": ext_json,
        }
        return self._post(app, BASE + "upload/", body)

    def get_audit_hosts(self, app) -> dict:
        return self._get(app, "get_audit_hosts")

    def audit(self, app, *, host_names: list[str], audit_note: str = "", audit_way: int = 0) -> dict:
        body = {"host_names": host_names, "audit_note": audit_note[:AUDIT_NOTE_MAX]}
        if audit_way:
            body["audit_way"] = audit_way
        return self._post(app, "/api/apps/v2/package_version/audit/", body)

    def revoke_audit(self, app) -> dict:
        return self._post(app, BASE + "revoke_audit/")

    def release(self, app) -> dict:
        return self._post(app, BASE + "release/")

    def rollback_call(self, app) -> dict:
        return self._post(app, BASE + "rollback/")

    def versions(self, app) -> dict:
        return self._get(app, "versions")
