from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Platform reviews"

    def ready(self):
        from releases import generations as gen
        from reviews import models as m

        # What the pages show (releases/generations.py). ReviewWatch (polling leases), tokens,
        # tickets and callback deliveries change every few seconds and no page shows them.
        gen.watch(m.Rejection, gen.by_app)
        gen.watch(m.RemediationTask, gen.by_release)
        gen.watch(m.QuotaSnapshot, gen.by_account)
        for model in (m.Playbook, m.PlaybookVersion, m.PlaybookStep, m.UnclassifiedReason):
            gen.watch(model, gen.everyone)
