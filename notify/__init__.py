"""Notifications where teams talk (issue 13): WeCom, DingTalk and Feishu robots, email and
Standard-Webhooks-signed outgoing webhooks, fed from the audit trail by the worker."""
