"""Demo data for `make run`. Idempotent: running it again changes nothing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from releases import services
from releases.models import App, Membership, Platform, PlatformAccount, Role, Team

PASSWORD = "sluice-demo"  # noqa: S105 -- printed on purpose: demo logins
USERS = [
    ("admin", Role.ADMIN, True),
    ("manager", Role.RELEASE_MANAGER, False),
    ("dev", Role.DEVELOPER, False),
    ("viewer", Role.VIEWER, False),
]
REPORT = {
    "packages": [
        {"name": "__FULL__", "size": 3_400_000},
        {"name": "__APP__", "size": 1_500_000},
        {"name": "pages/shop", "size": 1_900_000},
    ],
    "permissions": ["scope.userLocation"],
    "apis": ["wx.getLocation"],
    "pages": ["pages/index/index", "pages/shop/goods", "pages/shop/order"],
    "first_screen_ms": 1400,
    "error_monitoring": "sentry",
}


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
            defaults={
                "team": team,
                "name": "Demo Shop",
                "privacy_policy_url": "https://example.com/privacy",
                "categories": ["商家自营 > 服装/鞋/箱包"],
            },
        )
        if created:
            self._history(app, users)
        self.stdout.write(f"Demo data ready. Logins (password for all: {PASSWORD}):")
        for name, role, _ in USERS:
            self.stdout.write(f"  {name:8} {Role(role).label}")

    def _user(self, username, superuser):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def _history(self, app, users):
        """1.0.0 went all the way to published; 1.1.0 is a draft waiting for its checks."""
        dev, manager = users["dev"], users["manager"]
        first = services.release_create(
            app=app,
            actor=dev,
            version="1.0.0",
            release_notes="First version: catalogue and ordering.",
            review_notes="Catalogue on the home page, ordering under 我的 > 订单. Test login: demo / 123456.",
            build_report=REPORT,
        )
        services.release_check(release=first, actor=dev)
        services.release_approve(release=first, actor=manager, comment="Tested on iOS and Android.")
        services.release_submit(release=first, actor=manager)
        services.release_record_outcome(release=first, actor=manager, outcome="approved")
        services.release_publish(release=first, actor=manager)
        services.release_create(
            app=app,
            actor=dev,
            version="1.1.0",
            release_notes="Points: earn points on every order.",
            review_notes="New points page under 我的 > 积分; points are granted after an order is paid.",
            build_report=REPORT,
        )
