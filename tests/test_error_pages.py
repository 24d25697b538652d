"""The error pages keep the site's layout and a way back, and give nothing away."""

import pytest
from django.urls import reverse

from annotator.views import server_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def test_it_answers_an_unknown_address_with_the_sites_page_and_a_way_back(client):
    client.force_login(UserFactory())

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert 'class="topbar"' in response.text
    assert f'href="{reverse("studies:list")}">Your studies</a>' in response.text


def test_it_shows_anonymous_visitors_the_same_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.text and 'href="/">Your studies</a>' in response.text


def test_it_tells_a_non_member_nothing_of_the_study(client, study):
    client.force_login(UserFactory())

    existing = client.get(reverse("studies:detail", args=[study.slug]))
    missing = client.get(reverse("studies:detail", args=["no-such-study"]))

    assert existing.status_code == missing.status_code == 404
    assert study.name not in existing.text and study.slug not in existing.text
    assert "Page not found" in existing.text


def test_the_500_page_needs_no_database(rf, django_assert_num_queries):
    try:
        raise ValueError("a bug")
    except ValueError:
        with django_assert_num_queries(0):
            response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert 'href="/">Back to your studies</a>' in response.content.decode()
