"""Demo data for the Douyin side of `make run` (after `seed_demo_wechat`). Idempotent.

Creates a Douyin component app and "Demo Cafe on Douyin" on it, registers both with the built-in
Douyin simulator (callback URLs on this server, from PORT) with a 0.9.0 already online, gives
Sluice a component_ticket, leaves a 1.0.0 draft shipping template 1, and a release group 1.1.0
of Demo Cafe on WeChat and on Douyin side by side.
"""

import os
import secrets
import string

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from releases import services
from releases.group_services import release_group_create
from releases.models import App, Platform, PlatformAccount, ReleaseGroup, Team
from reviews.models import ComponentTicket
from simulator.douyin import state
from simulator.douyin.state import new_ticket
from simulator.management.commands.seed_demo_wechat import APPID as WECHAT_APPID
from simulator.management.commands.seed_demo_wechat import REPORT

COMPONENT_APPID = "ttdemocomponent01"
APPID = "ttdemocafe0000001"
NOTES = "Menu on the home page, ordering under 我的 > 订单. Test login: demo / 123456."


def _this_server() -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


def _alnum(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


class Command(BaseCommand):
    help = "Create the demo Douyin component app and Demo Cafe on Douyin, wired to the simulator."

    @transaction.atomic
    def handle(self, *args, **options):
        team = Team.objects.filter(name="Demo team").first()
        if team is None:
            raise CommandError("Run `manage.py seed_demo` first: the demo team is missing.")
        account, _ = PlatformAccount.objects.get_or_create(
            team=team,
            name="Douyin (simulated)",
            defaults={
                "platform": Platform.DOUYIN,
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
                "name": "Demo Cafe on Douyin",
                "authorizer_refresh_token": "rt." + _alnum(24),
                "privacy_policy_url": f"{_this_server()}/demo/privacy-policy/",
                "categories": ["餐饮 > 点餐平台"],
                "settings": {"douyin_host_names": ["douyin", "toutiao"]},
            },
        )
        self._register_with_simulator(account, app)
        if created:
            dev = team.memberships.get(user__username="dev").user
            services.release_create(
                app=app,
                actor=dev,
                version="1.0.0",
                release_notes="Order ahead on Douyin: browse the menu and pick up without queueing.",
                review_notes=NOTES,
                build_report=REPORT,
                template_id="1",
                ext_json={"extEnable": True, "extAppid": APPID, "ext": {"shop": "Demo Cafe"}},
            )
            wechat = App.objects.filter(team=team, appid=WECHAT_APPID).first()
            if wechat is not None and not ReleaseGroup.objects.filter(team=team, version="1.1.0").exists():
                release_group_create(
                    apps=[wechat, app],
                    actor=dev,
                    version="1.1.0",
                    release_notes="Loyalty stamps on WeChat and Douyin at once.",
                    review_notes=NOTES,
                    build_report=REPORT,
                )
        self.stdout.write(
            "Demo Cafe on Douyin is on the simulated Douyin: decide its submissions as admin at "
            "/sim/douyin/console/; the release group 1.1.0 ships it with the WeChat Demo Cafe."
        )

    def _register_with_simulator(self, account, app):
        if not settings.SIMULATOR:
            return
        server = _this_server()
        state.register_component(
            appid=account.component_appid,
            secret=account.component_appsecret,
            token=account.message_token,
            key=account.encoding_aes_key,
            auth_url=f"{server}/callbacks/douyin/{account.callback_key}/auth",
            events_url=f"{server}/callbacks/douyin/{account.callback_key}/events",
        )
        if state.load("app", app.appid) is None:
            state.register_app(
                component_appid=account.component_appid,
                appid=app.appid,
                refresh_token=app.authorizer_refresh_token,
                name=app.name,
                online="0.9.0",
            )
        # The web server is not up yet to receive the push: hand Sluice the simulator's new ticket.
        ComponentTicket.objects.update_or_create(
            account=account, defaults={"ticket": new_ticket(account.component_appid)}
        )
