"""Surveys (surveys/): building one from the codebook, answering it at its public link, and the owner's download."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studies.codebook import choice_update, codebook_load, preset
from studies.models import Choice
from surveys.models import Survey, SurveyResponse
from surveys.services import respondent_hash
from tests.factories import MembershipFactory, StudyFactory
from tests.helpers import survey_of

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
CHECKED_YES = re.compile(r'<input type="radio" name="i0_met" value="yes"[^>]* checked>')


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """The rate limit counts in the cache (memory), which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def study():
    study = StudyFactory(name="Secret study name", description="Internal description")
    codebook_load(study, preset("silent-bugs"), screening=False)
    return study


@pytest.fixture
def owner(study):
    return MembershipFactory(study=study, role="owner").user


def build_data(**overrides) -> dict:
    """The build form as an owner fills it in: scenarios (met, severity on impact), impact levels (agree)."""
    data = {
        "title": "Silent bugs survey",
        "intro": "Thank you for **helping**.",
        "consent": "Your answers are anonymous.",
        "field_scenario": "on",
        "choices_scenario": ["Wrong shape", "Wrong save/reload"],
        "questions_scenario": ["met", "severity"],
        "field_impact": "on",
        "choices_impact": ["1", "2", "3", "4"],
        "questions_impact": ["agree"],
        "severity_scale": "impact",
        "bg_role": "on",
        "bg_role_choices": "developer\nresearcher",
        "bg_experience": "on",
        "bg_experience_choices": "",
    }
    return data | overrides


def respondent(address: str = ADDRESS) -> Client:
    return Client(REMOTE_ADDR=address)


def start(client: Client, survey: Survey, **data):
    return client.post(reverse("surveys:respond", args=[survey.token]), {"agree": "on"} | data)


def section_url(survey: Survey, page: int) -> str:
    return reverse("surveys:section", args=[survey.token, page])


# --- Building ---


def test_it_builds_a_survey_frozen_from_the_codebook(client, study, owner):
    client.force_login(owner)

    response = client.post(reverse("surveys:new", args=[study.slug]), build_data())

    survey = Survey.objects.get(study=study)
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:detail", args=[study.slug, survey.pk])
    assert survey.codebook_version == study.codebook_versions.order_by("-number").first().number
    shape = Choice.objects.get(field__study=study, field__key="scenario", value="Wrong shape")
    assert survey.items[0] | {"questions": None} == {
        "field": "scenario",
        "field_label": "Scenario",
        "field_definition": shape.field.definition,
        "choice": "Wrong shape",
        "label": shape.label,
        "definition": shape.definition,
        "examples": shape.examples,
        "questions": None,
    }
    assert [(item["field"], item["choice"], item["questions"]) for item in survey.items] == [
        ("scenario", "Wrong shape", ["met", "severity"]),
        ("scenario", "Wrong save/reload", ["met", "severity"]),
        *(("impact", level, ["agree"]) for level in "1234"),
    ]
    assert [level["label"] for level in survey.severity_scale][0] == "1 — interface only"
    assert survey.background == [
        {"key": "role", "label": "Your role", "choices": ["developer", "researcher"], "multiple": False},
        {"key": "experience", "label": "Years of experience", "choices": [], "multiple": False},
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"field_scenario": "", "field_impact": ""}, "field_scenario", "Pick at least one field to ask about."),
        ({"questions_impact": []}, "questions_impact", "Pick at least one question to ask about “Impact”."),
        ({"choices_scenario": []}, "choices_scenario", "Pick at least one of the choices of “Scenario”"),
        ({"choices_scenario": ["No such scenario"]}, "choices_scenario", "Select a valid choice."),
        (
            {"opens_at": "2026-05-02T10:00", "closes_at": "2026-05-01T10:00"},
            "closes_at",
            "The survey must close after it opens.",
        ),
        ({"response_limit": "0"}, "response_limit", "greater than or equal to 1"),
    ],
)
def test_it_refuses_a_wrong_survey_at_the_field_and_keeps_what_was_typed(client, study, owner, change, field, message):
    client.force_login(owner)

    response = client.post(reverse("surveys:new", args=[study.slug]), build_data(**change))

    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert 'value="Silent bugs survey"' in response.text or change.get("title") == ""
    assert not Survey.objects.exists()


