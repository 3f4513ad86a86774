"""Pause, resume, cancel and retry-failed act on the campaign's apps, and 45009 slows it down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import CampaignState
from releases.campaigns.progress import counts, entries_of, last_error
from releases.campaigns.services import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
)
from releases.errors import Refused
from releases.models import Release, State
from releases.services import release_step_perform
from simulator import operations
from tests.campaigns.conftest import submitted_appids, work


@pytest.fixture
def refuse_submits(monkeypatch):
    """The simulated WeChat answers the next `times` submit_audit calls with `errcode`."""

    def refuse(errcode: int, times: int = 1):
        real, left = operations._check_item_list, {"n": times}

        def check_item_list(items):  # the first thing submit_audit does, before any change
            if left["n"] > 0:
                left["n"] -= 1
                raise operations.SimError(errcode)
            return real(items)

        monkeypatch.setattr(operations, "_check_item_list", check_item_list)

    return refuse


def test_a_paused_campaign_starts_nothing_until_resumed(fleet, campaign, mike, settings):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 2
    started = campaign(fleet(4))
    work()
    assert len(submitted_appids()) == 2

    campaign_pause(campaign=started, actor=mike)
    assert campaign_drive(started.pk) is None
    work()
    assert len(submitted_appids()) == 2

    campaign_resume(campaign=started, actor=mike)
    work()
    assert len(submitted_appids()) == 4


def test_cancel_mid_wave_cancels_what_was_not_submitted_and_leaves_reviews_alone(
    fleet, campaign, mike, settings
):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 2
    started = campaign(fleet(4))
    work()

    campaign_cancel(campaign=started, actor=mike)
    work()

    started.refresh_from_db()
    assert started.state == CampaignState.CANCELLED
    assert counts(entries_of(started)) == {State.SUBMITTED: 2, State.CANCELLED: 2}
    assert len(submitted_appids()) == 2
    with pytest.raises(Refused) as refused:
        campaign_resume(campaign=started, actor=mike)
    assert refused.value.code == "invalid_state"


def test_retry_failed_retries_only_the_app_that_failed(fleet, campaign, mike, refuse_submits):
    refuse_submits(85023)  # a permanent refusal of the first submission
    started = campaign(fleet(3))
    work()

    failed = started.entries.get(release__state=State.SUBMIT_FAILED)
    assert last_error(failed) == "The review items must number 1 to 5."  # WeChat's 85023, in words
    assert counts(entries_of(started)) == {State.SUBMITTED: 2, State.SUBMIT_FAILED: 1}

    assert campaign_retry_failed(campaign=started, actor=mike) == 1
    work()

    assert counts(entries_of(started)) == {State.SUBMITTED: 3}
    assert sorted(submitted_appids()).count(failed.app.appid) == 2  # refused once, then accepted
    assert len(submitted_appids()) == 4


def test_45009_backs_the_campaign_off_until_the_wait_is_over(fleet, campaign, settings, refuse_submits):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 2
    settings.SLUICE_CAMPAIGN_BACKOFF_SECONDS = [120]
    refuse_submits(45009)
    started = campaign(fleet(4))
    work()
    slowed = Release.objects.get(state=State.SUBMITTING)
    assert slowed.last_error_code == "wechat_45009"

    campaign_drive(started.pk)
    started.refresh_from_db()
    assert started.halt_code == "backoff"
    assert started.backoff_until > timezone.now() + timedelta(seconds=100)

    release_step_perform(release_id=slowed.pk, reserved=slowed.step_claimed_by)  # the step's own retry
    campaign_drive(started.pk)
    work()
    assert len(submitted_appids()) == 3  # nothing new while backing off (one refused, two accepted)

    type(started).objects.filter(pk=started.pk).update(backoff_until=timezone.now() - timedelta(seconds=1))
    campaign_drive(started.pk)
    work()
    started.refresh_from_db()
    assert len(submitted_appids()) == 5
    assert started.halt_code == "" and started.backoff_step == 0
