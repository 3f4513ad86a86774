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


def test_an_integral_number_is_an_app_id_as_json_schema_says(api_client, app, mike):
    response = api_client("post", "/apps/tags", user=mike, targets={"apps": [float(app.pk)]}, add=["tier-a"])
    assert response.status_code == 200, response.json()
    assert list(app.tags.values_list("name", flat=True)) == ["tier-a"]
