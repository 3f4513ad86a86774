"""App ids in request bodies are integers, not anything JSON can turn into one: `true` is no app."""

import pytest


@pytest.mark.parametrize(
    "path, body",
    [
        ("/apps/tags", {"targets": {"apps": [True]}, "add": ["tier-a"]}),
        ("/release-groups", {"version": "1.0.0", "apps": [True]}),
    ],
)
def test_a_boolean_is_not_an_app_id(api_client, app, mike, path, body):
    response = api_client("post", path, user=mike, **body)
    assert response.status_code in (400, 422), response.json()
    assert not app.tags.exists()
