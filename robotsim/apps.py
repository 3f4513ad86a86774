from django.apps import AppConfig


class RobotsimConfig(AppConfig):
    name = "robotsim"
    verbose_name = "Robot stand-in (demo receiver)"
