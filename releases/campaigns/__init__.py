"""Campaigns (issue 14): one template version shipped to many apps of one platform account.

A campaign is a driver, not a second state machine for releases: each app gets an ordinary
release (template_id + its rendered ext_json) that moves through the usual services, checks,
approval, submit, review and publish, with their guards and audit. The campaign adds what only
makes sense across apps: one approval, waves within the shared monthly quota and its reserve,
a call-rate budget per operation, and rejections grouped by reason.

- models.py: Campaign, CampaignApp (one row per targeted app, with why it is held, if it is)
- render.py: `{{ variable }}` placeholders, substituted without evaluating anything
- plan.py: submissions needed, quota left, the reserve, and what may be spent now
- ratelimit.py: a token bucket per platform account and operation, in Redis
- services.py: campaign_<action>, each audited in its own atomic block
- driver.py: the claimed, idempotent RQ job that moves the apps on
- progress.py: counts, app rows and rejection groups, as the page and the API show them
"""
