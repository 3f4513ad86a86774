"""Content compliance: absolute claims and induced sharing in the texts people read.

Word lists and their allow-listed contexts live in data/ad_law_claims.json and
data/induced_sharing.json (format: releases/checks/wordlists.py).
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.checks.base import Check, Outcome, register
from releases.checks.wordlists import find_spans, load_rules, release_texts


class _WordListCheck(Check):
    wordlist = ""
    what = ""

    def run(self, release) -> Outcome:
        rules = load_rules(self.wordlist)
        spans = [span for field, text in release_texts(release) for span in find_spans(field, text, rules)]
        if not spans:
            return Outcome(True)
        return Outcome(
            False,
            (self.what % {"count": len(spans), "spans": "; ".join(span.describe() for span in spans)}),
            {"spans": [span.as_evidence() for span in spans]},
        )


@register
class AdLawClaims(_WordListCheck):
    key = "ad_law_claims"
    title = _("No absolute claims banned by advertising law")
    wordlist = "ad_law_claims"
    what = gettext_noop("%(count)s absolute claim(s): %(spans)s.")
    explanation = _(
        "China's Advertising Law (art. 9) bans absolute claims such as 国家级, 最高级, 最佳, 第一, "
        "100%, 绝对, 顶级, 极致, 全网最低, 史上最…, “best”, “No.1”. Reviewers reject a version whose "
        "release notes, review notes or store texts contain them, and the texts are what users see. "
        "How to fix: replace each highlighted span with a factual, verifiable statement "
        "(“销量第一” → “月销 2 万件”, “最佳体验” → “加载更快”, “100%正品” → “品牌官方授权”). "
        "Ordinals and technical terms are not claims and are not reported: 第一次, 第一步, 第一章, "
        "第一时间, 绝对路径, 顶级域名, best practices, best-effort, 缩放100%."
    )


@register
class InducedSharing(_WordListCheck):
    key = "induced_sharing"
    title = _("No induced or forced sharing")
    wordlist = "induced_sharing"
    what = gettext_noop("%(count)s induced-sharing phrase(s): %(spans)s.")
    explanation = _(
        "WeChat's operating rules forbid making sharing, forwarding, collecting likes or friends' "
        "help a condition of a reward, of content or of using the service (分享后才能使用, 转发领取, "
        "砍一刀, 邀请好友助力, 集赞, 分享到群领红包, 转发到朋友圈才能查看). Reviewers reject it and "
        "repeated offences can get the mini-program's sharing restricted. How to fix: give the "
        "reward or the content without a sharing condition; a share button is fine, a share "
        "requirement is not. Describing the share feature itself (支持分享到群聊) is not reported."
    )
