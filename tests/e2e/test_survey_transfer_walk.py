"""A survey moves with its study (studies/transfer.py, surveys/transfer.py): a practitioner half-way through it
comes back to the same link after the move and carries on where they were, answers and all."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from studies.codebook import codebook_load, preset
from studies.models import Study
from surveys.models import Survey, SurveyResponse
from tests.factories import MembershipFactory
from tests.helpers import survey_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_respondent_half_way_through_resumes_at_the_same_link_once_the_study_has_moved(
    open_as, live_server, study, tmp_path
):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    survey = survey_of(study, consent="Answers are anonymous.")
    link = live_server.url + reverse("surveys:respond", args=[survey.token])
    respondent = open_as(None)
    respondent.goto(link)
    respondent.get_by_label("I have read the above and agree to take part.").check()
    respondent.get_by_role("button", name="Start the survey").click()
    respondent.locator(".survey-item").filter(has_text="Wrong shape").get_by_label("Yes").check()
    expect(respondent.locator("#save-state")).to_have_text("Saved.")
    respondent.get_by_role("button", name="Save and continue").click()
    expect(respondent.get_by_text("Part 2 of 2")).to_be_visible()
    archive = tmp_path / "study.json.gz"
    call_command("export_study", study.slug, "-o", str(archive), stdout=io.StringIO())

    # The mistake: a trial import beside the original, on the same instance. The copy cannot take the link the
    # respondents have, so it gets a new one, and the link handed out still leads to the original.
    out = io.StringIO()
    call_command("import_study", str(archive), "--slug", "trial", stdout=out)
    trial = Survey.objects.get(study__slug="trial")
    assert f"has a new public link, /s/{trial.token}/" in out.getvalue()
    page = open_as(owner)
    page.goto(live_server.url + reverse("surveys:detail", args=["trial", trial.pk]))
    expect(page.locator("#survey-link")).to_have_value(f"{live_server.url}/s/{trial.token}/")
    respondent.goto(link)
    expect(respondent.get_by_text("Part 2 of 2")).to_be_visible()
    assert Survey.objects.get(token=survey.token).study == study

    # The real move: the study leaves this instance and arrives on one without it (here: the same address).
    Study.objects.filter(slug__in=[study.slug, "trial"]).delete()
    call_command("import_study", str(archive), stdout=io.StringIO())

    moved = Survey.objects.get(study__slug=study.slug)
    assert moved.token == survey.token and moved.pk != survey.pk
    respondent.goto(link)  # the same link, the same browser: back where they were, the answer kept
    expect(respondent.get_by_text("Part 2 of 2")).to_be_visible()
    respondent.get_by_role("button", name="Save and go back").click()
    expect(respondent.locator(".survey-item").filter(has_text="Wrong shape").get_by_label("Yes")).to_be_checked()
    respondent.goto(link + "submit/")
    respondent.get_by_role("button", name="Submit your answers").click()
    expect(respondent.get_by_role("status")).to_have_text("Thank you: your answers are in.")
    (response,) = SurveyResponse.objects.all()
    assert response.survey == moved and response.submitted and response.answers == {"i0_met": "yes"}
    page.goto(live_server.url + reverse("surveys:detail", args=[study.slug, moved.pk]))
    expect(page.locator("#survey-link")).to_have_value(link)
    expect(page.get_by_text("1 started, 1 submitted")).to_be_visible()