def test_a_study_without_a_codebook_is_told_to_write_one_first(client):
    study = StudyFactory()
    client.force_login(MembershipFactory(study=study, role="owner").user)

    page = client.get(reverse("surveys:new", args=[study.slug]))
    refused = client.post(reverse("surveys:new", args=[study.slug]), {"title": "Nothing to ask"})

    assert "The codebook has no fields yet" in page.text
    assert refused.status_code == 422
    assert refused.context["form"].non_field_errors() == ["Pick at least one field to ask about."]
    assert not Survey.objects.exists()


def test_a_later_codebook_edit_does_not_change_the_survey(client, study, owner):
    survey = survey_of(study)
    built_under = survey.codebook_version
    shape = Choice.objects.get(field__study=study, field__key="scenario", value="Wrong shape")
    old_definition = shape.definition
    choice_update(shape, {"definition": "A brand new definition."})
    respondent_client = respondent()
    start(respondent_client, survey)

    page = respondent_client.get(section_url(survey, 1)).text

    assert study.codebook_versions.order_by("-number").first().number > built_under
    assert "A brand new definition." not in page
    assert old_definition.split(".")[0] in page
    client.force_login(owner)
    assert f"version {built_under}</a>" in client.get(reverse("surveys:detail", args=[study.slug, survey.pk])).text


# --- Answering ---


def test_a_respondent_answers_resumes_and_submits_once(study):
    survey = survey_of(study)
    browser = respondent()
    assert browser.get(reverse("surveys:respond", args=[survey.token])).status_code == 200

    started = start(browser, survey)

    assert started.status_code == 302 and started["Location"] == section_url(survey, 1)
    saved = browser.post(section_url(survey, 1), {"i0_met": "yes", "i0_severity": "4", "i0_comment": "Often."})
    assert saved["Location"] == section_url(survey, 2)
    response = SurveyResponse.objects.get(survey=survey)
    assert response.answers == {"i0_met": "yes", "i0_severity": "4", "i0_comment": "Often."}
    # Coming back: the link resumes where the respondent was, and the answers are there.
    assert browser.get(reverse("surveys:respond", args=[survey.token]))["Location"] == section_url(survey, 2)
    assert CHECKED_YES.search(browser.get(section_url(survey, 1)).text)
    assert browser.post(reverse("surveys:submit", args=[survey.token])).status_code == 302
    thanks = browser.get(reverse("surveys:respond", args=[survey.token]))
    assert "Thank you: your answers are in." in thanks.text
    assert "<form" not in thanks.text
    # Submitted: the sections show the thanks, and nothing changes any more.
    browser.post(section_url(survey, 1), {"i0_met": "no"})
    response.refresh_from_db()
    assert response.answers["i0_met"] == "yes" and response.submitted
    assert "Thank you" in browser.get(section_url(survey, 1)).text


def test_another_browser_does_not_resume_someone_elses_answers(study):
    survey = survey_of(study)
    first = respondent()
    start(first, survey)
    first.post(section_url(survey, 1), {"i0_met": "yes"})

    other = respondent("198.51.100.4")
    assert other.get(section_url(survey, 1))["Location"] == reverse("surveys:respond", args=[survey.token])
    start(other, survey)

    assert not CHECKED_YES.search(other.get(section_url(survey, 1)).text)
    assert SurveyResponse.objects.filter(survey=survey).count() == 2


