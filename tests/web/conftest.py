import pytest
from django.test import Client

from releases.tokens import api_token_create


@pytest.fixture
def login():
    """login(user, **client_options) -> a fresh client logged in as `user`: one per person, as in
    a real office."""

    def make(user, **kwargs):
        client = Client(**kwargs)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api(client):
    """api(method, path, user=..., **json_body) -> response, with a fresh bearer token."""

    def call(method, path, user=None, **body):
        headers = {"Authorization": f"Bearer {api_token_create(user=user)}"} if user is not None else {}
        kwargs = (
            {"content_type": "application/json", "data": body} if method in ("post", "patch", "put") else {}
        )
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    return call


def error_code(response) -> str:
    return response.json()["error"]["code"]
