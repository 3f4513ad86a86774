"""What a campaign may spend of the monthly review quota (queryquota), shared by every app of
its platform account: how many submissions it needs, how many are left, the reserve it keeps
for urgent fixes and never spends. Read before starting (the plan the create answer shows) and
before every wave (the driver)."""

from dataclasses import dataclass

from releases.campaigns.models import Campaign, CampaignApp, Held
from releases.limits.quota import quota_refresh, review_budget
from releases.models import Release, State
from releases.platforms import PlatformError, has_monthly_quota

# Apps that will never be submitted by the campaign: held before a release exists.
NEVER_SUBMITTED = (Held.AUTHORIZATION_LOST, Held.RENDER_FAILED, Held.NOT_CREATED)
NOT_YET_SUBMITTED = (State.DRAFT, State.CHECKED)


@dataclass(frozen=True)
class Plan:
    submissions_needed: int
    quota_left: int | None  # None: the platform keeps no monthly quota (or it could not be read)
    reserve: int
    in_flight: int = 0  # submissions started but not yet counted by the quota meter

    @property
    def spendable(self) -> int | None:
        """Submissions the campaign may start now without touching the reserve (None: no limit)."""
        if self.quota_left is None:
            return None
        return max(0, self.quota_left - self.in_flight - self.reserve)

    @property
    def enough(self) -> bool:
        return self.spendable is None or self.spendable >= self.submissions_needed

    def as_dict(self) -> dict:
        return {
            "submissions_needed": self.submissions_needed,
            "quota_left": self.quota_left,
            "reserve": self.reserve,
        }


def quota_left(account, *, refresh_unknown: bool = True) -> int | None:
    """The account's submissions left this month; read from the platform when never read.
    A platform call: never inside a transaction."""
    if not has_monthly_quota(account.platform):
        return None
    budget = review_budget(account)
    if budget.limit is None and refresh_unknown:
        try:
            quota_refresh(account)
        except PlatformError:
            return None
        budget = review_budget(account)
    return budget.remaining


def submitting_now(account) -> int:
    return Release.objects.filter(app__platform_account=account, state=State.SUBMITTING).count()


def needed(campaign: Campaign) -> int:
    """Apps still to be submitted: not held for good, no release yet or one not yet submitted,
    plus rejected ones whose group was sent for resubmission."""
    entries = CampaignApp.objects.filter(campaign=campaign).exclude(held__in=NEVER_SUBMITTED)
    fresh = (
        entries.filter(release__isnull=True).count()
        + entries.filter(release__state__in=NOT_YET_SUBMITTED).count()
    )
    again = entries.filter(retry_requested=True, release__state=State.REJECTED).count()
    return fresh + again


def plan_for(campaign: Campaign, *, quota: int | None = None, read: bool = False) -> Plan:
    left = quota if quota is not None else quota_left(campaign.platform_account, refresh_unknown=read)
    return Plan(needed(campaign), left, campaign.reserve, submitting_now(campaign.platform_account))
