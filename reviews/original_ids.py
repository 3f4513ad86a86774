"""Each WeChat app's original ID (原始ID, gh_...), the name its audit pushes are addressed to.

WeChat's audit pushes carry neither the appid nor an auditid: the signed ToUserName is the
only thing in them that says which mini program they are about, and it is the original ID.
Sluice learns it from WeChat (api_get_authorizer_info) when an app is added or authorizes
the platform account, in a worker, and otherwise lazily before believing a push; never from
a push or from what a user typed. The call is a platform call, so it is never made inside
a database transaction.
"""

import logging

import django_rq
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from releases.models import App
from releases.platforms import PlatformError, adapter_for
from reviews.models import AuthorizerIdentity

logger = logging.getLogger(__name__)


def original_id_known(app: App) -> str | None:
    return AuthorizerIdentity.objects.filter(app=app).values_list("original_id", flat=True).first()


def original_id_learn(app: App) -> str:
    """Ask WeChat for the app's original ID and keep it. Raises PlatformError."""
    adapter = adapter_for(app.platform_account)
    original_id = adapter.get_authorizer_info(app).authorizer_info.user_name
    AuthorizerIdentity.objects.update_or_create(
        app=app, defaults={"original_id": original_id, "learned_at": timezone.now()}
    )
    return original_id


def app_original_id(app: App) -> str | None:
    """The app's original ID, asking WeChat once if it is not known yet; None if WeChat cannot say now."""
    known = original_id_known(app)
    if known:
        return known
    try:
        return original_id_learn(app)
    except PlatformError as exc:
        logger.warning("Could not learn the original ID of app %s: %s", app.pk, exc.message)
        return None


def original_id_learn_later(app: App) -> None:
    """Queue the lookup on the platform queue once the current transaction commits.

    Redis being down must not fail the write that added or authorized the app: the first
    push then learns the ID instead.
    """
    from reviews.jobs import learn_original_id

    app_id = app.pk

    def enqueue() -> None:
        try:
            django_rq.get_queue("platform").enqueue(learn_original_id, app_id)
        except (RedisError, OSError) as exc:
            logger.warning("Could not queue the original ID lookup of app %s: %s", app_id, exc)

    transaction.on_commit(enqueue)
