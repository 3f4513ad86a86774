"""Category against features: e-commerce needs goods and ordering pages, social UGC needs the
declaration, a tool may not carry live-stream tipping; other categories are left alone."""

import pytest

from releases.models import State

SHOP = "商家自营 > 服装/鞋/箱包"


@pytest.fixture
def categorised(app):
    def set_categories(*categories):
        app.categories = list(categories)
        app.save(update_fields=["categories"])
        return app

    return set_categories


def test_an_ecommerce_category_without_an_ordering_page_fails_naming_what_is_missing(run_check, categorised):
    categorised(SHOP)
    outcome = run_check(
        "category_features", report_changes={"pages": ["pages/index/index", "pages/goods/list"]}
    )
    assert not outcome.passed
    [problem] = outcome.evidence["problems"]
    assert (problem["category"], problem["rule"]) == (SHOP, "ecommerce")
    assert problem["missing"] == ["an ordering page (a page path containing order, cart, checkout or 订单)"]
    assert f"category “{SHOP}” (e-commerce) needs an ordering page" in outcome.message


def test_an_ecommerce_category_with_no_pages_listed_fails_instead_of_passing(run_check, categorised):
    categorised("电商平台 > 综合")
    outcome = run_check("category_features", report_changes={"pages": []})
    assert not outcome.passed
    assert "the build report lists no pages" in outcome.message
    assert len(outcome.evidence["problems"][0]["missing"]) == 2


@pytest.mark.parametrize(
    "pages",
    [
        ["pages/shop/goods", "pages/shop/order"],
        ["pages/productDetail/index", "pages/cart/index"],
        ["pages/商品/详情", "pages/我的/订单"],
        ["packageA/item_list", "packageB/checkout"],
    ],
)
def test_goods_and_ordering_pages_in_any_spelling_satisfy_ecommerce(run_check, categorised, pages):
    categorised(SHOP)
    assert run_check("category_features", report_changes={"pages": pages}).passed


def test_words_inside_other_words_are_a_near_miss_that_does_not_count(run_check, categorised):
    categorised(SHOP)
    outcome = run_check(
        "category_features", report_changes={"pages": ["pages/goods/list", "pages/recorder/index"]}
    )
    assert not outcome.passed  # "recorder" is not an ordering page


def test_a_social_category_needs_the_ugc_declaration(run_check, categorised):
    categorised("社交 > 社区/论坛")
    outcome = run_check("category_features")
    assert not outcome.passed
    assert outcome.evidence["problems"][0]["missing"] == ["ugc_declaration"]
    assert run_check("category_features", report_changes={"ugc_declaration": True}).passed


def test_community_group_buying_is_a_near_miss_that_is_not_social(run_check, categorised):
    categorised("生活服务 > 社区服务")
    assert run_check("category_features").passed


def test_a_tool_category_may_not_carry_live_stream_tipping(run_check, categorised):
    categorised("工具 > 信息查询")
    outcome = run_check(
        "category_features",
        report_changes={"pages": ["pages/index/index", "pages/liveRoom/giftPanel"], "apis": ["reward.打赏"]},
    )
    assert not outcome.passed
    [problem] = outcome.evidence["problems"]
    assert problem["forbidden"] == "live-stream tipping"
    assert problem["found"] == [
        {"in": "pages", "name": "pages/liveRoom/giftPanel"},
        {"in": "apis", "name": "reward.打赏"},
    ]


@pytest.mark.parametrize("pages", [["pages/live/index"], ["pages/gift/card"], ["pages/live/tooltip"]])
def test_live_without_tipping_or_gifts_without_live_are_near_misses(run_check, categorised, pages):
    categorised("工具 > 信息查询")
    assert run_check("category_features", report_changes={"pages": pages}).passed


def test_an_app_without_categories_or_with_an_unlisted_one_passes(run_check, categorised):
    assert run_check("category_features", report_changes={"pages": []}).passed
    categorised("教育 > 在线教育")
    assert run_check("category_features", report_changes={"pages": []}).passed


def test_a_mismatched_category_blocks_the_check_gate(make_release, check_results, categorised):
    categorised(SHOP)
    release = make_release(build_report={"pages": ["pages/index/index"], "first_screen_ms": 900})
    results, refused = check_results(release)
    assert refused and release.state == State.DRAFT
    result = results["category_features"]
    assert result.status == "failed"
    assert result.evidence["problems"][0]["category"] == SHOP
