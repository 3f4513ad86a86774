"""Demo data for fleets (issue 14), after `seed_demo_wechat`: idempotent.

Thirty mini programs of merchants authorize the demo's WeChat platform account on the simulator,
and Sluice knows them as it would after "Import every existing authorizer" (the web server is not
up yet to answer the import's calls): apps of the demo team, tagged by industry, tier and region,
with their refresh tokens and profiles. The simulator's draft box holds a draft and its template
library one template, mirrored in Sluice, so a campaign can ship it right away.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from releases.models import App, AppTag, PlatformAccount
from reviews.models import AuthorizerIdentity, CodeTemplate, TemplateDraft
from simulator.fleet import sim_add_draft
from simulator.management.commands.seed_demo_wechat import COMPONENT_APPID
from simulator.models import SimAuthorizer, SimComponent, SimTemplate
from simulator.services import sim_original_id, sim_register_authorizer

FLEET_SIZE = 30
INDUSTRIES = ("food", "retail", "education")
TIERS = ("tier-1", "tier-2", "tier-3")
REGIONS = ("east", "north", "south")
MERCHANTS = (
    "Cafe",
    "Bakery",
    "Noodles",
    "Tea House",
    "Bookshop",
    "Florist",
    "Gym",
    "Dim Sum",
    "Bistro",
    "Deli",
)
TEMPLATE_VERSION, TEMPLATE_DESC = "2.0.0", "Loyalty points and order-ahead, one template for every merchant"


def merchant(n: int) -> tuple[str, str, list[str]]:
    """The n-th demo merchant: appid, name and tags (every combination is represented)."""
    tags = [f"industry:{INDUSTRIES[n % 3]}", TIERS[(n // 3) % 3], f"region:{REGIONS[(n // 9) % 3]}"]
    return f"wxdemofleet{n:06d}", f"{MERCHANTS[n % len(MERCHANTS)]} #{n + 1}", tags


class Command(BaseCommand):
    help = "Authorize a fleet of demo mini programs to the demo WeChat account, with a template."

    @transaction.atomic
    def handle(self, *args, **options):
        account = PlatformAccount.objects.filter(component_appid=COMPONENT_APPID).first()
        if account is None:
            raise CommandError("Run `manage.py seed_demo_wechat` first: the demo WeChat account is missing.")
        for n in range(FLEET_SIZE):
            self._authorizer(account, *merchant(n))
        self._template(account)
        self.stdout.write(
            f"{FLEET_SIZE} demo merchants authorized the simulated WeChat account, tagged by industry, "
            "tier and region; its template library holds one template."
        )

    def _authorizer(self, account: PlatformAccount, appid: str, name: str, tags: list[str]) -> None:
        app, created = App.objects.get_or_create(
            platform_account=account,
            appid=appid,
            defaults={
                "team": account.team,
                "name": name,
                "authorizer_refresh_token": f"refreshtoken@@@demo{appid}",
                "categories": ["餐饮 > 点餐平台"],
                "platform_profile": {
                    "original_id": sim_original_id(appid),
                    "nick_name": name,
                    "principal_name": f"{name} Ltd.",
                    "permission_sets": [17, 18, 25],
                    "code_management": True,
                },
            },
        )
        if created:
            app.tags.set([AppTag.objects.get_or_create(team=account.team, name=t)[0] for t in tags])
            AuthorizerIdentity.objects.get_or_create(
                app=app, defaults={"original_id": sim_original_id(appid)}
            )
        if settings.SIMULATOR:
            sim_register_authorizer(
                component_appid=COMPONENT_APPID, appid=appid, refresh_token=app.authorizer_refresh_token
            )
            SimAuthorizer.objects.filter(appid=appid).update(nick_name=name, principal_name=f"{name} Ltd.")

    def _template(self, account: PlatformAccount) -> None:
        if not settings.SIMULATOR or CodeTemplate.objects.filter(account=account).exists():
            return
        component = SimComponent.objects.get(appid=COMPONENT_APPID)
        draft = sim_add_draft(COMPONENT_APPID, TEMPLATE_VERSION, TEMPLATE_DESC)
        last = SimTemplate.objects.order_by("-template_id").values_list("template_id", flat=True).first()
        template = SimTemplate.objects.create(
            component=component,
            template_id=(last or 0) + 1,
            draft_id=draft.draft_id,
            user_version=TEMPLATE_VERSION,
            user_desc=TEMPLATE_DESC,
        )
        fields = {"user_version": TEMPLATE_VERSION, "user_desc": TEMPLATE_DESC, "developer": "sim-developer"}
        now = timezone.now()
        TemplateDraft.objects.get_or_create(
            account=account, draft_id=draft.draft_id, defaults={**fields, "created_on_platform": now}
        )
        CodeTemplate.objects.create(
            account=account,
            template_id=template.template_id,
            draft_id=draft.draft_id,
            created_on_platform=now,
            **fields,
        )
