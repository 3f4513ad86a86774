"""Demo data for `make run`. Idempotent: running it again changes nothing.

The story it sets up (issue 4's "done when"): Demo Shop 1.0.0 is published, 1.1.0 is a
draft that passes its checks, and 1.2.0 is a draft with three problems the checks catch,
each with its evidence:

- its release notes claim “全网最低价，销量第一” (advertising-law absolute claims);
- its build report uses location (scope.userLocation, wx.getLocation) while the app's
  privacy policy (the demo page /demo/privacy-policy/no-location/) never mentions it;
- its subpackage `packageB` is 2.5 MB (limit 2 MB).

The privacy policy pages are served by this same server in demo mode, so the URL is built
from PORT (as `make run` starts the web process) and the worker can fetch it.
"""

import os
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from releases import services
from releases.models import App, Membership, Platform, PlatformAccount, Qualification, Role, Team

PASSWORD = "sluice-demo"  # noqa: S105 -- printed on purpose: demo logins
USERS = [
    ("admin", Role.ADMIN, True),
    ("manager", Role.RELEASE_MANAGER, False),
    ("dev", Role.DEVELOPER, False),
    ("viewer", Role.VIEWER, False),
]
MB = 1024 * 1024
# 1.0.0: catalogue and ordering, no sensitive permission.
REPORT = {
    "packages": [
        {"name": "__FULL__", "size": 3_400_000},
        {"name": "__APP__", "size": 1_500_000},
        {"name": "pages/shop", "size": 1_900_000},
    ],
    "permissions": [],
    "apis": [],
    "pages": ["pages/index/index", "pages/shop/goods", "pages/shop/order"],
    "first_screen_ms": 1400,
    "error_monitoring": "sentry",
}
# 1.1.0: photo reviews and phone login, both explained by the demo policy.
REPORT_1_1 = {
    **REPORT,
    "permissions": ["scope.writePhotosAlbum"],
    "apis": ["wx.chooseMedia", "getPhoneNumber"],
}
# 1.2.0: nearby stores (location, which the policy omits) in a 2.5 MB subpackage.
REPORT_1_2 = {
    "packages": [
        {"name": "__FULL__", "size": 5_900_000},
        {"name": "__APP__", "size": 1_500_000},
        {"name": "pages/shop", "size": 1_780_000},
        {"name": "packageB", "size": int(2.5 * MB)},
    ],
    "permissions": ["scope.userLocation"],
    "apis": ["wx.getLocation", "wx.chooseMedia", "getPhoneNumber"],
    "pages": ["pages/index/index", "pages/shop/goods", "pages/shop/order", "packageB/stores/nearby"],
    "first_screen_ms": 1500,
    "error_monitoring": "sentry",
}
OLD_POLICY_URL = "https://example.com/privacy"  # what earlier versions of this command seeded
DEMO_POLICY = re.compile(r"^http://127\.0\.0\.1:\d+/demo/privacy-policy/(no-location/)?$")


def demo_policy_url(variant: str = "no-location/") -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/demo/privacy-policy/{variant}"


class Command(BaseCommand):
    help = "Create the demo team, users, platform account, app and a release history."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {name: self._user(name, superuser) for name, _, superuser in USERS}
        team, _ = Team.objects.get_or_create(name="Demo team")
        for name, role, _ in USERS:
            Membership.objects.update_or_create(team=team, user=users[name], defaults={"role": role})
        account, _ = PlatformAccount.objects.get_or_create(
            team=team, name="Manual submissions", defaults={"platform": Platform.MANUAL}
        )
        app, created = App.objects.get_or_create(
            platform_account=account,
            appid="wxd0000000000demo",
            defaults={"team": team, "name": "Demo Shop", "categories": ["商家自营 > 服装/鞋/箱包"]},
        )
        if created:
            self._history(app, users)
        self._point_policy_at_this_server(app)
        self._qualifications(app, users["admin"])
        if not app.releases.filter(version="1.2.0").exists():
            self._release_with_problems(app, users["dev"])
        self.stdout.write(f"Demo data ready. Logins (password for all: {PASSWORD}):")
        for name, role, _ in USERS:
            self.stdout.write(f"  {name:8} {Role(role).label}")
        self.stdout.write(
            "Demo Shop 1.2.0 fails three checks (absolute claim, location missing from the privacy "
            "policy, 2.5 MB subpackage): log in as dev and press “Run checks”."
        )

    def _user(self, username, superuser):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def _history(self, app, users):
        """1.0.0 went all the way to published; 1.1.0 is a draft waiting for its checks.

        1.0.0 uses no sensitive permission and was checked before the app had a policy URL,
        so every check of it runs here, without a server to fetch a policy from.
        """
        dev, manager = users["dev"], users["manager"]
        first = services.release_create(
            app=app,
            actor=dev,
            version="1.0.0",
            release_notes="First version: catalogue and ordering.",
            review_notes="Catalogue on the home page, ordering under 我的 > 订单. Test login: demo / 123456.",
            build_report=REPORT,
        )
        for item in app.checklist:
            services.release_confirm_check(release=first, actor=dev, key=item["key"])
        services.release_check(release=first, actor=dev)
        services.release_approve(release=first, actor=manager, comment="Tested on iOS and Android.")
        services.release_submit(release=first, actor=manager)
        services.release_record_outcome(release=first, actor=manager, outcome="approved")
        services.release_publish(release=first, actor=manager)
        services.release_create(
            app=app,
            actor=dev,
            version="1.1.0",
            release_notes="Photo reviews: add pictures to a review; log in with your phone number.",
            review_notes=(
                "Reviews with photos under 商品详情 > 评价; phone login on 我的. Test login: demo / 123456."
            ),
            build_report=REPORT_1_1,
        )

    def _point_policy_at_this_server(self, app):
        """The demo policy lives on this server: follow PORT, keep the variant a person chose."""
        url = app.privacy_policy_url
        match = DEMO_POLICY.match(url) if url else None
        if url and url != OLD_POLICY_URL and match is None:
            return  # someone set their own URL: leave it
        variant = (match.group(1) or "") if match else "no-location/"
        wanted = demo_policy_url(variant)
        if url != wanted:
            app.privacy_policy_url = wanted
            app.save(update_fields=["privacy_policy_url"])

    def _qualifications(self, app, admin):
        if not app.qualifications.exists():
            Qualification.objects.create(
                app=app,
                kind=Qualification.Kind.BUSINESS_LICENCE,
                name="营业执照",
                number="91310000MA1DEMO00X",
                expires_on=timezone.localdate() + timedelta(days=730),
                created_by=admin,
            )

    def _release_with_problems(self, app, dev):
        services.release_create(
            app=app,
            actor=dev,
            version="1.2.0",
            release_notes="全网最低价，销量第一！新增附近门店：按距离查看离您最近的门店。",
            review_notes=(
                "New nearby-stores page under 首页 > 附近门店 (asks for location). Test login: demo / 123456."
            ),
            build_report=REPORT_1_2,
        )
