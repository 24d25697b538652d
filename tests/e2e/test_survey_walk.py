"""A survey in Chromium: an owner builds it from the codebook (with a mistake on the way), shares the link, and
practitioners answer it without an account, with JavaScript (saves on change) and without (plain forms)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studies.codebook import codebook_load, preset
from surveys.models import Survey, SurveyResponse
from tests.factories import MembershipFactory
from tests.helpers import survey_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_builds_a_survey_and_a_practitioner_answers_it_with_javascript(open_as, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    page = open_as(owner)
    page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    page.get_by_role("link", name="Surveys →").click()
    page.get_by_role("link", name="Build a survey from the codebook").click()

    page.get_by_label("Title").fill("Silent bugs: does our taxonomy fit?")
    page.get_by_label("Consent text (Markdown)").fill("Answers are **anonymous**.")
    scenario = page.locator("fieldset.survey-field").filter(has_text="ask about “Scenario”")
    scenario.get_by_label("ask about “Scenario”").check()
    scenario.get_by_label("Do you agree with its definition? (1–5)").uncheck()
    scenario.get_by_label("Have you encountered this? (yes/no)").check()
    scenario.get_by_label("How severe is it?").check()
    impact = page.locator("fieldset.survey-field").filter(has_text="ask about “Impact”")
    impact.get_by_label("ask about “Impact”").check()
    impact.get_by_label("Do you agree with its definition? (1–5)").uncheck()  # the mistake: nothing to ask
    page.get_by_role("button", name="Build the survey").click()

    expect(impact.locator(".field-invalid")).to_contain_text("Pick at least one question to ask about “Impact”.")
    expect(page.get_by_label("Title")).to_have_value("Silent bugs: does our taxonomy fit?")
    assert not Survey.objects.exists()
    impact.get_by_label("Do you agree with its definition? (1–5)").check()
    page.get_by_role("button", name="Build the survey").click()
    expect(page.locator("#survey-state")).to_have_text("open")
    link = page.locator("#survey-link").input_value()
    survey = Survey.objects.get()
    assert link == f"{live_server.url}/s/{survey.token}/"

    respondent = open_as(None)
    respondent.set_viewport_size({"width": 390, "height": 844})  # a phone
    respondent.goto(link)
    respondent.get_by_role("button", name="Start the survey").click()  # consent not ticked
    expect(respondent.locator(".field-invalid")).to_contain_text("Tick that you agree to take part")
    respondent.get_by_label("I have read the above and agree to take part.").check()
    respondent.get_by_role("button", name="Start the survey").click()

    shape = respondent.locator(".survey-item").filter(has_text="Wrong shape")
    shape.get_by_label("Yes").check()  # htmx saves on change
    expect(respondent.locator("#save-state")).to_have_text("Saved.")
    assert SurveyResponse.objects.get().answers == {"i0_met": "yes"}
    respondent.reload()  # the same browser comes back to its answers
    expect(respondent.locator(".survey-item").filter(has_text="Wrong shape").get_by_label("Yes")).to_be_checked()
    respondent.get_by_role("button", name="Save and continue").click()
    respondent.locator(".survey-item").first.get_by_label("Agree", exact=True).check()
    expect(respondent.locator("#save-state")).to_have_text("Saved.")
    respondent.get_by_role("button", name="Save and review").click()
    respondent.get_by_role("button", name="Submit your answers").click()

    expect(respondent.get_by_role("status")).to_have_text("Thank you: your answers are in.")
    response = SurveyResponse.objects.get()
    assert response.submitted and response.answers == {"i0_met": "yes", "i7_agree": "4"}
    respondent.goto(link)
    expect(respondent.get_by_role("status")).to_have_text("Thank you: your answers are in.")


def test_a_practitioner_answers_without_javascript_and_another_browser_starts_afresh(browser, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    survey = survey_of(study, consent="Answers are anonymous.")
    link = live_server.url + reverse("surveys:respond", args=[survey.token])
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(link)
    page.get_by_role("button", name="Start the survey").click()  # consent not ticked
    expect(page.locator(".field-invalid")).to_contain_text("Tick that you agree to take part")
    assert not SurveyResponse.objects.exists()
    page.get_by_label("I have read the above and agree to take part.").check()
    page.get_by_role("button", name="Start the survey").click()
    honeypot = page.locator("#hp-website").bounding_box()  # hidden by CSS alone: off the page, for people
    assert honeypot["x"] + honeypot["width"] <= 0
    shape = page.locator(".survey-item").filter(has_text="Wrong shape")
    shape.get_by_label("No").check()
    shape.get_by_label("4 — different results").check()
    shape.get_by_label("A comment (free text)").fill("Seen once, in a custom layer.")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_text("Part 2 of 2")).to_be_visible()
    assert SurveyResponse.objects.get().answers == {
        "i0_met": "no",
        "i0_severity": "4",
        "i0_comment": "Seen once, in a custom layer.",
    }
    other = browser.new_context(java_script_enabled=False).new_page()
    other.goto(link)  # another browser: nothing of the first one's answers, a start page of its own
    expect(other.get_by_role("button", name="Start the survey")).to_be_visible()
    other.context.close()
    page.goto(link)  # the same browser: back where it was
    expect(page.get_by_text("Part 2 of 2")).to_be_visible()
    page.get_by_role("button", name="Save and go back").click()
    expect(page.locator(".survey-item").filter(has_text="Wrong shape").get_by_label("No")).to_be_checked()
    page.goto(link + "submit/")
    page.get_by_role("button", name="Submit your answers").click()

    expect(page.get_by_role("status")).to_have_text("Thank you: your answers are in.")
    assert SurveyResponse.objects.get().submitted
    context.close()
