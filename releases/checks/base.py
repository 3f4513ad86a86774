import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    passed: bool
    message: str = ""
    evidence: dict = field(default_factory=dict)


class Check:
    key: str = ""
    title: str = ""
    severity: str = "error"  # "error" blocks the check gate, "warning" only informs
    platforms: tuple[str, ...] = ("wechat", "manual")
    explanation: str = ""

    def run(self, release) -> Outcome:
        raise NotImplementedError


REGISTRY: dict[str, Check] = {}


def register(cls: type[Check]) -> type[Check]:
    REGISTRY[cls.key] = cls()
    return cls


def run_checks(release) -> list[dict]:
    """One result per applicable check; a check that raises is an error result, never a pass."""
    platform = release.app.platform_account.platform
    results = []
    for check in REGISTRY.values():
        if platform not in check.platforms:
            continue
        try:
            outcome = check.run(release)
            status = "passed" if outcome.passed else "failed"
        except Exception as exc:  # a broken check must block, not wave the release through
            logger.exception("Check %s crashed on release %s", check.key, release.pk)
            outcome = Outcome(False, f"The check itself failed: {exc.__class__.__name__}: {exc}")
            status = "error"
        results.append(
            {
                "key": check.key,
                "title": check.title,
                "kind": "auto",
                "severity": check.severity,
                "status": status,
                "message": outcome.message,
                "evidence": outcome.evidence,
            }
        )
    return results
