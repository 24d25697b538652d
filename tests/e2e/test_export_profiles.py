"""An owner lays out the dataset for a journal in Chromium: a profile with a mistake, corrected, then downloaded
from the study page."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.bidi import isolate
from studies.codebook import codebook_load, preset
from studies.models import FinalValue, StudyIssue
from tests.factories import IssueFactory, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_makes_a_profile_and_downloads_it(open_as, live_server, study, tmp_path):
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = IssueFactory(repository__owner="tensorflow", repository__name="tensorflow", number=32476)
    study.add_issues([issue.pk])
    study_issue = StudyIssue.objects.get(study=study, issue=issue)
    for key, value in (("scenario", "Wrong shape"), ("component", ["Engine", "Saving"])):
        FinalValue.objects.create(study_issue=study_issue, field=study.fields.get(key=key), value=value)
    owner = MembershipFactory(study=study, role="owner").user
    page = open_as(owner)
    page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))

    page.get_by_role("link", name="Export profiles →").click()
    page.locator("#profile-new-name").fill("journal")
    columns = page.locator("#profile-new-columns")
    columns.fill("number = Issue\nfinal:scenario = Scenario\nfinal:component:3 = Third component")
    page.locator("#profile-new-separator").fill("tab")
    page.locator("#profile-new-empty").fill("NA")
    page.get_by_role("button", name="Add the profile").click()

    expect(page.locator(".field-invalid")).to_contain_text("Column 3: component holds values 1 to 2, not “3”.")
    expect(columns).to_have_value("number = Issue\nfinal:scenario = Scenario\nfinal:component:3 = Third component")
    columns.fill("number = Issue\nfinal:scenario = Scenario\nfinal:component:2 = Second component\ntitle")
    page.get_by_role("button", name="Add the profile").click()
    expect(page.locator(".messages")).to_contain_text(f"Export profile “{isolate('journal')}” saved.")

    page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    with page.expect_download() as download:
        page.locator("#export-profiles").get_by_role("link", name="journal").click()
    path = tmp_path / "journal.csv"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"{study.slug}-journal.csv"
    assert path.read_bytes().decode("utf-8") == (
        f"Issue\tScenario\tSecond component\ttitle\r\n32476\tWrong shape\tSaving\t{issue.title}\r\n"
    )
