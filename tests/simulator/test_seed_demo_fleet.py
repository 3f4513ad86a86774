from django.core.management import call_command

from releases.models import App, PlatformAccount
from reviews.models import CodeTemplate
from simulator.models import SimAuthorizer, SimTemplate


def test_the_demo_fleet_is_authorized_tagged_and_has_a_template_and_seeding_twice_changes_nothing(
    db, settings
):
    settings.SIMULATOR = True
    call_command("seed_demo")
    call_command("seed_demo_wechat")
    call_command("seed_demo_fleet")
    call_command("seed_demo_fleet")

    account = PlatformAccount.objects.get(platform="wechat")
    fleet = App.objects.filter(platform_account=account, appid__startswith="wxdemofleet")
    assert fleet.count() == 30
    assert fleet.filter(tags__name="industry:food").count() == 10
    assert fleet.filter(tags__name="tier-1").filter(tags__name="region:east").count() == 6
    for app in fleet:
        assert SimAuthorizer.objects.get(appid=app.appid).refresh_token == app.authorizer_refresh_token
    (template,) = CodeTemplate.objects.filter(account=account)
    assert SimTemplate.objects.get().template_id == template.template_id