def test_the_respondent_cookie_is_http_only_lax_scoped_and_stored_only_as_its_hash(study, settings):
    settings.HTTPS = True
    survey = survey_of(study)
    browser = respondent()

    start(browser, survey)

    cookie = browser.cookies[f"survey_{survey.token}"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == reverse("surveys:respond", args=[survey.token])
    stored = SurveyResponse.objects.get(survey=survey).respondent
    assert stored == respondent_hash(cookie.value) and cookie.value not in stored


def test_a_wrong_answer_is_refused_at_its_question_and_nothing_is_saved(study):
    survey = survey_of(study)
    browser = respondent()
    start(browser, survey)

    response = browser.post(section_url(survey, 1), {"i0_met": "yes", "i0_severity": "9"})

    assert response.status_code == 422
    assert "Select a valid choice. 9 is not one of the available choices." in response.text
    assert SurveyResponse.objects.get(survey=survey).answers == {}


def test_with_htmx_a_change_saves_and_answers_with_the_save_state(study):
    survey = survey_of(study)
    browser = respondent()
    start(browser, survey)

    response = browser.post(section_url(survey, 1), {"i0_met": "no"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.strip().startswith('<p id="save-state"') and "Saved." in response.text
    assert SurveyResponse.objects.get(survey=survey).answers == {"i0_met": "no"}


def test_with_htmx_a_wrong_answer_says_it_was_not_saved(study):
    survey = survey_of(study)
    browser = respondent()
    start(browser, survey)

    response = browser.post(section_url(survey, 1), {"i0_met": "maybe"}, headers={"HX-Request": "true"})

    assert response.status_code == 422
    assert "Not saved: an answer above is not one of its choices or is too long." in response.text
    assert SurveyResponse.objects.get(survey=survey).answers == {}


def test_no_public_page_is_kept_in_a_cache(study):
    survey = survey_of(study)
    browser = respondent()
    start(browser, survey)

    response = browser.get(section_url(survey, 1))

    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_start_page_asks_for_consent(study):
    survey = survey_of(study, consent="Your answers are **anonymous**.")

    response = respondent().post(reverse("surveys:respond", args=[survey.token]), {})

    assert response.status_code == 422
    assert "Tick that you agree to take part before you start." in response.text
    assert "<strong>anonymous</strong>" in response.text
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"closes_at": timezone.now() - timedelta(hours=1)}, "This survey is closed"),
        ({"opens_at": timezone.now() + timedelta(days=2)}, "This survey is not open yet: it opens on"),
    ],
)
def test_before_it_opens_and_after_it_closes_the_link_says_so(study, overrides, says):
    survey = survey_of(study, **overrides)
    browser = respondent()

    page = browser.get(reverse("surveys:respond", args=[survey.token]))

    assert says in page.text and "<form" not in page.text
    assert says in start(browser, survey).text
    assert not SurveyResponse.objects.exists()


def test_closing_now_stops_those_who_started_and_reopening_lets_them_go_on(client, study, owner):
    survey = survey_of(study)
    browser = respondent()
    start(browser, survey)
    client.force_login(owner)

    client.post(reverse("surveys:close", args=[study.slug, survey.pk]))

    assert "This survey is closed" in browser.post(section_url(survey, 1), {"i0_met": "yes"}).text
    assert SurveyResponse.objects.get().answers == {}
    client.post(reverse("surveys:reopen", args=[study.slug, survey.pk]))
    browser.post(section_url(survey, 1), {"i0_met": "yes"})
    assert SurveyResponse.objects.get().answers == {"i0_met": "yes"}


def test_over_the_response_limit_a_new_respondent_is_told_and_those_started_finish(study):
    survey = survey_of(study, response_limit=1)
    first = respondent()
    start(first, survey)

    refused = start(respondent("198.51.100.4"), survey)

    assert "This survey has all the responses it needs" in refused.text
    assert SurveyResponse.objects.count() == 1
    assert first.post(section_url(survey, 1), {"i0_met": "yes"}).status_code == 302
    assert SurveyResponse.objects.get().answers == {"i0_met": "yes"}


# --- Bots ---


def test_a_filled_in_honeypot_on_the_start_page_stores_nothing(study):
    survey = survey_of(study)

    response = start(respondent(), survey, website="http://spam.example")

    assert "Thank you" in response.text
    assert not SurveyResponse.objects.exists()


def test_a_filled_in_honeypot_on_a_section_discards_the_response(study):
    survey = survey_of(study)
    bot = respondent()
    start(bot, survey)

    response = bot.post(section_url(survey, 1), {"i0_met": "yes", "website": "http://spam.example"})

    assert "Thank you" in response.text
    assert not SurveyResponse.objects.exists()


