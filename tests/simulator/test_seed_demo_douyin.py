from django.core.management import call_command

from releases.models import App, PlatformAccount, Release, ReleaseGroup
from reviews.models import ComponentTicket
from simulator.douyin import state


def test_the_douyin_demo_sits_beside_the_wechat_one_and_seeding_twice_changes_nothing(db, settings):
    settings.SIMULATOR = True
    call_command("seed_demo")
    call_command("seed_demo_wechat")
    call_command("seed_demo_douyin")
    call_command("seed_demo_douyin")
    account = PlatformAccount.objects.get(platform="douyin")
    app = App.objects.get(platform_account=account, name="Demo Cafe on Douyin")
    component = state.load("component", account.component_appid)
    assert component["auth_url"].endswith(f"/callbacks/douyin/{account.callback_key}/auth")
    assert component["ticket"] == ComponentTicket.objects.get(account=account).ticket
    assert state.load("app", app.appid)["refresh_token"] == app.authorizer_refresh_token
    assert Release.objects.get(app=app, version="1.0.0").template_id == "1"
    group = ReleaseGroup.objects.get(version="1.1.0")
    assert sorted(m.release.app.platform_account.platform for m in group.members.all()) == [
        "douyin",
        "wechat",
    ]
