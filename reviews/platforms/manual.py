"""The manual platform: the team submits in the platform's console and tells Sluice.

Nothing leaves the building, so every step completes at once; the review outcome is
recorded by a person (`record-outcome`), with the same state machine, approvals and audit
trail as an API platform.
"""

from releases.platforms import PlatformAdapter, Submission
from reviews.rejections import classify_reason


class ManualAdapter(PlatformAdapter):
    runs_inline = True
    outcomes_recorded_by_hand = True

    def upload(self, release) -> None:
        """The team uploads the code in the platform's console: nothing to call."""
        return None

    def submit(self, release) -> Submission:
        return Submission(audit_id="")

    def withdraw(self, release) -> None:
        return None

    def publish(self, release) -> None:
        return None

    def rollback(self, release) -> None:
        return None

    def revert_phased(self, release) -> None:
        return None

    supports_service_stop = True

    def set_service(self, app, online: bool) -> None:
        """Done in the platform's console by whoever pressed it; Sluice records and shows it."""
        return None

    def rejection_items(self, reason: str) -> list[dict]:
        """A reason copied from the console by hand reads like the platform's own: same rules."""
        return classify_reason(reason)
