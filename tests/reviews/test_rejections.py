"""Rejection reasons: WeChat's numbered text parsed into items, each sorted into a category.

The cases are the domain's own: the seed articles' rejection tables and checklists, and the
official WeChat samples in platform-apis.md (§2.5, §2.6, §5.3).
"""

import pytest

from releases import services
from releases.models import Rejection, UnclassifiedReason
from releases.rejection_recording import on_rejected, reclassify_rejections, unclassified_reasons
from reviews.rejections import classify_reason, classify_text, load_rules, parse_reason

# platform-apis.md §5.3, the official weapp_audit_fail push, verbatim.
OFFICIAL_FAIL = (
    '1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目"金融业-保险_"与你提交代码审核时设置的功能页面内容不一致:'
    "<br>(1):功能页面设置的部分标签不属于所选的服务类目范围。<br>(2):功能页面设置的部分标签与该页面内容不相关。<br>"
)
# §5.3 official weapp_audit_delay reason: not a rejection cause, so nothing recognises it.
OFFICIAL_DELAY = (
    "为了更好的服务小程序，您的服务商正在进行提审系统的优化，可能会导致审核时效的增长，请耐心等待"
)


def test_it_splits_the_official_reason_into_numbered_items_with_their_points():
    items = parse_reason(OFFICIAL_FAIL)
    assert [(i.number, i.title) for i in items] == [
        (1, "账号信息不符合规范"),
        (2, '服务类目"金融业-保险_"与你提交代码审核时设置的功能页面内容不一致'),
    ]
    assert items[0].details == ["包含色情因素"]
    assert items[1].details == [
        "功能页面设置的部分标签不属于所选的服务类目范围",
        "功能页面设置的部分标签与该页面内容不相关",
    ]
    assert items[0].text == "账号信息不符合规范: (1) 包含色情因素"


def test_it_classifies_each_item_of_the_official_reason():
    assert [i["category"] for i in classify_reason(OFFICIAL_FAIL)] == [
        "account_information",
        "category_mismatch",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "1：账号信息不符合规范：（1）：包含色情因素 2：服务类目与功能页面内容不一致",  # full width, no <br>
        "1:账号信息不符合规范:(1):包含色情因素\n2:服务类目与功能页面内容不一致",  # newlines
        "1、账号信息不符合规范<br/>（1）包含色情因素<BR />2、服务类目与功能页面内容不一致",  # 1、 and <br/>
        "审核未通过，原因如下：<p>1.账号信息不符合规范:(1)包含色情因素</p><p>2.服务类目与功能页面内容不一致</p>",
    ],
)
def test_it_parses_the_variants_of_the_numbered_format(raw):
    items = parse_reason(raw)
    assert [i.number for i in items] == [1, 2]
    assert items[0].title == "账号信息不符合规范"
    assert items[0].details == ["包含色情因素"]
    assert [i["category"] for i in classify_reason(raw)] == ["account_information", "category_mismatch"]


def test_an_unnumbered_text_is_one_item():
    assert [i.as_dict()["text"] for i in parse_reason("帐号信息不合规范")] == ["帐号信息不合规范"]
    english = "Your mini program does not explain why it collects the phone number."
    assert [i.text for i in parse_reason(english)] == [english.rstrip(".")]


def test_numbers_inside_the_text_are_not_mistaken_for_items():
    items = parse_reason("1、首屏加载时间超过1.5秒<br>2、10:00后无法下单")
    assert [i.title for i in items] == ["首屏加载时间超过1.5秒", "10:00后无法下单"]
    assert [i["category"] for i in classify_reason("1、首屏加载时间超过1.5秒<br>2、10:00后无法下单")] == [
        "performance",
        "functional_bug",
    ]


