from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from releases import lookups, system_checks  # noqa: F401  (the `any_of` lookup; the deploy check of the queue Redis)
