"""A newcomer on the demo in Chromium: the Agreement page has numbers, and there is a disagreement to reconcile."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotator.demo import DEMO_PASSWORD, DEMO_STUDY_SLUG, demo_load
from tests.helpers import csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_logs_in_as_alice_and_finds_agreement_and_a_disagreement(page: Page, live_server, settings):
    settings.DEMO_MODE = True
    demo_load()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Silent bugs in DeepFlow (demo)").first.click()
    page.goto(live_server.url + reverse("agreement:report", args=[DEMO_STUDY_SLUG]))

    expect(page.locator("#agreement-impact").locator("xpath=..")).to_contain_text("4 items, 2 annotators, 8 ratings")

    page.goto(live_server.url + reverse("studies:issues", args=[DEMO_STUDY_SLUG]) + "?status=reconciliation")
    expect(page.get_by_role("row", name="Reshape((-1, 64)) produces wrong batch dimension")).to_be_visible()
    page.get_by_role("link", name="deepflow/deepflow#3274").click()
    page.get_by_role("link", name="Compare", exact=True).click()
    expect(page.locator("#final-impact")).to_contain_text("differ")
    expect(page.locator("#final-scenario")).to_contain_text("Wrong calculation")
    expect(page.get_by_text("@bruno @chen you differ")).to_be_visible()
    assert csp_violations(page) == []
