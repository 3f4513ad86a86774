from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Pages and API"

    def ready(self):
        from notify.facts import register_release_representation
        from web import (
            language,  # noqa: F401  (connects the login signal)
            throttle,  # noqa: F401  (audits login lockouts)
        )
        from web.api.notifications import webhook_release

        register_release_representation(webhook_release)  # webhook bodies carry the API's release
