"""The methods report in Chromium: an owner reads it beside its checklist, tries an undecided issue as an example
disagreement and is told why not, picks a decided one, and downloads the Markdown; no CSP violation."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studies.models import ExampleDisagreement
from tests.helpers import methods_study

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_picks_an_example_disagreement_and_downloads_the_report(open_as, live_server):
    fixed = methods_study()
    page = open_as(fixed["people"]["olga"])

    page.goto(live_server.url + reverse("studies:detail", args=["fixed-methods"]))
    page.get_by_role("link", name="Methods report →").click()
    checklist = page.locator("#methods-checklist")
    expect(checklist.locator("li.missing").filter(has_text="IRR broken down by wave")).to_contain_text(
        "Run calibration rounds."
    )
    expect(checklist.locator("li.met").filter(has_text="Example disagreements")).to_be_visible()
    expect(page.locator("#methods-examples")).to_contain_text("drawn at random (seed 0)")

    # The mistake: issue 8 is still being labelled; its values are blind to its annotators.
    form = page.locator("#example-form")
    form.get_by_label("Issue").fill("acme/widgets#8")
    form.get_by_label("Field").select_option(label="Root cause")
    form.get_by_role("button", name="Show as an example").click()
    expect(page.locator("#example-form")).to_contain_text(
        "is in labelling, not decided: only a decided issue can be an example"
    )
    expect(page.get_by_label("Issue")).to_have_value("acme/widgets#8")
    assert not ExampleDisagreement.objects.exists()

    page.get_by_label("Issue").fill("acme/widgets#4")
    page.get_by_label("Field").select_option(label="Impact")
    page.get_by_role("button", name="Show as an example").click()
    examples = page.locator("#methods-examples")
    expect(examples).to_contain_text("1 example, chosen by the study's owners.")
    expect(examples).to_contain_text("ann gave 2 — medium; ben gave 3 — high")
    assert ExampleDisagreement.objects.get().study_issue == fixed["study_issues"][4]

    with page.expect_download() as download:
        page.get_by_role("link", name="Markdown").click()
    assert download.value.suggested_filename == "fixed-methods-methods.md"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Methods: Silent bugs, fixed\n")
    assert "acme/widgets#4, Impact: ann gave 2 — medium; ben gave 3 — high." in text
    assert "- [ ] desirable: IRR broken down by wave — missing. Run calibration rounds." in text
