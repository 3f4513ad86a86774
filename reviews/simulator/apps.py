from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "reviews.simulator"
    label = "simulator"
    verbose_name = "Platform simulator"
