"""Forms of the onboarding pages (issue 15): they parse what was typed; releases.onboarding
decides what is allowed. Secrets are password inputs that never render their value back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from releases.errors import SluiceError
from releases.models import Platform, Role


class ServiceErrors:
    """Show a refusal from the services: its message on top, each detail on its field."""

    def add_service_error(self, exc: SluiceError) -> None:
        self.add_error(None, exc.message)
        for field, problem in exc.details.items():
            self.add_error(field if field in self.fields else None, str(problem))


def _secret(label, help_text, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        strip=True,
    )


class PlatformAccountForm(ServiceErrors, forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices, initial=Platform.WECHAT)
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("How the team calls this account, e.g. “Acme third-party platform”."),
    )
    component_appid = forms.CharField(
        label=_("Component AppID"),
        required=False,
        max_length=64,
        help_text=_(
            "The third-party platform's AppID (WeChat Open Platform console → 第三方平台 → 开发资料; "
            "Douyin: 服务商平台 → 三方小程序 → 开发配置)."
        ),
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "class": "mono", "placeholder": "wx1234567890abcdef"}
        ),
    )
    component_appsecret = _secret(
        _("Component AppSecret"), _("From the same page. Stored encrypted; never shown again."), 256
    )
    message_token = _secret(
        _("Message verification token"),
        _("消息校验 Token: the same value as in the console. Stored encrypted; never shown again."),
        128,
    )
    encoding_aes_key = _secret(
        _("Message encryption key (EncodingAESKey)"),
        _("43 characters, as the console shows it. Stored encrypted; never shown again."),
        64,
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        if account is not None:
            # Editing: the platform stays; an empty secret keeps the stored one.
            del self.fields["platform"]
            if account.platform == Platform.MANUAL:  # nothing to connect to
                for name in ("component_appid", "component_appsecret", "message_token", "encoding_aes_key"):
                    del self.fields[name]
                return
            for name in ("component_appsecret", "message_token", "encoding_aes_key"):
                stored = bool(getattr(account, name))
                self.fields[name].widget.attrs["placeholder"] = str(
                    _("Stored: leave empty to keep it") if stored else _("Not set")
                )


class AppForm(ServiceErrors, forms.Form):
    platform_account = forms.ModelChoiceField(
        label=_("Platform account"),
        queryset=None,
        empty_label=None,
        help_text=_("Where the app is published."),
    )
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("The mini-program's name, e.g. Demo Cafe.")
    )
    appid = forms.CharField(
        label=_("AppID"),
        max_length=64,
        help_text=_("The mini-program's AppID (mp.weixin.qq.com → 开发 → 开发管理)."),
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "class": "mono", "placeholder": "wx0123456789abcdef"}
        ),
    )
    authorizer_refresh_token = _secret(
        _("Authorizer refresh token"),
        _(
            "For a WeChat app managed through the third-party platform: the authorizer_refresh_token "
            "its authorization gave. Stored encrypted; never shown again."
        ),
        512,
    )
    privacy_policy_url = forms.URLField(
        label=_("Privacy policy URL"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_(
            "The public page of the user privacy policy (用户隐私保护指引); the privacy check reads it."
        ),
    )
    repository_url = forms.URLField(
        label=_("Repository URL"),
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=_(
            "Where the code lives, e.g. https://github.com/acme/cafe: a release's commit links there."
        ),
    )
    categories = forms.CharField(
        label=_("Service categories"),
        required=False,
        help_text=_("One per line, as registered with the platform, e.g. 餐饮 > 点餐平台."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform_account"].queryset = accounts

    def clean_categories(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["categories"].splitlines() if line.strip()]


class MemberForm(ServiceErrors, forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, help_text=_("Someone who already has a Sluice login.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.DEVELOPER)


class TokenForm(ServiceErrors, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses it, e.g. “GitHub Actions: cafe”. You can revoke it here at any time."),
    )
