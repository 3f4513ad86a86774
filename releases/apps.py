from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from releases import generations as gen
        from releases import language  # noqa: F401  (connects the login signal)
        from releases import models as m

        # What the pages show, by team (releases/generations.py); API tokens, preferences and
        # the chain head are bookkeeping no cached page shows.
        gen.watch(m.Team, lambda team: team.pk)
        for model in (m.Membership, m.PlatformAccount, m.App, m.AuditEvent):
            gen.watch(model, gen.by_team)
        for model in (m.Release, m.CheckSuppression, m.Qualification):
            gen.watch(model, gen.by_app)
        for model in (m.Approval, m.CheckRun, m.ChecklistTick):
            gen.watch(model, gen.by_release)
        gen.watch(m.AuditVerification, gen.everyone)