def test_html_entities_and_empty_text_are_handled():
    assert parse_reason("") == []
    assert parse_reason("<br><br>") == []
    assert parse_reason("商品&quot;价格&quot;异常")[0].title == '商品"价格"异常'


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # platform-apis.md §2.5 / §2.6 official samples
        ("帐号信息不合规范", "account_information"),
        # seed 000: the table of rejection causes
        ("功能与类目不符", "category_mismatch"),
        ("隐私政策不完善", "privacy_policy"),
        ("性能问题(如加载过慢)", "performance"),
        # seed 001, table 3: product rejections 2023
        ("资质不符", "qualification"),
        ("类目错放", "wrong_category"),
        ("图片违规", "image_violation"),
        ("价格异常", "abnormal_price"),
        # seed 001: what the review looks at
        ("主体资质真实性(如营业执照有效期)", "qualification"),
        ("服务类目与实际功能一致性(如“工具”类不得含直播打赏)", "category_mismatch"),
        ("网页内容安全性(杜绝诱导分享、虚假广告)", "content_or_induced_sharing"),
        ("注意规避诱导分享(如“砍一刀”),以免触发封禁处罚", "content_or_induced_sharing"),
        ("虚假宣传:对比图需标注比例,禁用“国家级”等绝对化用语", "content_or_induced_sharing"),
        ("销售假冒商品:可能面临十倍赔偿及封号处理", "content_or_induced_sharing"),
        ("数据泄露:未加密存储用户信息最高罚营收5%", "privacy_policy"),
        ("开通虚拟支付:若销售课程、会员等虚拟商品,需补充《电信业务经营许可证》", "qualification"),
        # seed 000: the pre-submission checklist, each a typical rejection
        ("隐私政策链接需可正常访问,涉及地理位置、摄像头权限需在隐私政策中说明使用场景", "privacy_policy"),
        ("“获取手机号”需说明用于账户登录", "privacy_policy"),
        ("禁止发布虚假宣传、侵权内容", "content_or_induced_sharing"),
        ("核心功能无致命bug(如支付失败、页面无法跳转)", "functional_bug"),
        ("首屏加载时间应控制在2秒内", "performance"),
        ("优化资源大小(分包加载至2MB以内),启用CDN加速", "performance"),
        ("填写小程序服务类目(选择与功能最匹配的类目,类目不符可能导致审核驳回)", "category_mismatch"),
        # seed 003 / 004
        ("禁止强制分享、诱导转发(如“不分享就无法继续使用”)", "content_or_induced_sharing"),
        ("虚假宣传(如“100%中奖”未兑现)", "content_or_induced_sharing"),
        ("不发布违法违规、低俗色情内容", "content_or_induced_sharing"),
        ("不随意收集非必要信息,获取用户授权需明确告知用途", "privacy_policy"),
        ("小程序加载速度每延迟1秒会导致用户流失率增加7%", "performance"),
        # the official push's points, alone
        ("包含色情因素", "content_or_induced_sharing"),
        ("功能页面设置的部分标签不属于所选的服务类目范围", "category_mismatch"),
        # English
        ("The privacy policy does not explain the location permission", "privacy_policy"),
        ("Features do not match the selected category", "category_mismatch"),
        ("Please choose the correct category for your goods", "wrong_category"),
        ("The first screen is too slow to load", "performance"),
        ("Business licence expired", "qualification"),
        ("The product images contain a watermark", "image_violation"),
        ("Abnormal price on the goods page", "abnormal_price"),
        ("Induced sharing: users must share to unlock the coupon", "content_or_induced_sharing"),
        ("The mini program name is misleading", "account_information"),
        ("The app crashes on login", "functional_bug"),
    ],
)
def test_it_classifies_the_domain_examples(text, category):
    assert classify_text(text) == category


@pytest.mark.parametrize(
    "text",
    [OFFICIAL_DELAY, "问题详见截图", "The flag is wrong", "请修改后重新提交"],
)
def test_what_no_rule_recognises_is_other(text):
    assert classify_text(text) == "other"


