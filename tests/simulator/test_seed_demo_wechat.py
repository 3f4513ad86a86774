from django.core.management import call_command

from releases.models import App, PlatformAccount, Playbook, Release
from reviews.models import ComponentTicket
from simulator.models import SimAuthorizer, SimComponent


def test_the_wechat_demo_is_wired_to_the_simulator_and_seeding_twice_changes_nothing(db, settings):
    settings.SIMULATOR = True
    call_command("seed_demo")
    call_command("seed_demo_wechat")
    call_command("seed_demo_wechat")
    account = PlatformAccount.objects.get(platform="wechat")
    app = App.objects.get(platform_account=account)
    component = SimComponent.objects.get(appid=account.component_appid)
    assert component.auth_callback_url.endswith(f"/callbacks/wechat/{account.callback_key}/auth")
    assert component.encoding_aes_key == account.encoding_aes_key
    assert SimAuthorizer.objects.get(appid=app.appid).refresh_token == app.authorizer_refresh_token
    assert ComponentTicket.objects.filter(account=account).count() == 1
    assert list(Release.objects.filter(app=app).values_list("version", "state")) == [("1.0.0", "draft")]
    assert Playbook.objects.exists()
