"""A Douyin rejection is remediated with Douyin's playbook (issue 16): its steps speak of the host
apps, the Douyin console and the audit note, while a WeChat rejection of the same category keeps
WeChat's playbook; both read in Chinese."""

from releases.messages import localize
from releases.models import Release, RemediationTask, State
from releases.playbooks.seed import seed_playbooks
from releases.remediation import playbook_for
from simulator.douyin import operations as sim
from tests.fixtures.douyin import DY_APPID
from tests.reviews.douyin.test_adapter import submitted


def test_a_douyin_rejection_gets_the_douyin_playbook_steps(douyin_sim, douyin_release):
    seed_playbooks()
    release = submitted(douyin_release)
    sim.decide(DY_APPID, approve=False, reason="小程序服务类目与实际不符")
    release = Release.objects.get(pk=release.pk)
    assert release.state == State.REJECTED

    tasks = list(RemediationTask.objects.filter(release=release).order_by("position"))
    titles = [task.title for task in tasks]
    assert titles == [
        "Read the reason for each host app",
        "Change the service category in the Douyin console",
        "Upload the qualification for the category in the Douyin console",
        "Write the fix and the test account in the audit note",
    ]
    assert {task.playbook_version.playbook.platform for task in tasks} == {"douyin"}
    assert all(localize(title, "zh-hans") != title for title in titles)  # seeded in both languages


def test_a_category_douyin_has_no_playbook_for_falls_back_to_every_platforms(db):
    seed_playbooks()
    assert playbook_for("performance", "douyin").platform == ""
    assert playbook_for("category_mismatch", "douyin").platform == "douyin"
    wechat = playbook_for("category_mismatch", "wechat")
    assert wechat.platform == "" and wechat.current.steps.first().title == (
        "Compare the features with the selected category"
    )
