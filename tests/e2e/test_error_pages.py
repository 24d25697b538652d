"""A mistyped address in Chromium: the site's page, with a way back to the studies."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import UserFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_mistypes_a_study_address_and_finds_the_way_back(page: Page, live_server, study, settings):
    settings.DEBUG = False
    log_in(page, live_server, UserFactory())

    response = page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))

    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert study.name not in page.content()
    page.get_by_role("link", name="Your studies").click()
    expect(page).to_have_url(live_server.url + reverse("studies:list"))
    assert csp_violations(page) == []


def test_an_anonymous_visitor_on_a_wrong_address_is_led_to_the_log_in(page: Page, live_server, settings):
    settings.DEBUG = False

    response = page.goto(live_server.url + "/no-such-page/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Your studies").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert csp_violations(page) == []
