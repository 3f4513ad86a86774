"""Rejection reasons: parse the platform's text into items and sort each into a category."""

from reviews.rejections.classifier import (  # noqa: F401
    CATEGORIES,
    OTHER,
    classify_item,
    classify_reason,
    classify_text,
    load_rules,
    normalise,
    rules_for,
)
from reviews.rejections.parser import ReasonItem, clean, parse_reason  # noqa: F401
