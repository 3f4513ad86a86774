"""The experience QR code of each campaign app, fetched after its commit (issue 14, §3.2 of
wechat-fleet.md): what a tester scans to try the app's trial version before it is published.

Best effort: the fetch is its own job on the platform queue, queued by the driver for every app
whose code the submit step committed, once; a failure is recorded on the app's row and shown, and
never holds the app. What is kept is bounded and checked: at most MAX_BYTES, and only a PNG or a
JPEG as told by the bytes' own signature (never by a header), so the page serves an image and
nothing else.
"""

import logging

import django_rq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.campaigns.models import CampaignApp, CampaignQrCode
from releases.models import State
from releases.platforms import PlatformError, adapter_for

logger = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
ALLOWED_TYPES = frozenset(kind for _, kind in SIGNATURES)
# Release states reached only through the submit step, whose first act is the commit.
COMMITTED = (
    State.SUBMITTED,
    State.APPROVED,
    State.REJECTED,
    State.PUBLISHING,
    State.PUBLISH_FAILED,
    State.PUBLISHED,
    State.ROLLING_OUT,
)
QUEUED, FETCHED, FAILED, NONE = "queued", "fetched", "failed", "none"


def image_type(data: bytes) -> str | None:
    """image/png or image/jpeg when the bytes start like one, else None."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    return None


def qr_codes_queue(campaign) -> int:
    """A fetch for each app committed since the last run and never asked about: marked queued in
    one conditional UPDATE per app (a second driver run queues nothing twice), then enqueued."""
    ids = list(
        CampaignApp.objects.filter(campaign=campaign, qr_state="", release__state__in=COMMITTED).values_list(
            "pk", flat=True
        )
    )
    queued = 0
    for entry_id in ids:
        if CampaignApp.objects.filter(pk=entry_id, qr_state="").update(qr_state=QUEUED):
            django_rq.get_queue("platform").enqueue(campaign_qr_fetch, entry_id)
            queued += 1
    return queued


def _finish(entry_id: int, state: str, error: str = "") -> None:
    """updated_at moves too, so the campaign page (its live stamp) shows the code as it arrives."""
    CampaignApp.objects.filter(pk=entry_id, qr_state=QUEUED).update(
        qr_state=state, qr_error=error, updated_at=timezone.now()
    )


def campaign_qr_fetch(entry_id: int) -> str | None:
    """The RQ job: one platform call outside any transaction, then one write. Returns the state
    it left, or None when the row was not waiting for it (already fetched, or gone)."""
    entry = (
        CampaignApp.objects.select_related("release__app__platform_account")
        .filter(pk=entry_id, qr_state=QUEUED, release__isnull=False)
        .first()
    )
    if entry is None:
        return None
    try:
        data = adapter_for(entry.release.app.platform_account).preview_qr_code(entry.release)
    except PlatformError as exc:
        logger.info("No QR code for campaign app %s: %s", entry_id, exc.message)
        _finish(entry_id, FAILED, exc.message)
        return FAILED
    if data is None:
        _finish(entry_id, NONE)
        return NONE
    kind = image_type(data)
    if kind is None or len(data) > MAX_BYTES:
        error = (
            gettext_noop("The platform's QR code is not a PNG or JPEG image.")
            if kind is None
            else gettext_noop("The platform's QR code is larger than 256 KB.")
        )
        _finish(entry_id, FAILED, error)
        return FAILED
    with transaction.atomic():
        CampaignQrCode.objects.update_or_create(
            entry_id=entry_id, defaults={"content_type": kind, "image": data}
        )
        _finish(entry_id, FETCHED)
    return FETCHED
