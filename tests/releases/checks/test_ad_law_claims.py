"""Absolute claims: each reported with its field, exact span and context; ordinals and jargon are not."""

import pytest

from releases.models import State


def test_it_reports_a_ranking_claim_with_its_exact_span(run_check):
    notes = "新版上线：本店销量第一名，欢迎选购。"
    outcome = run_check("ad_law_claims", release_notes=notes)
    assert not outcome.passed
    [span] = outcome.evidence["spans"]
    assert span["field"] == "release_notes"
    assert span["text"] == "第一"
    assert notes[span["start"] : span["end"]] == "第一"
    assert (span["start"], span["end"]) == (9, 11)
    assert span["context"] == notes
    assert "release_notes [9:11] “第一”" in outcome.message


@pytest.mark.parametrize(
    "text, claim",
    [
        ("国家级品质，放心购买", "国家级"),
        ("最高级的面料", "最高级"),
        ("给您最佳体验", "最佳"),
        ("100%正品保障", "100%"),
        ("100%还原门店口味", "100%"),
        ("绝对安全", "绝对"),
        ("顶级原料", "顶级"),
        ("极致体验", "极致"),
        ("全网最低价", "全网最低"),
        ("史上最强优惠", "史上最强"),
        ("全国首家", "全国首家"),
        ("The best shoes in town", "best"),
        ("No.1 shopping app", "No.1"),
        ("the number one choice", "number one"),
        ("Refunds 100% guaranteed", "100% guaranteed"),
        ("百分之百满意", "百分之百"),
        ("第一品牌", "第一"),
    ],
)
def test_it_reports_each_banned_claim(run_check, text, claim):
    outcome = run_check("ad_law_claims", release_notes=text)
    assert [s["text"] for s in outcome.evidence["spans"]] == [claim]


@pytest.mark.parametrize(
    "text",
    [
        "第一次打开时显示引导；第一步填写地址，第一章免费阅读。",
        "订单状态变化会第一时间通知您，第一单立减5元。",
        "图片使用绝对路径，顶级域名改为 .com。",
        "Follows best practices; uploads are best-effort. Best regards.",
        "For best results, update WeChat. We do our best to ship fast.",
        "页面缩放100%时布局正常，图片100%宽度显示。",
        "Fixed issue #1 and No.12 bug.",
        "新增国家级非物质文化遗产专题页。",
        "排序使用最优化算法。",
        "为获得最佳显示效果，请使用最新版微信。",
    ],
)
def test_ordinals_and_technical_terms_are_near_misses_that_do_not_fire(run_check, text):
    outcome = run_check("ad_law_claims", release_notes=text, review_notes=text)
    assert outcome.passed, outcome.message


def test_it_reads_review_notes_and_store_texts_too(run_check):
    outcome = run_check(
        "ad_law_claims",
        review_notes="积分页在 我的 > 积分，顶级体验。",
        report_changes={"store_texts": ["门店小程序", "The best coffee", 42]},
    )
    spans = outcome.evidence["spans"]
    assert [(s["field"], s["text"]) for s in spans] == [("review_notes", "顶级"), ("store_texts[1]", "best")]


def test_a_long_text_shows_twenty_characters_of_context_each_side(run_check):
    notes = "一" * 30 + "绝对" + "二" * 30
    [span] = run_check("ad_law_claims", release_notes=notes).evidence["spans"]
    assert span["context"] == "…" + "一" * 20 + "绝对" + "二" * 20 + "…"


def test_a_claim_in_the_notes_blocks_the_check_gate_with_its_evidence(make_release, check_results):
    release = make_release(release_notes="全网最低价，史上最划算！")
    results, refused = check_results(release)
    assert refused and release.state == State.DRAFT
    result = results["ad_law_claims"]
    assert (result.status, result.severity) == ("failed", "error")
    assert [s["text"] for s in result.evidence["spans"]] == ["全网最低", "史上最划"]
