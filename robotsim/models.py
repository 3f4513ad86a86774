"""Robots the demo knows (with the secrets they verify) and the messages they received."""

import secrets

from django.db import models
from django.utils import timezone


def _key() -> str:
    return secrets.token_hex(16)


class Robot(models.Model):
    class Vendor(models.TextChoices):
        WECOM = "wecom", "WeCom 企业微信"
        DINGTALK = "dingtalk", "DingTalk 钉钉"
        FEISHU = "feishu", "Feishu 飞书"

    vendor = models.CharField(max_length=10, choices=Vendor.choices)
    name = models.CharField(max_length=120)
    key = models.CharField(max_length=64, unique=True, default=_key)  # WeCom key, DingTalk token, Feishu id
    secret = models.CharField(max_length=128, blank=True)  # DingTalk SEC..., Feishu signing secret

    def __str__(self) -> str:
        return f"{self.name} ({self.get_vendor_display()})"


class Received(models.Model):
    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="received")
    body = models.JSONField(default=dict)
    accepted = models.BooleanField(default=True)
    answer = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-pk"]
