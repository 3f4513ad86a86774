"""Privacy: the policy page is public and explains every sensitive permission the code uses;
and the platform's own privacy-interface scan, where the platform offers one.

Both talk to the network, so they run in a worker (Check.slow). The mapping from WeChat
permission and API names to the words a policy must contain is data/privacy_terms.json.
"""

import json
import re
from dataclasses import dataclass
from functools import cache

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register
from releases.checks.fetch import FetchError, fetch_page
from releases.checks.wordlists import DATA_DIR
from releases.platforms import adapter_for

CONTEXT_CHARS = 30


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    names: frozenset[str]
    words: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]


def normalize(name: str) -> str:
    """'wx.getLocation' and 'getLocation' are the same API; scopes keep their 'scope.' prefix."""
    name = name.strip().lower()
    return name[3:] if name.startswith("wx.") else name


def _word_pattern(word: str) -> re.Pattern:
    # Latin words must start a word ("location" not inside "allocation"); CJK has no word breaks.
    prefix = r"(?<![a-z])" if re.match(r"[a-z]", word, re.IGNORECASE) else ""
    return re.compile(prefix + re.escape(word), re.IGNORECASE)


@cache
def load_topics() -> tuple[Topic, ...]:
    with open(DATA_DIR / "privacy_terms.json", encoding="utf-8") as handle:
        raw = json.load(handle)["topics"]
    return tuple(
        Topic(
            id=t["id"],
            label=t["label"],
            names=frozenset(normalize(n) for n in t["names"]),
            words=tuple(t["words"]),
            patterns=tuple(_word_pattern(w) for w in t["words"]),
        )
        for t in raw
    )


def _names(report: dict) -> list[str]:
    found = []
    for key in ("permissions", "apis"):
        value = report.get(key)
        if isinstance(value, list):
            found += [v for v in value if isinstance(v, str) and v.strip()]
    return found


def sensitive_uses(report) -> list[tuple[Topic, list[str]]]:
    """The topics the build report touches, each with the names that brought it in."""
    names = _names(report if isinstance(report, dict) else {})
    uses = []
    for topic in load_topics():
        because = [n for n in names if normalize(n) in topic.names]
        if because:
            uses.append((topic, because))
    return uses


def find_mention(text: str, topic: Topic) -> dict | None:
    """The first of the topic's words in the text, with the words around it."""
    for word, pattern in zip(topic.words, topic.patterns, strict=True):
        match = pattern.search(text)
        if match:
            start, end = match.span()
            left, right = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
            return {
                "word": word,
                "before": ("…" if left else "") + text[left:start],
                "text": text[start:end],
                "after": text[end:right] + ("…" if right < len(text) else ""),
            }
    return None


