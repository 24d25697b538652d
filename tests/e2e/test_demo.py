"""A newcomer on the demo in Chromium: the Agreement page has numbers, and there is a disagreement to reconcile; the
methods report and Time on task have the demo's own figures."""

import re

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


def test_alice_reads_the_demos_methods_report_and_time_on_task(page: Page, live_server, settings):
    """The demo's report has its pre-registered statistics, diagnostics, bruno's training and the team's pace."""
    settings.DEMO_MODE = True
    demo_load()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Silent bugs in DeepFlow (demo)").first.click()
    study_page = page.url

    page.get_by_role("link", name="Methods report →").click()
    expect(page.locator("#methods-primary")).to_contain_text("Krippendorff's α")
    expect(page.locator("#methods-agreement")).to_contain_text(
        "α = 0.6667 is below the declared threshold 0.667: the threshold is not met"
    )
    expect(page.locator("#methods-diagnostics")).to_contain_text("bruno & chen")
    expect(page.locator("#methods-training")).to_contain_text("bruno passed (2 of 2 training issues submitted)")
    checklist = page.locator("#methods-checklist")
    for item in ("A justified statistic with established thresholds", "A description of rater training"):
        expect(checklist.locator("li.met").filter(has_text=item)).to_be_visible()

    page.goto(study_page)
    page.get_by_role("link", name="Time on task →").click()
    # bruno's pace is his 8 votes and labels; his 2 training issues are a row of their own.
    expect(page.get_by_role("row", name=re.compile(r"^bruno 26 8 2\.7"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^bruno Training 2 2 6 min 47 s"))).to_be_visible()
    assert csp_violations(page) == []


def test_alice_finds_the_demos_closed_calibration_round_and_its_report(page: Page, live_server, settings):
    """The demo's labelling is round 1: the rounds page plots it, and its report lists the disagreement on #3274."""
    settings.DEMO_MODE = True
    demo_load()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Silent bugs in DeepFlow (demo)").first.click()

    page.get_by_role("link", name="Calibration rounds →").click()
    expect(page.get_by_role("row", name=re.compile(r"Impact 0\.790 \[-0\.254, 1\.000\] 4 not met"))).to_be_visible()
    page.get_by_role("link", name="Round 1", exact=True).click()
    expect(page.get_by_text("4 issues (random, seed 0), labelled by bruno, chen.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"#3274 .* bruno Wrong shape$"))).to_be_visible()
    expect(page.get_by_role("row", name="chen Wrong calculation")).to_be_visible()
    assert csp_violations(page) == []
