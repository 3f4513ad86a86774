"""Stored English read in the reader's language (issue 15, releases/messages.py)."""

from releases.checks.performance import FirstScreenTarget
from releases.gate.rules import _remediation_detail
from releases.messages import localize


class _Release:
    build_report = {"first_screen_ms": 1800}


def test_a_check_message_stored_in_english_reads_in_chinese_with_its_numbers():
    stored = FirstScreenTarget().run(_Release()).message
    assert stored == "First screen in 1800 ms (limit 2000 ms)."
    assert localize(stored, "zh-hans") == "首屏耗时 1800 毫秒（上限 2000 毫秒）。"


def test_a_refusal_naming_remediation_tasks_translates_the_tasks_too():
    class Facts:
        open_tasks = ["Explain every permission in the privacy policy", "Serve static assets from a CDN"]

    stored = _remediation_detail(Facts())
    assert stored.startswith("2 required remediation tasks are still open (Explain every permission")
    shown = localize(stored, "zh-hans")
    assert shown.startswith(
        "还有 2 项必做整改任务未完成（在隐私政策中说明每一项权限；通过 CDN 提供静态资源）"
    )


def test_what_a_person_typed_and_english_readers_see_the_text_as_stored():
    assert localize("Legal cleared it.", "zh-hans") == "Legal cleared it."
    assert localize("隐私政策不完善", "zh-hans") == "隐私政策不完善"
    assert localize("Review notes are empty.", "en") == "Review notes are empty."
    assert localize("Review notes are empty.", "zh-hans") == "审核说明为空。"


def test_a_limit_refusal_translates_its_beijing_time_and_category():
    stored = (
        "Shop was rejected 2 times in a row for privacy policy; submissions are locked until "
        "2026-12-08 10:00 Beijing time. Fix the cause before resubmitting."
    )
    shown = localize(stored, "zh-hans")
    assert shown.startswith("Shop 因“隐私保护指引”连续被驳回 2 次，提审已锁定至 北京时间 2026-12-08 10:00。")


def test_a_cut_short_list_of_known_items_reads_item_by_item():
    """The remediation refusal lists at most five task titles and ends with "…": each title is
    translated, and no loose pattern ("%(a)s of %(b)s") swallows the list."""
    from django.utils import translation

    from releases.messages import localize

    tasks = (
        "Explain every permission in the privacy policy; Split the code into subpackages of at most 2 MB; …"
    )
    with translation.override("zh-hans"):
        shown = localize(tasks)
    assert shown == "在隐私政策中说明每一项权限；将代码拆分为不超过 2 MB 的分包；…"
