from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from releases import system_checks  # noqa: F401  (registers the deploy check of the queue Redis)
