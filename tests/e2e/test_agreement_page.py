"""The agreement page in Chromium: filters from the form, heat maps drawn, downloads, no CSP violation."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import MembershipFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_reads_the_report_narrows_it_and_downloads_it(page: Page, live_server, study_with_ratings):
    owner = MembershipFactory(study=study_with_ratings, role="owner").user
    log_in(page, live_server, owner)

    page.goto(live_server.url + reverse("agreement:report", args=[study_with_ratings.slug]))
    impact = page.locator("#agreement-impact").locator("xpath=..")
    expect(impact).to_contain_text("5 items, 3 annotators, 14 ratings")
    impact.get_by_text("Confusion matrices, pair by pair").click()
    expect(impact.locator("svg[role=img]").first).to_be_visible()
    assert impact.locator("svg[role=img]").first.bounding_box()["width"] > 100  # drawn, not blocked

    page.get_by_role("checkbox", name="ann").check()
    page.get_by_role("checkbox", name="bob").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"annotator=ann&annotator=bob"))
    expect(page.locator("#agreement-impact").locator("xpath=..")).to_contain_text("2 annotators")

    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    report = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert report["fields"]["impact"]["annotators"] == 2 and list(report["fields"]["impact"]["cohen_kappa"]) == [
        "ann|bob"
    ]
    assert csp_violations(page) == []
