"""Induced sharing: a sharing condition or reward is reported; a share button is not."""

import pytest

from releases.models import State


def test_it_reports_sharing_as_a_condition_with_its_span(run_check):
    notes = "活动规则：分享到朋友圈后才能领取优惠券。"
    outcome = run_check("induced_sharing", release_notes=notes)
    assert not outcome.passed
    [span] = outcome.evidence["spans"]
    assert (span["field"], span["text"]) == ("release_notes", "分享到朋友圈后才能")
    assert notes[span["start"] : span["end"]] == span["text"]
    assert "分享到朋友圈后才能" in outcome.message


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("分享后才能使用全部功能", "分享后才能"),
        ("分享后可领取红包", "分享后可"),
        ("转发领取积分", "转发领取"),
        ("邀请好友帮我砍一刀", "帮我砍一刀"),
        ("邀请好友助力免费拿", "邀请好友助力"),
        ("集赞38个送咖啡", "集赞"),
        ("分享到3个群即可解锁", "分享到3个群即可"),
        ("转发到朋友圈才能查看答案", "转发到朋友圈才能"),
        ("分享到群领红包", "分享到群"),
        ("Share with 3 friends to unlock the level", "Share with 3 friends to unlock"),
        ("Invite friends to help you win", "Invite friends to help"),
    ],
)
def test_it_reports_each_induced_sharing_phrase(run_check, text, phrase):
    outcome = run_check("induced_sharing", release_notes=text)
    assert [s["text"] for s in outcome.evidence["spans"]] == [phrase]


@pytest.mark.parametrize(
    "text",
    [
        "文章页支持分享到群聊，也可一键转发到群。",
        "分享功能上线后可在设置中关闭。",
        "新增知识分享领域专栏；收集赞美与建议的留言板。",
        "You can share this page to WeChat.",
    ],
)
def test_describing_a_share_feature_is_a_near_miss_that_does_not_fire(run_check, text):
    outcome = run_check("induced_sharing", release_notes=text, review_notes=text)
    assert outcome.passed, outcome.message


def test_it_reads_store_texts(run_check):
    outcome = run_check("induced_sharing", report_changes={"store_texts": ["砍一刀，0元拿"]})
    assert [(s["field"], s["text"]) for s in outcome.evidence["spans"]] == [("store_texts[0]", "砍一刀")]


def test_induced_sharing_in_review_notes_blocks_the_check_gate(make_release, check_results):
    release = make_release(review_notes="新增活动页：邀请好友助力即可免费领取。")
    results, refused = check_results(release)
    assert refused and release.state == State.DRAFT
    result = results["induced_sharing"]
    assert result.status == "failed"
    assert result.evidence["spans"][0]["field"] == "review_notes"
