"""Split a platform's rejection text into its numbered items.

WeChat numbers reasons and sub-points and joins them with `<br>`:
`1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目...`. Real texts vary (full-width
colons and brackets, `1、` or `1.` numbering, missing `<br>`, HTML entities, plain English),
so numbering is accepted only as a run 1, 2, 3... and anything else is one item.
"""

import html
import re
from dataclasses import asdict, dataclass, field

# Full-width forms WeChat mixes in, mapped to ASCII so one pattern covers both.
_WIDTH = str.maketrans(
    {"：": ":", "（": "(", "）": ")", "．": ".", "；": ";", "　": " "}
    | {chr(0xFF10 + d): str(d) for d in range(10)}
)
_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/?\s*(?:p|div|li)\b[^>]*>|\r\n|\r", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,200}>")
# "1:" "1." "1、" "1)" at a line start or after a space/sentence end, not part of 1.5 or 10:00.
_ITEM = re.compile(r"(?:^|(?<=[\s。;!?.,]))(\d{1,2})\s*(?:[:.](?!\d)|[、)])\s*", re.MULTILINE)
_SUB = re.compile(r"\((\d{1,2})\)\s*:?\s*")
_TRIM = " \t\n:;,.。、-—"


@dataclass
class ReasonItem:
    number: int | None
    title: str
    details: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The item in one line: its title, then its numbered details."""
        if not self.details:
            return self.title
        points = " ".join(f"({i}) {d}" for i, d in enumerate(self.details, 1))
        return f"{self.title}: {points}" if self.title else points

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text}


def clean(raw: str) -> str:
    """Plain text with one line per `<br>`, ASCII punctuation and no markup."""
    text = _BREAK.sub("\n", raw or "")
    text = html.unescape(_TAG.sub("", text)).translate(_WIDTH)
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _sequence(matches: list[re.Match]) -> list[re.Match]:
    """The markers that count 1, 2, 3... in order; stray numbers in the text are skipped."""
    chosen, expected = [], 1
    for match in matches:
        if int(match.group(1)) == expected:
            chosen.append(match)
            expected += 1
    return chosen


def _segments(text: str, pattern: re.Pattern) -> tuple[str, list[tuple[int, str]]]:
    """Text before the first marker, and (number, text) per marker of the 1, 2, 3... run."""
    markers = _sequence(list(pattern.finditer(text)))
    if not markers:
        return text, []
    head = text[: markers[0].start()]
    parts = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        parts.append((int(marker.group(1)), text[marker.end() : end]))
    return head, parts


def _flat(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip(_TRIM)


def _item(number: int | None, body: str) -> ReasonItem:
    title, subs = _segments(body, _SUB)
    details = [_flat(d) for _, d in subs if _flat(d)]
    return ReasonItem(number=number, title=_flat(title), details=details)


def parse_reason(raw: str) -> list[ReasonItem]:
    """The items of a rejection reason; an unnumbered text is a single item."""
    text = clean(raw)
    if not text:
        return []
    head, parts = _segments(text, _ITEM)
    if not parts:
        return [_item(None, text)]
    items = [_item(number, body) for number, body in parts]
    preamble = _flat(head)
    if preamble and not head.rstrip().endswith(":"):
        # Text before "1:" that is not an introduction ("原因如下:") is a reason of its own.
        items.insert(0, _item(None, head))
    return [item for item in items if item.title or item.details]
