"""The simulated Douyin's memory: one JSON document per component app and per mini program.

In the database rather than Redis, because the tests and the demo flush Redis between runs
while the simulated platform must keep what it was told (like the real one)."""

from django.db import models


class SimDouyinDoc(models.Model):
    kind = models.CharField(max_length=16)  # "component" or "app"
    appid = models.CharField(max_length=64)
    doc = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "appid"], name="sim_douyin_doc_unique")]
