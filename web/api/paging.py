"""Pages of a list answer: `?limit=` (1 to MAX_LIMIT, default DEFAULT_LIMIT) and `?offset=`,
answered as `{"results": [...], "next": path or null}` where `next` keeps the request's filters.

Every list of the API goes through `page`, so none can answer thousands of rows at once."""

from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from ninja import Schema
from pydantic import Field

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Past this, offsets are a client bug (PostgreSQL would refuse the bigint-sized ones with a 500).
MAX_OFFSET = 1_000_000


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip; follow `next` instead.")


def page(request, rows: Sequence, query: PageQuery, out: Callable) -> dict:
    """One page of `rows` (a queryset or a list), each row through `out`; one query for a queryset."""
    found = list(rows[query.offset : query.offset + query.limit + 1])
    following = None
    if len(found) > query.limit and query.offset + query.limit <= MAX_OFFSET:
        params = request.GET.copy()
        params["offset"], params["limit"] = query.offset + query.limit, query.limit
        following = f"{request.path}?{urlencode(sorted(params.items()))}"
    return {"results": [out(row) for row in found[: query.limit]], "next": following}
