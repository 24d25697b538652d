"""A survey's results (surveys/results.py): counts, medians, shares with bootstrap intervals checked against
resampling the respondents by hand; filters by background answers; searchable comments; the page's diverging
bars; the summary downloads and the paragraph for the methods section."""

import csv
import io
import random
import statistics
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from studies.codebook import codebook_load, preset
from surveys.models import SurveyResponse
from surveys.questions import columns
from surveys.results import survey_results
from tests.factories import MembershipFactory, StudyFactory
from tests.helpers import as_read, survey_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """40 submitted responses and 3 in progress: developers agree with impact 3's definition more than
    researchers; every fifth respondent comments on Wrong shape."""
    study = StudyFactory()
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    survey = survey_of(
        study,
        fields={"scenario": ["met", "comment"], "impact": ["agree"]},
        background=[("role", "Your role", ["developer", "researcher"])],
    )
    ids = {name: question for question, name in columns(survey)}
    rng = random.Random(4)
    given = []
    for n in range(43):
        role = "developer" if n % 2 else "researcher"
        agree = str(rng.choice([4, 5, 5, 3]) if role == "developer" else rng.choice([1, 2, 3, 4]))
        answers = {
            ids["role"]: role,
            ids["impact=3: agree"]: agree,
            ids["scenario=Wrong shape: met"]: rng.choice(["yes", "yes", "no"]),
        }
        if n % 5 == 0:
            answers[ids["scenario=Wrong shape: comment"]] = f"Seen in Keras {n}" if n % 10 else f"=HYPERLINK({n})"
        SurveyResponse.objects.create(
            survey=survey,
            respondent=f"{n:064d}",
            answers=answers,
            submitted_at=timezone.now() - timedelta(minutes=n) if n < 40 else None,
        )
        if n < 40:
            given.append(answers)
    return {"study": study, "owner": owner, "survey": survey, "ids": ids, "given": given}


def question(results, id_):
    return next(each for each in results.distributions if each.asked.id == id_)


def test_each_question_counts_the_submitted_answers_with_median_quartiles_and_the_share_agreeing(world):
    ids, given = world["ids"], world["given"]

    results = survey_results(world["survey"])

    assert (results.responses, results.submitted, results.in_progress) == (40, 40, 3)
    agree = question(results, ids["impact=3: agree"])
    values = [int(a[ids["impact=3: agree"]]) for a in given]
    assert agree.counts == {str(level): values.count(level) for level in range(1, 6)}
    assert agree.median == statistics.median(values)
    assert agree.quartiles == tuple(float(q) for q in np.quantile(values, [0.25, 0.75]))
    agreeing = sum(value >= 4 for value in values)
    assert (agree.share.count, agree.share.of) == (agreeing, 40)

    # The interval, against resampling the respondents by hand.
    draws = np.random.default_rng(9)
    hits = np.array([value >= 4 for value in values])
    shares = [hits[draws.integers(0, 40, 40)].mean() for _ in range(4000)]
    low, high = np.quantile(shares, [0.025, 0.975])
    assert agree.share.low == pytest.approx(low, abs=0.03) and agree.share.high == pytest.approx(high, abs=0.03)

    met = question(results, ids["scenario=Wrong shape: met"])
    assert met.share.count == sum(a[ids["scenario=Wrong shape: met"]] == "yes" for a in given)
    assert met.median is None and met.bars == []


def test_filters_by_background_and_comments_by_what_they_hold(world):
    ids, given = world["ids"], world["given"]
    role = ids["role"]

    developers = survey_results(world["survey"], filters={role: "developer"})
    everyone = survey_results(world["survey"])
    searched = survey_results(world["survey"], search="keras")

    assert developers.responses == sum(a[role] == "developer" for a in given) == 20
    mine = question(developers, ids["impact=3: agree"]).share
    assert mine.value > question(everyone, ids["impact=3: agree"]).share.value
    assert len(everyone.comments) == 8 and {c.item for c in everyone.comments} == {"Scenario: Wrong shape"}
    assert sorted(c.text for c in searched.comments) == [f"Seen in Keras {n}" for n in (15, 25, 35, 5)]


def test_the_diverging_bar_puts_the_neutral_level_across_the_middle(world):
    agree = question(survey_results(world["survey"]), world["ids"]["impact=3: agree"])

    bars = agree.bars
    neutral = bars[2]
    assert [bar["value"] for bar in bars] == ["1", "2", "3", "4", "5"]
    assert sum(bar["width"] for bar in bars) == pytest.approx(100)
    assert neutral["x"] + neutral["width"] / 2 == pytest.approx(50)
    assert bars[0]["x"] == pytest.approx(50 - bars[0]["width"] - bars[1]["width"] - neutral["width"] / 2)


def test_the_page_shows_the_results_and_its_downloads_hold_the_same_numbers(client, world):
    study, survey, ids = world["study"], world["survey"], world["ids"]
    client.force_login(world["owner"])
    url = reverse("surveys:results", args=[study.slug, survey.pk])

    page = as_read(client.get(url + f"?{ids['role']}=developer").content.decode())
    summary = client.get(url + "?format=csv")
    latex = client.get(url + "?format=latex").content.decode()

    assert "20 submitted responses matching the filters, of 40; 3 still in progress" in page
    assert '<svg class="diverging"' in page and "<rect " in page
    rows = list(csv.DictReader(io.StringIO(b"".join(summary.streaming_content).decode("utf-8-sig"))))
    agree = survey_results(survey).distributions
    row = next(
        r for r in rows if r["item"] == "Impact: 3 — model works differently" and r["question"].startswith("Do")
    )
    expected = next(d for d in agree if d.asked.id == ids["impact=3: agree"])
    assert float(row["share"]) == round(expected.share.value, 3) and row["answered"] == "40"
    assert r"\begin{tabular}{llrll}" in latex and "Wrong shape" in latex and r"\%" in latex
    assert "we surveyed them on 11 of its items, as codebook version 1 defines them; 40 respondents" in page


def test_only_owners_read_the_results(client, world):
    annotator = MembershipFactory(study=world["study"], role="annotator").user
    client.force_login(annotator)

    assert client.get(reverse("surveys:results", args=[world["study"].slug, world["survey"].pk])).status_code == 404


def test_the_methods_report_has_a_section_on_the_survey(client, world):
    client.force_login(world["owner"])

    text = as_read(client.get(reverse("agreement:methods", args=[world["study"].slug]) + "?format=markdown").text)

    assert "## Validation with practitioners" in text
    assert "Survey “Silent bugs in deep-learning frameworks”: To validate the codebook with practitioners" in text
