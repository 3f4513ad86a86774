"""A release's content that passes every blocking check: what the benchmark and chaos runs write."""

NOTES = "New points page under 我的 > 积分; points are granted after payment."
REPORT = {
    "packages": [{"name": "__FULL__", "size": 3_000_000}, {"name": "__APP__", "size": 1_200_000}],
    "permissions": [],
    "apis": [],
    "pages": ["pages/index/index", "pages/shop/goods"],
    "first_screen_ms": 1200,
    "error_monitoring": "sentry",
}