@register
class PrivacyPolicy(Check):
    key = "privacy_policy"
    title = _("Privacy policy is public and explains every sensitive permission")
    slow = True
    explanation = _(
        "WeChat requires a user privacy policy (用户隐私保护指引) that users and reviewers can open, "
        "and it must say why each sensitive permission is needed: a build that reads the location, "
        "the phone number, the camera, the album, the microphone, contacts, the clipboard or Bluetooth "
        "without the policy mentioning it is rejected (“隐私政策不完整”). Sluice opens the app's privacy "
        "policy URL (it must answer 200 within the timeout, without sending the reader to a login page) "
        "and looks, for every permission or API the build report lists, for the words a policy uses "
        "for it in Chinese or English (location: 位置, 地理位置, 定位, location). How to fix: add a "
        "paragraph per missing item saying what is collected, why, and how long it is kept (e.g. "
        "“我们会在您使用附近门店功能时获取您的位置信息，用于推荐最近的门店”), publish it at a public URL, "
        "and set that URL on the app page; or remove the permission from the code."
    )

    def needs_worker(self, release) -> bool:
        return bool((release.app.privacy_policy_url or "").strip())

    def run(self, release) -> Outcome:
        uses = sensitive_uses(release.build_report)
        url = (release.app.privacy_policy_url or "").strip()
        if not url:
            if not uses:
                return Outcome(
                    True,
                    gettext_noop(
                        "The build report lists no sensitive permission or API, and no policy URL is set."
                    ),
                )
            return Outcome(
                False,
                gettext_noop(
                    "The build uses %(uses)s but the app has no privacy policy URL. Set one on the app page."
                )
                % {
                    "uses": "; ".join(
                        gettext_noop("%(label)s (%(because)s)")
                        % {"label": t.label, "because": ", ".join(because)}
                        for t, because in uses
                    )
                },
                {"url": "", "missing": [self._missing(t, because) for t, because in uses]},
            )
        try:
            page = fetch_page(url)
        except FetchError as exc:
            return Outcome(
                False,
                gettext_noop("The privacy policy is not reachable: %(problem)s") % {"problem": exc.message},
                {"url": url, **exc.evidence},
            )
        covered, missing = [], []
        for topic, because in uses:
            mention = find_mention(page.text, topic)
            if mention is None:
                missing.append(self._missing(topic, because))
            else:
                covered.append(
                    {"topic": topic.id, "label": topic.label, "because": because, "found": mention}
                )
        evidence = {"url": url, "final_url": page.final_url, "status": page.status, "covered": covered}
        if missing:
            return Outcome(
                False,
                gettext_noop("The policy at %(url)s never mentions %(missing)s.")
                % {"url": url, "missing": "; ".join(_describe_missing(m) for m in missing)},
                {**evidence, "missing": missing},
            )
        if not uses:
            return Outcome(
                True,
                gettext_noop("The policy at %(url)s answers 200; the build uses no sensitive permission.")
                % {"url": url},
                evidence,
            )
        return Outcome(
            True,
            gettext_noop(
                "The policy at %(url)s answers 200 and mentions all %(count)s sensitive item(s) the build uses."  # noqa: E501
            )
            % {"url": url, "count": len(uses)},
            evidence,
        )

    @staticmethod
    def _missing(topic: Topic, because: list[str]) -> dict:
        return {"topic": topic.id, "label": topic.label, "because": because, "looked_for": list(topic.words)}


@register
class PlatformPrivacyScan(Check):
    key = "platform_privacy_scan"
    platforms = ("wechat", "manual")  # Douyin offers no such scan to third parties
    title = _("The platform's privacy-interface scan is clean")
    slow = True
    explanation = _(
        "WeChat scans every uploaded build for privacy interfaces (get_code_privacy_info): an API the "
        "code calls without declaring it in the user privacy guideline (without_auth_list) or in "
        "app.json's requiredPrivateInfos (without_conf_list) makes the submission fail (errcode 61040) "
        "or be rejected. How to fix: declare each listed API in the privacy guideline (小程序管理后台 > "
        "设置 > 服务内容声明 > 用户隐私保护指引) and, for the location APIs, in requiredPrivateInfos; or "
        "remove the call. Platforms without such a scan pass this check with a note."
    )

    def needs_worker(self, release) -> bool:
        return not adapter_for(release.app.platform_account).runs_inline

    def run(self, release) -> Outcome:
        items = adapter_for(release.app.platform_account).privacy_scan(release)
        if items is None:
            return Outcome(True, gettext_noop("Skipped: not offered by this platform."))
        if not items:
            return Outcome(True, gettext_noop("The platform's scan found nothing undeclared."))
        described = [_describe_item(item) for item in items]
        return Outcome(
            False,
            gettext_noop("The platform's scan lists %(count)s problem(s): %(problems)s.")
            % {"count": len(items), "problems": "; ".join(described)},
            {"items": items},
        )


def _describe_missing(missing: dict) -> str:
    used, words = ", ".join(missing["because"]), ", ".join(missing["looked_for"])
    return gettext_noop("%(label)s (used by %(used)s; looked for %(words)s)") % {
        "label": missing["label"],
        "used": used,
        "words": words,
    }


def _describe_item(item) -> str:
    if not isinstance(item, dict):
        return str(item)
    name = item.get("api") or item.get("name") or ""
    text = item.get("message") or item.get("problem") or ""
    return f"{name}: {text}" if name and text else name or text or json.dumps(item, ensure_ascii=False)
