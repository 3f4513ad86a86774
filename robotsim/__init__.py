"""A stand-in for the team-chat robots (development only): WeCom, DingTalk and Feishu webhook
endpoints that check what the real ones check (key, signature, rate, message shape), answer in
their codes, keep what they received, and a page showing it as each app would display it."""
