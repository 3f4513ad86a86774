"""REST API v1 (django-ninja: pydantic validation and the OpenAPI document for free).

Contract kept for outside clients: paths, field names and error codes named in the
issues. Every error is `{"error": {"code", "message", "details"?}}`; lists are pages,
`{"results": [...], "next"}` (web/api/paging.py). Authentication is a bearer token from
`manage.py api_token`. Bad input that never reaches a view (a body over the limit, NUL
characters, unknown paths, wrong verbs) is answered in the same envelope by web/badinput.py.

One module per resource, each a router added to the one `api` of web/api/core.py (bearer
auth, the error envelope); the schemas live in web/api/schemas/, the release representation
in web/api/release_out.py.
"""

from web.api import (
    accounts,
    apps,
    builds,
    campaigns,
    checks,
    fleet,
    notifications,
    release_groups,
    releases,
    reviews,
    rollouts,
)
from web.api.core import BearerToken, api

api.add_router("", accounts.router)
api.add_router("", fleet.router)  # before apps: /apps/tags is not an app id
api.add_router("", apps.router)
api.add_router("", builds.router)
api.add_router("", campaigns.router)
api.add_router("", checks.router)
api.add_router("", notifications.router)
api.add_router("", rollouts.router)  # before releases: its /releases/{id}/{action} would take /health
api.add_router("", releases.router)
api.add_router("", reviews.router)
api.add_router("", release_groups.router)

__all__ = ["BearerToken", "api"]
