"""Fixtures for the release tests: an API client, the RQ queue drained by a real worker, demo pages."""

import django_rq
import pytest
from rq import SimpleWorker

from releases.tokens import api_token_create


@pytest.fixture
def api_client(client):
    """api_client(method, path, user=..., **json_body) -> response, with a fresh bearer token."""

    def call(method, path, user=None, **body):
        headers = {"Authorization": f"Bearer {api_token_create(user=user)}"} if user is not None else {}
        kwargs = (
            {"content_type": "application/json", "data": body} if method in ("post", "patch", "put") else {}
        )
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    return call


@pytest.fixture
def drain():
    """drain(): run every queued job on the default queue with a real (in-process) RQ worker."""
    queue = django_rq.get_queue("default")
    queue.connection.flushdb()

    def run() -> int:
        count = queue.count
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        return count

    yield run
    queue.connection.flushdb()


@pytest.fixture
def demo_pages(settings, live_server):
    """The demo privacy policies on a live server; returns its base URL. Private hosts allowed."""
    settings.DEMO = True
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    settings.SLUICE_FETCH_TIMEOUT_SECONDS = 5
    return live_server.url