def test_the_title_decides_over_its_points():
    # The account's information is the problem, even though the point names pornography.
    assert (
        classify_reason("1:账号信息不符合规范:<br>(1):包含色情因素")[0]["category"] == "account_information"
    )
    # A title that says nothing lets the points decide.
    assert classify_reason("1:存在以下问题:<br>(1):隐私政策不完善")[0]["category"] == "privacy_policy"


def test_the_rules_file_is_valid_and_covers_every_category():
    book = load_rules()
    covered = {rule.category for rule in book.rules}
    assert covered == {
        "category_mismatch",
        "privacy_policy",
        "performance",
        "qualification",
        "wrong_category",
        "image_violation",
        "abnormal_price",
        "content_or_induced_sharing",
        "account_information",
        "functional_bug",
    }


def test_a_broken_rules_file_names_the_rule(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "typo"\ncategory = "privacy"\nkeywords = ["隐私"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="typo has an unknown category 'privacy'"):
        load_rules(path)
    path.write_text(
        '[[rule]]\nname = "bad"\ncategory = "privacy_policy"\npatterns = ["("]\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="bad has a bad pattern"):
        load_rules(path)


def _reject(make_release, mike, version, reason):
    release = make_release(version, upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
    release.refresh_from_db()
    return release


def test_a_rejection_keeps_the_raw_text_and_its_classified_items(make_release, mike):
    release = _reject(make_release, mike, "1.0.0", OFFICIAL_FAIL)
    rejection = on_rejected(release)
    assert rejection.reason == OFFICIAL_FAIL.strip()
    assert rejection.categories == ["account_information", "category_mismatch"]
    assert [i["text"] for i in rejection.items][0] == "账号信息不符合规范: (1) 包含色情因素"
    assert rejection.audit_event_id is not None
    assert on_rejected(release) == rejection  # recorded once
    assert Rejection.objects.count() == 1


def test_unknown_reasons_are_counted_most_frequent_first(make_release, mike):
    for version, reason in (
        ("1.0.0", "1:请修改后重新提交<br>2:隐私政策不完善"),
        ("1.0.1", "请修改后重新提交"),
        ("1.0.2", "小程序内容过于简单"),
    ):
        on_rejected(_reject(make_release, mike, version, reason))
    rows = unclassified_reasons()
    assert [(r.text, r.count) for r in rows] == [("请修改后重新提交", 2), ("小程序内容过于简单", 1)]


def test_reclassifying_recounts_with_the_current_rules(make_release, mike):
    on_rejected(_reject(make_release, mike, "1.0.0", "小程序内容过于简单"))
    UnclassifiedReason.objects.update(count=7)
    assert reclassify_rejections() == 1
    assert [(r.text, r.count) for r in unclassified_reasons()] == [("小程序内容过于简单", 1)]


SIMULATOR_EXPECTED = {
    "account-porn": "account_information",
    "category-mismatch": "category_mismatch",
    "category-tags": "category_mismatch",
    "privacy-policy": "privacy_policy",
    "privacy-consent": "privacy_policy",
    "performance": "performance",
    "qualification": "qualification",
    "induced-sharing": "content_or_induced_sharing",
    "absolute-claims": "content_or_induced_sharing",
    "image-violation": "image_violation",
    "abnormal-price": "abnormal_price",
    "incomplete-features": "functional_bug",
}


def test_every_reason_the_simulator_can_send_is_recognised():
    simulator = pytest.importorskip("simulator.services")
    catalogue = simulator.reason_catalogue()
    raw = simulator.format_reasons(catalogue, "请修改后重新提交。")
    items = classify_reason(raw)
    assert len(items) == len(catalogue)
    for entry, item in zip(catalogue, items, strict=True):
        assert item["title"] == entry["title"]
        assert item["category"] == SIMULATOR_EXPECTED.get(entry["key"], item["category"]) != "other", entry
