"""Demo notifications for `make run` (after `seed_demo`): three stand-in robots and a channel on
each, so a new user sees messages at /sim/robots/ without any WeCom, DingTalk or Feishu account.
Idempotent."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notify.models import Channel
from releases.models import Team
from robotsim.models import Robot

ROBOTS = [
    ("wecom", "发布群 (WeCom)", "", "zh-Hans"),
    ("dingtalk", "Release room (DingTalk)", "SECdemo" + "0" * 20, "en"),
    ("feishu", "发布群 (Feishu)", "demo-feishu-secret", "zh-Hans"),
]


def _this_server() -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/sim/robots"


def robot_url(robot: Robot) -> str:
    base = _this_server()
    return {
        "wecom": f"{base}/wecom/cgi-bin/webhook/send?key={robot.key}",
        "dingtalk": f"{base}/dingtalk/robot/send?access_token={robot.key}",
        "feishu": f"{base}/feishu/open-apis/bot/v2/hook/{robot.key}",
    }[robot.vendor]


class Command(BaseCommand):
    help = "Create stand-in robots and a notification channel on each for the demo team."

    @transaction.atomic
    def handle(self, *args, **options):
        team = Team.objects.filter(name="Demo team").first()
        if team is None:
            raise CommandError("Run `manage.py seed_demo` first: the demo team is missing.")
        for vendor, name, secret, language in ROBOTS:
            robot, _ = Robot.objects.get_or_create(vendor=vendor, name=name, defaults={"secret": secret})
            channel = Channel.objects.filter(team=team, name=name).first()
            if channel is None:
                Channel.objects.create(
                    team=team,
                    kind=vendor,
                    name=name,
                    url=robot_url(robot),
                    secret=robot.secret,
                    language=language,
                )
            elif channel.url != robot_url(robot):  # another PORT this time
                channel.url = robot_url(robot)
                channel.save(update_fields=["url"])
        self.stdout.write("Notifications: three demo robots receive every event; read them at /sim/robots/.")
