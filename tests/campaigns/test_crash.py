"""Killed mid-wave, the campaign goes on where it stopped: no app committed or submitted twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from releases import step_services
from releases.campaigns import driver, ratelimit
from releases.campaigns.models import Campaign
from releases.campaigns.progress import counts, entries_of
from releases.campaigns.services import campaign_approve
from releases.models import Release, State
from releases.services import release_sweep_in_flight
from tests.campaigns.conftest import calls, submitted_appids, work


class Killed(Exception):
    """Stands for SIGKILL: nothing after the point it is raised at runs."""


def test_a_worker_killed_between_submit_audit_and_the_database_write_submits_nothing_twice(
    fleet, campaign, monkeypatch
):
    apps = fleet(3)
    real, killed = step_services._finish_step, []

    def finish_step(release, name, **kwargs):
        if name == "submit_succeeded" and not killed:
            killed.append(release.pk)
            raise Killed  # WeChat accepted the submission; Sluice never wrote it down
        return real(release, name, **kwargs)

    monkeypatch.setattr(step_services, "_finish_step", finish_step)
    started = campaign(apps)
    work()
    lost = Release.objects.get(pk=killed[0])
    assert lost.state == State.SUBMITTING and len(submitted_appids()) == 3

    driver.campaign_drive(started.pk)  # the driver does not start the lost step again
    assert len(submitted_appids()) == 3
    Release.objects.filter(pk=lost.pk).update(step_lease_until=timezone.now() - timedelta(seconds=1))
    assert release_sweep_in_flight() == 1  # the lease ran out: the sweep takes the step over
    work()

    assert counts(entries_of(started)) == {State.SUBMITTED: 3}
    assert sorted(submitted_appids()) == sorted(app.appid for app in apps)
    assert sorted(calls("wxa/commit").values_list("appid", flat=True)) == sorted(app.appid for app in apps)
    lost.refresh_from_db()
    assert lost.platform_audit_id  # reconciled from the platform's latest submission


def test_a_driver_killed_between_two_apps_resumes_after_its_lease_and_submits_each_app_once(
    fleet, campaign, monkeypatch, mike
):
    apps = fleet(4)
    started = campaign(apps, approve=False)
    real_take, taken = ratelimit.take, []

    def take(account_id, operation, **kwargs):
        taken.append(operation)
        if len(taken) == 3:
            raise Killed
        return real_take(account_id, operation, **kwargs)

    monkeypatch.setattr(ratelimit, "take", take)
    monkeypatch.setattr(driver, "_unclaim", lambda campaign_id, token: None)  # a kill releases nothing
    campaign_approve(campaign=started, actor=mike)
    with pytest.raises(Killed):
        driver.campaign_drive(started.pk)
    work()
    assert len(submitted_appids()) == 2

    assert driver.campaign_drive(started.pk) is None  # its lease still holds the campaign
    Campaign.objects.filter(pk=started.pk).update(driver_lease_until=timezone.now() - timedelta(seconds=1))
    driver.campaign_drive(started.pk)
    work()

    assert sorted(submitted_appids()) == sorted(app.appid for app in apps)
    assert counts(entries_of(started)) == {State.SUBMITTED: 4}
