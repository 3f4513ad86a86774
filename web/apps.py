from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Pages and API"

    def ready(self):
        from releases import models as m
        from web import generations as gen
        from web import (
            language,  # noqa: F401  (connects the login signal)
            throttle,  # noqa: F401  (audits login lockouts)
        )

        # What the pages show (web/generations.py), by team. API tokens, preferences, the chain
        # head, polling leases, tokens, tickets and callback deliveries are bookkeeping no cached
        # page shows.
        gen.watch(m.Team, lambda team: team.pk)
        for model in (m.Membership, m.PlatformAccount, m.App, m.AuditEvent):
            gen.watch(model, gen.by_team)
        for model in (m.Release, m.CheckSuppression, m.Qualification, m.Rejection):
            gen.watch(model, gen.by_app)
        for model in (m.Approval, m.CheckRun, m.ChecklistTick, m.RemediationTask):
            gen.watch(model, gen.by_release)
        gen.watch(m.QuotaSnapshot, gen.by_account)
        everyone = (m.AuditVerification, m.Playbook, m.PlaybookVersion, m.PlaybookStep, m.UnclassifiedReason)
        for model in everyone:
            gen.watch(model, gen.everyone)
