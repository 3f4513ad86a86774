"""The people and places of the data set (teams, users, platform accounts, apps) and the World the
stories are told in: lookups shared by every release (reasons, playbook steps, checks)."""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from bench.scale.clock import dt
from bench.scale.shape import (
    ADJECTIVES,
    APPID_PREFIX,
    BIG_TEAM,
    CATEGORIES,
    NOUNS,
    TEAMS,
    WECHAT_SHARE,
    Options,
)
from releases.checks import REGISTRY
from releases.management.commands.seed_demo import PASSWORD as DEMO_PASSWORD
from releases.management.commands.seed_demo import USERS as DEMO_USERS
from releases.models import (
    App,
    Membership,
    Platform,
    PlatformAccount,
    RejectionCategory,
    Role,
    Team,
)
from releases.remediation import _steps
from reviews.rejections import OTHER, classify_reason
from simulator.services import reason_catalogue


@dataclass
class TeamInfo:
    team: Team
    developers: list[int]
    managers: list[int]
    admin: int
    wechat: PlatformAccount
    manual: PlatformAccount
    usernames: dict[int, str]


def ensure_demo_users() -> dict[str, int]:
    """The demo logins (admin, manager, dev, viewer); created with the demo password if missing."""
    User = get_user_model()
    ids = {}
    for username, _role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, is_staff=superuser, is_superuser=superuser
            )
        ids[username] = user.pk
    return ids


def _team_users(slug: str, developers: int, managers: int, viewers: int) -> dict[str, list[int]]:
    User = get_user_model()
    wanted = {
        "admin": [f"{slug}-admin"],
        Role.DEVELOPER: [f"{slug}-dev-{n:02d}" for n in range(1, developers + 1)],
        Role.RELEASE_MANAGER: [f"{slug}-manager-{n:02d}" for n in range(1, managers + 1)],
        Role.VIEWER: [f"{slug}-viewer-{n:02d}" for n in range(1, viewers + 1)],
    }
    names = [n for group in wanted.values() for n in group]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=n, password=unusable, email=f"{n}@scale.example") for n in names if n not in existing]
    )
    by_name = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    return {role: [by_name[n] for n in group] for role, group in wanted.items()}


def make_teams(demo: dict[str, int]) -> list[TeamInfo]:
    infos = []
    for index, (name, _share, devs, managers, viewers) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(name=name)
        slug = name.lower().replace(" ", "-").removeprefix("scale-")
        users = _team_users(slug, devs, managers, viewers)
        roles = {users["admin"][0]: Role.ADMIN}
        roles |= {
            pk: role for role in (Role.DEVELOPER, Role.RELEASE_MANAGER, Role.VIEWER) for pk in users[role]
        }
        if name == BIG_TEAM:
            roles |= {demo[username]: role for username, role, _ in DEMO_USERS}
        for pk, role in roles.items():
            Membership.objects.update_or_create(team=team, user_id=pk, defaults={"role": role})
        wechat, _ = PlatformAccount.objects.get_or_create(
            team=team,
            name="WeChat third-party platform",
            # No secrets: they would be encrypted with this process's key, and a server started
            # with another SECRET_KEY (the benchmark's) could not read the rows back.
            defaults={"platform": Platform.WECHAT, "component_appid": f"wxscalecomponent{index:02d}"},
        )
        manual, _ = PlatformAccount.objects.get_or_create(
            team=team, name="Manual submissions", defaults={"platform": Platform.MANUAL}
        )
        developers = users[Role.DEVELOPER] + ([demo["dev"]] if name == BIG_TEAM else [])
        managers_ = users[Role.RELEASE_MANAGER] + ([demo["manager"]] if name == BIG_TEAM else [])
        admin = demo["admin"] if name == BIG_TEAM else users["admin"][0]
        usernames = dict(get_user_model().objects.filter(pk__in=list(roles)).values_list("pk", "username"))
        infos.append(TeamInfo(team, developers, managers_, admin, wechat, manual, usernames))
    return infos


def _app_counts(total: int) -> list[int]:
    """Apps per team: the small teams their share (at least one each when there are enough), the rest big."""
    counts = [0] * len(TEAMS)
    for index, (_name, share, *_rest) in enumerate(TEAMS):
        if share is not None and total >= 2 * len(TEAMS):
            counts[index] = max(1, round(total * share))
    counts[0] = total - sum(counts)
    return counts


def make_apps(options: Options, teams: list[TeamInfo], start_us: int, rng: random.Random) -> list[App]:
    offset = App.objects.filter(appid__startswith=APPID_PREFIX).count()
    apps = []
    number = offset
    for info, count in zip(teams, _app_counts(options.apps), strict=True):
        for _ in range(count):
            number += 1
            wechat = rng.random() < WECHAT_SHARE
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {number:04d}"
            apps.append(
                App(
                    team=info.team,
                    platform_account=info.wechat if wechat else info.manual,
                    name=name,
                    appid=f"{APPID_PREFIX}{number:010d}",
                    privacy_policy_url=f"https://example.com/apps/{number}/privacy",
                    categories=[rng.choice(CATEGORIES)],
                    created_at=dt(start_us - rng.randrange(1, 40) * 86_400 * 1_000_000),
                )
            )
    return App.objects.bulk_create(apps, batch_size=500)


# -- the world: lookups every story uses ------------------------------------------------------


class World:
    def __init__(self, options: Options, teams: list[TeamInfo], apps: list[App], now_us: int):
        self.options = options
        self.teams = teams
        self.apps = apps
        self.now_us = now_us
        by_team = {info.team.pk: info for info in teams}
        self.team_of_app = [by_team[app.team_id] for app in apps]
        self.usernames = {pk: name for info in teams for pk, name in info.usernames.items()}
        self.catalogue = reason_catalogue()
        self._classified: dict[str, tuple[list, list]] = {}
        # The seeded rejections are WeChat's reasons (reason_catalogue), so WeChat's playbooks plan them.
        self.steps = {c.value: _steps(c.value, "wechat") for c in RejectionCategory}
        self.checks = [(key, check) for key, check in REGISTRY.items()]

    def pick_reasons(self, rng: random.Random) -> list[dict]:
        count = 1 if rng.random() < 0.75 else 2
        return rng.sample(self.catalogue, count)

    def classified(self, reason: str) -> tuple[list, list]:
        if reason not in self._classified:
            items = classify_reason(reason)
            categories = list(dict.fromkeys(item["category"] for item in items)) or [OTHER]
            self._classified[reason] = (items, categories)
        return self._classified[reason]

    def plan(self, tasks: dict[str, dict], rejection: dict) -> tuple[list[str], list[str]]:
        """releases.remediation.plan_tasks on plain dicts: new keys created, done ones reopened."""
        created, reopened = [], []
        position = max((t["position"] for t in tasks.values()), default=0)
        for category in rejection["categories"]:
            version, steps = self.steps[category]
            for step in steps:
                task = tasks.get(step["key"])
                if task is None:
                    position += 1
                    tasks[step["key"]] = {
                        **step,
                        "category": category,
                        "position": position,
                        "version": version.pk if version is not None else None,
                        "rejection": rejection,
                        "done": False,
                        "done_by": None,
                        "note": "",
                        "done_step": None,
                        "created_step": None,
                    }
                    created.append(step["key"])
                elif task["rejection"] is not rejection and task["done"]:
                    task.update(rejection=rejection, done=False, done_by=None, note="", done_step=None)
                    reopened.append(step["key"])
        return created, reopened
