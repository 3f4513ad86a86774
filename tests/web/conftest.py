import pytest
from django.test import Client


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
def api(api_client):
    """The web tests' name for api_client (tests/fixtures/web.py): a call with a fresh token."""
    return api_client


def error_code(response) -> str:
    return response.json()["error"]["code"]
