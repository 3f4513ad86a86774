"""/ping/: the trivial logged-in page bench/pages.py measures every other page against."""

from django.urls import reverse


def test_the_ping_page_answers_a_signed_in_user_without_a_query_of_its_own(
    client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(2):  # the session and the user, nothing else
        response = client.get(reverse("web:ping"))
    assert response.status_code == 200
    assert b"Signed in as alice" in response.content


def test_the_ping_page_sends_a_stranger_to_the_login_page(client, db):
    response = client.get(reverse("web:ping"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
