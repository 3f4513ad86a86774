from django.apps import AppConfig


class DouyinSimulatorConfig(AppConfig):
    """The simulated Douyin (development and tests only), its own app beside the WeChat simulator."""

    name = "simulator.douyin"
    label = "simulator_douyin"
    verbose_name = "Douyin simulator"
    default_auto_field = "django.db.models.BigAutoField"
