import logging
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

PENDING_MESSAGE = gettext_noop("Running in the background…")


@dataclass
class Outcome:
    passed: bool
    message: str = ""
    evidence: dict = field(default_factory=dict)


class Check:
    key: str = ""
    title: str = ""
    severity: str = "error"  # "error" blocks the check gate, "warning" only informs
    # Where the check applies: every platform unless a check says otherwise (a platform's own rule,
    # such as WeChat's package sizes or Douyin's reviewer note, names only that platform).
    platforms: tuple[str, ...] = ("wechat", "douyin", "manual")
    explanation: str = ""
    # A slow check talks to the network: it runs in an RQ worker, never in the web request.
    slow: bool = False

    def needs_worker(self, release) -> bool:
        """Whether this run of the check has slow work to do (a slow check may know it has none)."""
        return self.slow

    def run(self, release) -> Outcome:
        raise NotImplementedError


REGISTRY: dict[str, Check] = {}


def register(cls: type[Check]) -> type[Check]:
    REGISTRY[cls.key] = cls()
    return cls


def applicable_checks(release) -> list[Check]:
    platform = release.app.platform_account.platform
    return [check for check in REGISTRY.values() if platform in check.platforms]


def _row(check: Check, status: str, outcome: Outcome) -> dict:
    with translation.override("en"):  # stored results keep the English title; pages translate by key
        title = str(check.title)
    return {
        "key": check.key,
        "title": title,
        "kind": "auto",
        "severity": check.severity,
        "status": status,
        "message": outcome.message,
        "evidence": outcome.evidence,
    }


def evaluate(check: Check, release) -> dict:
    """Run one check; one that raises is an error result, never a pass."""
    try:
        outcome = check.run(release)
        status = "passed" if outcome.passed else "failed"
    except Exception as exc:  # a broken check must block, not wave the release through
        logger.exception("Check %s crashed on release %s", check.key, release.pk)
        outcome = Outcome(
            False,
            gettext_noop("The check itself failed: %(error)s")
            % {"error": f"{exc.__class__.__name__}: {exc}"},
        )
        status = "error"
    return _row(check, status, outcome)


def suppressed(check: Check, suppression) -> dict:
    """The result of a check the app suppressed: it is not run; the row says why and until when."""
    who = suppression.created_by.get_username() if suppression.created_by_id else ""
    until = suppression.expires_on.isoformat()
    message = gettext_noop("Suppressed for this app until %(until)s (inclusive) by %(who)s: %(reason)s") % {
        "until": until,
        "who": who,
        "reason": suppression.reason,
    }
    evidence = {
        "suppression": {
            "id": suppression.pk,
            "reason": suppression.reason,
            "expires_on": until,
            "created_by": who,
            "created_at": suppression.created_at.isoformat(),
        }
    }
    return _row(check, "suppressed", Outcome(False, message, evidence))


def _needs_worker(check: Check, release) -> bool:
    """Unsure (it raised) means yes: the worker then runs the check and reports its error."""
    try:
        return check.needs_worker(release)
    except Exception:  # noqa: BLE001
        logger.exception("Check %s could not tell whether it needs a worker", check.key)
        return check.slow


def run_checks(release, *, suppressions: dict | None = None, defer_slow: bool = True) -> list[dict]:
    """One result per applicable check, in registry order.

    A suppressed check is reported as such without running. With `defer_slow`, a check
    that needs a worker is reported "pending" for `run_pending` to finish later.
    """
    suppressions = suppressions or {}
    results = []
    for check in applicable_checks(release):
        if check.key in suppressions:
            results.append(suppressed(check, suppressions[check.key]))
        elif defer_slow and _needs_worker(check, release):
            results.append(_row(check, "pending", Outcome(False, PENDING_MESSAGE)))
        else:
            results.append(evaluate(check, release))
    return results


def run_pending(release, keys: list[str]) -> dict[str, dict]:
    """Finish the named checks (in a worker): {key: result}."""
    found = {}
    for key in keys:
        check = REGISTRY.get(key)
        if check is None:
            found[key] = {
                "status": "error",
                "message": gettext_noop("The check “%(key)s” no longer exists; run the checks again.")
                % {"key": key},
                "evidence": {},
            }
        else:
            found[key] = evaluate(check, release)
    return found
