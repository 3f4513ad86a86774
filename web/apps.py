from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Pages and API"

    def ready(self):
        from web import (
            language,  # noqa: F401  (connects the login signal)
            throttle,  # noqa: F401  (audits login lockouts)
        )
