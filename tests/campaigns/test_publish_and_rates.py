"""A campaign publishes what the platform approved and ends; its calls share one token bucket."""

from releases.campaigns import ratelimit
from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import CampaignState
from releases.campaigns.progress import counts, entries_of
from releases.campaigns.services import campaign_publish
from releases.models import Release, State
from simulator.services import sim_decide
from tests.campaigns.conftest import calls, work


def test_the_approved_apps_are_published_and_the_campaign_is_done(fleet, campaign, mike):
    apps = fleet(2)
    started = campaign(apps)
    work()
    for release in Release.objects.filter(state=State.SUBMITTED):
        sim_decide(auditid=int(release.platform_audit_id), outcome="approved")
    work()

    campaign_publish(campaign=started, actor=mike)
    work()
    campaign_drive(started.pk)

    started.refresh_from_db()
    assert counts(entries_of(started)) == {State.PUBLISHED: 2}
    assert started.state == CampaignState.DONE
    assert sorted(calls("wxa/release").values_list("appid", flat=True)) == sorted(a.appid for a in apps)


def test_an_empty_bucket_ends_the_wave_until_tokens_drip_back(fleet, campaign, settings, redis_db):
    settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE = {"*": 30, "submit": 2}
    apps = fleet(3)
    ratelimit.reset(apps[0].platform_account_id, "submit")
    started = campaign(apps)
    work()
    assert calls().count() == 2
    campaign_drive(started.pk)
    started.refresh_from_db()
    assert started.halt_code == "rate_limit" and calls().count() == 2


def test_the_bucket_refills_at_its_rate(redis_db, settings):
    settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE = {"*": 60}
    taken = [ratelimit.take(1, "submit", now=1000.0) for _ in range(61)]
    assert taken.count(True) == 60 and taken[-1] is False
    assert ratelimit.take(1, "submit", now=1001.0)  # one a second comes back
    assert not ratelimit.take(1, "submit", now=1001.0)
    assert ratelimit.take(1, "publish", now=1001.0)  # another operation, another bucket