def test_starting_responses_is_rate_limited_per_address_in_memory(study, settings):
    settings.SURVEY_STARTS_PER_ADDRESS = 2
    survey = survey_of(study)

    statuses = [start(respondent(), survey).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert "Too many responses were started from your network" in start(respondent(), survey).text
    assert start(respondent("198.51.100.4"), survey).status_code == 302
    assert SurveyResponse.objects.count() == 3


def test_no_client_address_is_stored_anywhere(study):
    survey = survey_of(study, background=[("role", "Your role", ())])
    browser = Client(REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR=ADDRESS)
    start(browser, survey)
    browser.post(section_url(survey, 1), {"bg_role": "developer"})
    browser.post(section_url(survey, 2), {"i0_met": "yes", "i0_comment": "Seen it."})
    browser.post(reverse("surveys:submit", args=[survey.token]))
    assert SurveyResponse.objects.get().submitted

    with connection.cursor() as cursor:
        holding = []
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE %s', [f"%{ADDRESS}%"])
            if cursor.fetchone()[0]:
                holding.append(table)

    assert holding == []


# --- What the public pages show ---


def test_the_public_pages_show_nothing_of_the_study_beyond_the_survey(study, owner):
    survey = survey_of(study, background=[("role", "Your role", ())])
    browser = respondent()
    pages = [browser.get(reverse("surveys:respond", args=[survey.token])).text]
    start(browser, survey)
    pages += [browser.get(section_url(survey, page)).text for page in (1, 2, 3)]
    pages.append(browser.get(reverse("surveys:submit", args=[survey.token])).text)
    browser.post(reverse("surveys:submit", args=[survey.token]))
    pages.append(browser.get(reverse("surveys:respond", args=[survey.token])).text)

    secrets = [study.name, study.slug, study.description, owner.username, "annotator", "/studies/", "/accounts/"]
    for text in pages:
        assert [secret for secret in secrets if secret in text] == []
        links = re.findall(r'(?:href|action|hx-post)="([^"]+)"', text)
        assert all(link.startswith(("/static/", f"/s/{survey.token}/")) for link in links), links


def test_a_link_with_no_survey_behind_it_says_so_and_nothing_more():
    response = respondent().get(reverse("surveys:respond", args=["no-such-survey"]))

    assert response.status_code == 404
    assert "There is no survey at this link." in response.text
    assert 'href="/"' not in response.text and "/studies/" not in response.text and "annotator" not in response.text


# --- The owner's page and download ---


def test_a_full_survey_takes_new_respondents_again_once_its_limit_is_raised(client, study, owner):
    survey = survey_of(study, response_limit=1)
    start(respondent(), survey)
    client.force_login(owner)
    url = reverse("surveys:schedule", args=[study.slug, survey.pk])

    wrong = {"response_limit": "0", "opens_at": "2026-05-02T10:00", "closes_at": "2026-05-01T10:00"}
    refused = client.post(url, wrong)

    assert refused.status_code == 422
    assert refused.context["schedule"].errors == {
        "response_limit": ["Ensure this value is greater than or equal to 1."],
        "closes_at": ["The survey must close after it opens."],
    }
    survey.refresh_from_db()
    assert survey.response_limit == 1 and survey.opens_at is None
    assert client.post(url, {"response_limit": "2"}).status_code == 302
    assert start(respondent("198.51.100.4"), survey).status_code == 302
    assert SurveyResponse.objects.count() == 2


def test_the_owners_page_shows_the_link_status_and_counts(client, study, owner):
    survey = survey_of(study, response_limit=50)
    start(respondent(), survey)
    client.force_login(owner)

    page = client.get(reverse("surveys:detail", args=[study.slug, survey.pk])).text

    assert f"http://testserver/s/{survey.token}/" in page
    assert "1 started, 0 submitted (limit: 50)" in page
    assert 'id="survey-state">open<' in page


def test_the_responses_csv_has_one_formula_safe_row_per_response(client, study, owner):
    survey = survey_of(study, background=[("role", "Your role", ())])
    browser = respondent()
    start(browser, survey)
    browser.post(section_url(survey, 1), {"bg_role": '=HYPERLINK("http://evil")'})
    browser.post(section_url(survey, 2), {"i0_met": "yes", "i0_severity": "3", "i0_comment": "@SUM(1,1)"})
    browser.post(reverse("surveys:submit", args=[survey.token]))
    start(respondent("198.51.100.4"), survey)
    client.force_login(owner)

    response = client.get(reverse("surveys:responses_csv", args=[study.slug, survey.pk]))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["response"], row["status"]) for row in rows] == [("1", "submitted"), ("2", "in progress")]
    first = rows[0]
    assert first["role"] == '\'=HYPERLINK("http://evil")'
    assert first["scenario=Wrong shape: comment"] == "'@SUM(1,1)"
    assert (first["scenario=Wrong shape: met"], first["scenario=Wrong shape: severity"]) == ("yes", "3")
    assert first["submitted_at"] and not rows[1]["submitted_at"]


def test_a_section_page_takes_a_few_queries_whatever_its_size(study, django_assert_max_num_queries):
    survey = survey_of(study, fields={"scenario": ["agree", "met", "severity", "comment"], "component": ["agree"]})
    browser = respondent()
    start(browser, survey)

    with django_assert_max_num_queries(4):  # the survey, the response, the count against the limit
        assert browser.get(section_url(survey, 1)).status_code == 200
