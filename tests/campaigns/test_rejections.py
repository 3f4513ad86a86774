"""Rejections at fleet scale: grouped by reason, remediated once, resubmitted together; an app
rejected twice for the same reason is parked by the lock, visibly."""

import pytest

from releases.campaigns.driver import campaign_drive
from releases.campaigns.groups import campaign_group_remediate, campaign_group_resubmit
from releases.campaigns.progress import counts, entries_of, rejection_groups
from releases.errors import Refused
from releases.models import Release, RemediationTask, State
from releases.playbooks.seed import seed_playbooks
from simulator.models import SimSubmission
from simulator.services import sim_decide
from tests.campaigns.conftest import work
from tests.reviews.wechat_helpers import REJECTION

NOTE = "Account name and avatar now match the merchant's licence."


def decide(appids, outcome: str, reason: str = "") -> None:
    for release in Release.objects.filter(app__appid__in=appids, state=State.SUBMITTED):
        sim_decide(auditid=int(release.platform_audit_id), outcome=outcome, reason=reason)
    work()  # the pushes reach Sluice's callback URL


def test_rejections_are_grouped_remediated_once_and_resubmitted_together(fleet, campaign, alice, mike):
    seed_playbooks()  # each playbook ends with "explain the fix to the reviewer": feedback_info
    apps = fleet(4)
    started = campaign(apps)
    work()
    rejected = [app.appid for app in apps[:3]]
    decide(rejected, "rejected", REJECTION)
    decide([apps[3].appid], "approved")

    (group,) = rejection_groups(started)
    assert group["category"] == "account_information" and group["reason"] == "账号信息不符合规范"
    assert sorted(a["appid"] for a in group["apps"]) == sorted(rejected)
    assert all(a["open_tasks"] and not a["parked"] for a in group["apps"])
    with pytest.raises(Refused) as refused:
        campaign_group_resubmit(campaign=started, key=group["key"], actor=mike)
    assert refused.value.code == "remediation_incomplete"

    done = campaign_group_remediate(campaign=started, key=group["key"], actor=alice, note=NOTE)
    assert done["tasks_done"] == RemediationTask.objects.filter(release__app__appid__in=rejected).count()
    assert not RemediationTask.objects.filter(done=False, release__app__appid__in=rejected).exists()
    campaign_group_resubmit(campaign=started, key=group["key"], actor=mike)
    work()

    assert counts(entries_of(started)) == {State.SUBMITTED: 3, State.APPROVED: 1}
    again = SimSubmission.objects.filter(
        authorizer__appid__in=rejected, status=SimSubmission.Status.IN_REVIEW
    )
    assert sorted(again.values_list("feedback_info", flat=True)) == [NOTE] * 3
    assert rejection_groups(started) == []


def test_an_app_rejected_twice_for_the_same_reason_is_parked_and_left_out_of_the_resubmission(
    fleet, campaign, alice, mike
):
    apps = fleet(2)
    started = campaign(apps)
    work()
    appids = [app.appid for app in apps]
    decide(appids, "rejected", REJECTION)
    (group,) = rejection_groups(started)
    campaign_group_remediate(campaign=started, key=group["key"], actor=alice, note=NOTE)
    campaign_group_resubmit(campaign=started, key=group["key"], actor=mike)
    work()
    decide([appids[0]], "rejected", REJECTION)  # the second rejection in a row, same reason
    decide([appids[1]], "rejected", "1:服务类目不符:<br>(1):功能与类目不符<br>")

    groups = {g["reason"]: g for g in rejection_groups(started)}
    (parked,) = groups["账号信息不符合规范"]["apps"]
    assert parked["appid"] == appids[0] and parked["parked"] and parked["parked_until"]
    (other,) = groups["服务类目不符"]["apps"]
    assert not other["parked"]

    key = groups["账号信息不符合规范"]["key"]
    campaign_group_remediate(campaign=started, key=key, actor=alice, note=NOTE)
    answer = campaign_group_resubmit(campaign=started, key=key, actor=mike)
    assert answer["queued"] == 0 and answer["parked"] == [appids[0]]
    campaign_drive(started.pk)
    work()
    assert Release.objects.get(app=apps[0]).state == State.REJECTED
