"""A survey's results in Chromium: the owner reads them, filters by a background answer that nobody gave first
(the mistake: the page says no response matches), then by one that some gave, searches the comments, and
downloads the LaTeX summary."""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from studies.codebook import codebook_load, preset
from surveys.models import SurveyResponse
from surveys.questions import columns
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import survey_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_reads_filters_and_downloads_a_surveys_results(open_as, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner", user=UserFactory(username="alice")).user
    survey = survey_of(
        study,
        fields={"scenario": ["comment"], "impact": ["agree"]},
        background=[("role", "Your role", ["developer", "researcher", "manager"])],
    )
    ids = {name: question for question, name in columns(survey)}
    for n, (role, agree, comment) in enumerate(
        [
            ("developer", "5", "Seen in Keras"),
            ("developer", "4", ""),
            ("researcher", "2", "Too vague"),
            ("researcher", "3", ""),
        ]
    ):
        answers = {ids["role"]: role, ids["impact=3: agree"]: agree, ids["scenario=Wrong shape: comment"]: comment}
        SurveyResponse.objects.create(
            survey=survey, respondent=f"{n:064d}", answers=answers, submitted_at=timezone.now()
        )
    page = open_as(owner)

    page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    page.get_by_role("link", name="Surveys →").click()
    page.get_by_role("link", name=survey.title).click()
    page.get_by_role("link", name="Results →").click()
    row = page.locator(f'[data-question="{ids["impact=3: agree"]}"]')
    expect(row).to_contain_text("2 of 4: 50 %")
    expect(row.locator("svg.diverging rect")).to_have_count(5)
    expect(page.locator("[data-paragraph]")).to_contain_text("4 respondents submitted answers")

    # The mistake: a role nobody gave. Then the developers.
    page.get_by_label("Your role").select_option("manager")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("0 submitted responses matching the filters, of 4")).to_be_visible()
    page.get_by_label("Your role").select_option("developer")
    page.get_by_role("button", name="Show").click()
    expect(row).to_contain_text("2 of 2: 100 %")
    expect(page.locator("[data-paragraph]")).to_contain_text("4 respondents")  # the whole survey, whatever the filter

    page.get_by_label("Your role").select_option("")
    page.get_by_label("Comments holding").fill("keras")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".survey-comments li")).to_have_count(1)
    expect(page.locator(".survey-comments")).to_contain_text("Seen in Keras")

    with page.expect_download() as download:
        page.get_by_role("link", name="summary (LaTeX)").click()
    assert download.value.suggested_filename == f"{study.slug}-survey-{survey.pk}-summary.tex"
    assert r"\begin{tabular}" in Path(download.value.path()).read_text(encoding="utf-8")
