"""Release groups (issue 16): one version of a product shipped to several platforms side by side.

A group holds what is shared (the version, the notes, the build report) and one member release
per app; each member follows its own state machine on its own platform. `hold_on_rejection`
is the team's choice that a rejection on one platform stops the group's submit and publish for
all (by default it does not: the other platforms go ahead).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReleaseGroup(models.Model):
    team = models.ForeignKey("releases.Team", on_delete=models.PROTECT, related_name="release_groups")
    version = models.CharField(max_length=64)
    release_notes = models.TextField(blank=True)
    review_notes = models.TextField(blank=True)
    build_report = models.JSONField(default=dict, blank=True)
    hold_on_rejection = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.version} ({self.members.count()} platforms)"


class ReleaseGroupMember(models.Model):
    """A release belongs to at most one group."""

    group = models.ForeignKey(ReleaseGroup, on_delete=models.CASCADE, related_name="members")
    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="group_membership"
    )

    class Meta:
        ordering = ["pk"]
