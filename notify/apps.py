from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "notify"
    verbose_name = "Notifications"

    def ready(self):
        from notify import detection  # noqa: F401  (wakes the scan when an audit event commits)
