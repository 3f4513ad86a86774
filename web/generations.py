"""Change counters ("generations") per team, in the shared cache: a page kept under the counters
of the user's teams (releases/pagecache.py) is served again until something in one of them
changes, whoever changed it (a view, an API call, an RQ worker, the admin).

Every model a page shows is watched (`watch()`, from each app's AppConfig.ready) with the way to
find its team; a save or delete bumps that team's counter at once and again when its
transaction commits: with the first bump alone, a page rendered from the not yet committed old
rows in between could be stored under the new counter and outlive the change. Models that
belong to no team (playbooks, the audit chain verification) bump the counter every key also
carries, GLOBAL.

Bookkeeping no page shows (review polling leases, tokens, callback deliveries, the simulator)
is deliberately not wired: a poll every few seconds would otherwise invalidate every page of
a busy team all day long.

A counter that is missing (a fresh or flushed Redis) starts at the current time in nanoseconds,
a value no page can have been stored under.
"""

import logging
import time
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

GLOBAL = "all"
PREFIX = "sluice:gen:"
log = logging.getLogger(__name__)


def _key(scope) -> str:
    return f"{PREFIX}{scope}"


def bump(*scopes) -> None:
    """Move the counters of these scopes (team ids, or GLOBAL) on.

    Never fails the write it follows: with the cache unreachable the pages are not served from
    it either (releases/pagecache.py renders them), and a copy stored before the outage lives a
    minute at most."""
    try:
        for scope in set(scopes):
            key = _key(scope)
            try:
                cache.incr(key)
            except ValueError:  # missing: start it at a value never used before
                cache.add(key, time.time_ns(), timeout=None)
    except Exception:  # the cache's own errors (connection refused, timeout...) vary by backend
        log.warning("Could not move the page cache counters of %s", sorted(map(str, scopes)), exc_info=True)


def current(team_ids: Iterable[int]) -> str:
    """The counters of these teams and the global one, as one string for a cache key
    (one round trip to the cache)."""
    keys = [_key(GLOBAL), *(_key(team_id) for team_id in sorted(set(team_ids)))]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key)
    return ".".join(str(found[key]) for key in keys)


# -- which team a row belongs to ---------------------------------------------------------------


def _app_team(app_id) -> int | None:
    from releases.models import App

    return App.objects.filter(pk=app_id).values_list("team_id", flat=True).first()


def _release_team(release_id) -> int | None:
    from releases.models import Release

    return Release.objects.filter(pk=release_id).values_list("app__team_id", flat=True).first()


def _account_team(account_id) -> int | None:
    from releases.models import PlatformAccount

    return PlatformAccount.objects.filter(pk=account_id).values_list("team_id", flat=True).first()


def _cached_team(instance, relation: str) -> int | None:
    """The team of a related row already loaded on the instance (no query), if it is."""
    related = instance._state.fields_cache.get(relation)
    if related is None:
        return None
    if hasattr(related, "team_id"):
        return related.team_id
    app = related._state.fields_cache.get("app")
    return app.team_id if app is not None else None


def by_team(instance):
    return instance.team_id if instance.team_id is not None else GLOBAL


def by_app(instance):
    return _cached_team(instance, "app") or _app_team(instance.app_id) or GLOBAL


def by_release(instance):
    return _cached_team(instance, "release") or _release_team(instance.release_id) or GLOBAL


def by_account(instance):
    return _cached_team(instance, "account") or _account_team(instance.account_id) or GLOBAL


def everyone(_instance):
    return GLOBAL


# model -> how to find the scope its change bumps (filled by watch())
_SCOPES: dict[type, Callable] = {}


def _changed(sender, instance, **kwargs) -> None:
    scope = _SCOPES[sender](instance)
    bump(scope)  # now, so the writer's own next read inside its transaction misses too,
    transaction.on_commit(lambda: bump(scope), using=kwargs.get("using"))  # and after the commit


def watch(model, scope_of: Callable) -> None:
    """Bump scope_of(row)'s counter whenever a row of `model` is saved or deleted. Each app
    watches its own models from its AppConfig.ready()."""
    _SCOPES[model] = scope_of
    post_save.connect(_changed, sender=model, dispatch_uid=f"sluice-gen-save-{model._meta.label}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"sluice-gen-delete-{model._meta.label}")
