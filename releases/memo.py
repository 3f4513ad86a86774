"""A read scope for one page or API answer: values computed once inside it are reused.

A page asks the same question several times (the limits panel and each button's guard both
read the quota, the same-reason lock and the remediation tasks). Inside `read_scope()` the
functions that use `memoized` compute each answer once; outside one (services, jobs, tests
calling a function directly) they compute afresh every time, so nothing stale can leak into a
write. A scope is a ContextVar: per thread and per request, never shared.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_scope: ContextVar[dict | None] = ContextVar("sluice_read_scope", default=None)


@contextmanager
def read_scope() -> Iterator[None]:
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def memoized(key: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), remembered under `key` for the rest of the current read scope (if any)."""
    cache = _scope.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def recall(keys: list[tuple]) -> dict[tuple, Any]:
    """Of `keys`, those computed in the current read scope, with their values."""
    cache = _scope.get()
    return {key: cache[key] for key in keys if key in cache} if cache is not None else {}


def remember(key: tuple, value: Any) -> None:
    """Keep `value` under `key` for the rest of the current read scope (if any): for a function
    that computes many keys' answers at once."""
    cache = _scope.get()
    if cache is not None:
        cache[key] = value


def remembered(key: tuple) -> bool:
    """Whether `key` was computed in the current read scope."""
    cache = _scope.get()
    return cache is not None and key in cache


def in_read_scope(view):
    """Run a read-only view (page or API answer) inside its own read scope."""
    from functools import wraps

    @wraps(view)
    def wrapper(*args, **kwargs):
        with read_scope():
            return view(*args, **kwargs)

    return wrapper
