"""ext.json and notes from templates: placeholders filled from the app's variables, nothing evaluated."""

import pytest

from releases.campaigns.render import RenderError, render_json, render_text

NAMES = {"appid": "wx1", "merchant_name": 'Acme "Café"', "tier": 2, "pages": ["pages/a", "pages/b"]}


def test_a_placeholder_in_a_string_is_replaced_by_text_and_a_whole_one_by_the_value():
    template = {
        "extAppid": "{{appid}}",
        "ext": {"title": "{{ merchant_name }} · tier {{ tier }}", "tier": "{{ tier }}"},
        "pages": "{{ pages }}",
        "{{ appid }}_key": True,
    }
    assert render_json(template, NAMES) == {
        "extAppid": "wx1",
        "ext": {"title": 'Acme "Café" · tier 2', "tier": 2},
        "pages": ["pages/a", "pages/b"],
        "wx1_key": True,
    }


def test_nothing_but_a_name_is_a_placeholder_and_nothing_is_evaluated():
    text = "{{ __import__('os').system('id') }} {{ tier|add:1 }} {% if x %} ${appid}"
    assert render_text(text, NAMES) == text


@pytest.mark.parametrize(
    "template, message",
    [
        ({"a": "{{ shop_id }}"}, "no variable “shop_id” for this app"),
        ({"a": "pages: {{ pages }}"}, "“pages”: a list or object can only fill a value of its own"),
    ],
)
def test_an_unknown_name_or_a_list_inside_text_is_an_error_for_that_app(template, message):
    with pytest.raises(RenderError) as error:
        render_json(template, NAMES)
    assert error.value.message.startswith(message)
