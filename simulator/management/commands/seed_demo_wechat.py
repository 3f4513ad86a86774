"""Demo data for the WeChat side of `make run` (after `seed_demo`). Idempotent.

Creates a WeChat third-party platform account and a "Demo Cafe" mini-program on it,
registers both with the built-in simulator (callback URLs on this server, from PORT), gives
Sluice a component_verify_ticket, seeds the remediation playbooks, and leaves a 1.0.0 draft
ready to go through checks, approval and submission.
"""

import os
import secrets
import string

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from releases import services
from releases.models import App, Platform, PlatformAccount, Team
from releases.playbooks.seed import seed_playbooks
from reviews.models import ComponentTicket
from simulator.services import (
    sim_current_ticket,
    sim_online_version,
    sim_push_ticket,
    sim_register_account,
    sim_register_authorizer,
)

COMPONENT_APPID = "wxdemocomponent01"
APPID = "wxdemocafe0000001"
REPORT = {
    "packages": [
        {"name": "__FULL__", "size": 2_100_000},
        {"name": "__APP__", "size": 1_300_000},
        {"name": "pages/menu", "size": 800_000},
    ],
    "permissions": [],
    "apis": [],
    "pages": ["pages/index/index", "pages/menu/goods", "pages/menu/order"],
    "first_screen_ms": 1100,
    "error_monitoring": "sentry",
}


DEMO_ROLLOUT_PLAN = [
    {"percentage": 5, "hold_minutes": 1},
    {"percentage": 20, "hold_minutes": 1},
    {"percentage": 100},
]


def _this_server() -> str:
    """`make run` serves on 127.0.0.1:$PORT; the simulator pushes and the checks fetch there."""
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


def _alnum(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


class Command(BaseCommand):
    help = "Create the demo WeChat platform account and app, wired to the simulator."

    @transaction.atomic
    def handle(self, *args, **options):
        team = Team.objects.filter(name="Demo team").first()
        if team is None:
            raise CommandError("Run `manage.py seed_demo` first: the demo team is missing.")
        seed_playbooks()
        account, _ = PlatformAccount.objects.get_or_create(
            team=team,
            name="WeChat (simulated)",
            defaults={
                "platform": Platform.WECHAT,
                "component_appid": COMPONENT_APPID,
                "component_appsecret": _alnum(32),
                "message_token": _alnum(24),
                "encoding_aes_key": _alnum(43),
            },
        )
        app, created = App.objects.get_or_create(
            platform_account=account,
            appid=APPID,
            defaults={
                "team": team,
                "name": "Demo Cafe",
                "authorizer_refresh_token": "refreshtoken@@@" + _alnum(24),
                "privacy_policy_url": f"{_this_server()}/demo/privacy-policy/",
                "categories": ["餐饮 > 点餐平台"],
            },
        )
        self._register_with_simulator(account, app)
        if created:
            # A phased release the demo can watch in minutes (issue 12): 5% and 20% held a minute each,
            # and a health gate on the JavaScript error rate that halts it above 2%.
            app.settings = {
                **app.settings,
                "rollout_plan": DEMO_ROLLOUT_PLAN,
                "health": {"metrics": {"js_error_rate": {"max": 0.02}}, "auto_revert": False},
            }
            app.save(update_fields=["settings"])
            dev = team.memberships.get(user__username="dev").user
            services.release_create(
                app=app,
                actor=dev,
                version="1.0.0",
                release_notes="Order ahead: browse the menu and pick up without queueing.",
                review_notes="Menu on the home page, ordering under 我的 > 订单. Test login: demo / 123456.",
                build_report=REPORT,
            )
        self.stdout.write(
            "Demo Cafe is on the simulated WeChat platform: submit 1.0.0, then decide it as admin in "
            "the reviewer console at /sim/console/."
        )

    def _register_with_simulator(self, account, app):
        if not settings.SIMULATOR:
            return
        sim_register_account(account, _this_server())
        sim_register_authorizer(
            component_appid=account.component_appid,
            appid=app.appid,
            refresh_token=app.authorizer_refresh_token,
        )
        sim_online_version(app.appid, "0.9.0", "Menu only, before Sluice")  # what a phased release needs
        if not ComponentTicket.objects.filter(account=account).exists():
            # The web server is not up yet to receive the push: hand Sluice the ticket directly.
            sim_push_ticket(account.component_appid)
            ComponentTicket.objects.create(
                account=account, ticket=sim_current_ticket(account.component_appid)
            )
