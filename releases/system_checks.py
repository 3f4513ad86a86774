"""`manage.py check --deploy` warns when the queues' Redis may evict: a job evicted under memory
pressure is lost without a trace (a submission never made, a review never followed). The cache
(CACHE_URL) may evict; the queues (REDIS_URL) must run with `maxmemory-policy noeviction`."""

import django_rq
from django.core.checks import Tags, Warning, register


def queue_eviction_policy(connection) -> str | None:
    """The queue Redis's maxmemory-policy, or None when it cannot be asked (down, CONFIG disabled)."""
    try:
        return connection.config_get("maxmemory-policy").get("maxmemory-policy")
    except Exception:  # redis-py's errors for a refused connection or a renamed CONFIG vary
        return None


@register(Tags.caches, deploy=True)
def check_queue_redis_never_evicts(app_configs=None, connection=None, **kwargs):
    policy = queue_eviction_policy(connection or django_rq.get_connection("default"))
    if policy in (None, "noeviction"):
        return []
    return [
        Warning(
            f"The Redis of REDIS_URL (the job queues) has maxmemory-policy {policy}: it may evict queued "
            "jobs when memory runs out.",
            hint="Run it with `maxmemory-policy noeviction` and put the cache in another Redis (CACHE_URL).",
            id="sluice.W001",
        )
    ]
