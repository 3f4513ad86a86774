"""Query parameters of the pages, read strictly: a malformed one is a 400, never a 500.

`str.isdigit()` accepts "²" and other Unicode digits that int() refuses, which made `?app=²` a
500; an id is ASCII digits, and one too large for a bigint names nothing."""

from django.core.exceptions import BadRequest

BIGINT_MAX = 2**63 - 1


def query_id(params, name: str) -> int | None:
    """The id in `params[name]`; None when absent or empty; BadRequest (a 400) when malformed."""
    value = params.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > BIGINT_MAX:
        raise BadRequest(f"“{name}” must be a number.")
    return int(value)
