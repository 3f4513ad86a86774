"""What phased releases record besides the release row: the health reports monitoring sends."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from releases.release_model import Release


class HealthSample(models.Model):
    """One value of one metric reported for a release (POST /api/v1/releases/{id}/health), and
    whether it breached the app's threshold. The health gate reads the newest ones."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="health_samples")
    metric = models.CharField(max_length=64)
    value = models.FloatField()
    breached = models.BooleanField(default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["release", "metric", "at"], name="health_release_metric_at")]
