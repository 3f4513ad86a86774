"""What CI posted: one row per build, kept whole (issue 15).

The release holds what it ships now (its build report, `build_commit`, branch and CI run); a
Build keeps the tools' own output it was derived from, so a question about a release ("which
subpackage grew?") can be answered from what CI said, not from what Sluice made of it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Build(models.Model):
    app = models.ForeignKey("releases.App", on_delete=models.PROTECT, related_name="builds")
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT, related_name="builds")
    version = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    commit = models.CharField(max_length=64, blank=True)
    branch = models.CharField(max_length=255, blank=True)
    ci_url = models.URLField(max_length=500, blank=True)
    # miniprogram-ci's upload result and the project's app.json, as CI sent them.
    miniprogram_ci = models.JSONField(null=True, blank=True)
    app_json = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["release", "created_at"], name="build_release_created_idx")]

    def __str__(self) -> str:
        return f"{self.app} {self.version} @ {self.commit[:10] or '?'}"
