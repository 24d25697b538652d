"""Models measured against the humans (llm/agreement.py): pairs, the swap test, confidence triage and the gate,
checked against the `krippendorff` package and a brute-force paired bootstrap."""

import csv
import io
import random

import krippendorff
import numpy as np
import pytest
from django.urls import reverse

from agreement.coefficients import krippendorff_alpha, paired_bootstrap_difference
from llm.agreement import compare, items_for_humans
from llm.models import ModelAnswer, ModelGate
from studies.access import StudyAccess
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, FinalValue, IssueStage
from tests.factories import MembershipFactory, StudyIssueFactory
from tests.helpers import as_read, model_rater

pytestmark = pytest.mark.django_db

LEVELS = ["1", "2", "3", "4"]


def brute_alpha(rows) -> float:
    data = np.array([[np.nan if v is None else float(v) for v in row] for row in rows]).T
    return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")


def test_the_paired_bootstrap_matches_resampling_the_units_by_hand():
    rng = random.Random(3)
    first = [[rng.choice("abc"), rng.choice("abc"), rng.choice("ab")] for _ in range(60)]
    second = [[row[0], row[1], row[0] if rng.random() < 0.7 else "c"] for row in first]

    found = paired_bootstrap_difference(krippendorff_alpha, first, second, reps=2000, seed=1)

    codes = {"a": 0, "b": 1, "c": 2}
    numeric = [[[codes[v] for v in row] for row in rows] for rows in (first, second)]
    draws = np.random.default_rng(7)
    differences = []
    for _ in range(2000):
        units = draws.integers(0, len(first), len(first))
        a, b = (np.array(rows)[units] for rows in numeric)
        differences.append(brute_alpha(b) - brute_alpha(a))
    low, high = np.quantile(differences, [0.025, 0.975])
    assert found.low == pytest.approx(low, abs=0.03) and found.high == pytest.approx(high, abs=0.03)
    estimate = krippendorff_alpha(second).value - krippendorff_alpha(first).value
    assert found.low < estimate < found.high


def test_a_model_identical_to_the_human_it_replaces_changes_nothing():
    pool = [["a", "b", "a"], ["b", "b", "b"], ["a", "a", "b"], ["c", "c", "c"]] * 5

    found = paired_bootstrap_difference(krippendorff_alpha, pool, [list(row) for row in pool], reps=200)

    assert (found.low, found.high) == (0.0, 0.0)


@pytest.fixture
def world(study):
    """Three humans label Impact on 40 issues, mostly alike; final values are the majority. Model "twin" gives
    ann's values (confidence 1), "noise" a random level (confidence 0.4)."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    humans = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    impact = study.fields.get(key="impact")
    rng = random.Random(0)
    issues = [StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION) for _ in range(40)]
    truth = {}
    for study_issue in issues:
        level = rng.choice(LEVELS)
        truth[study_issue.pk] = level
        for human in humans:
            work = Assignment.objects.create(
                study=study, issue=study_issue.issue, annotator=human, stage="labelling", status="submitted"
            )
            given = level if rng.random() < 0.85 else rng.choice(LEVELS)
            Annotation.objects.create(assignment=work, field=impact, value=int(given))
        FinalValue.objects.create(study_issue=study_issue, field=impact, value=int(level))
    twin, noise = model_rater(study, "twin"), model_rater(study, "noise")
    ann = humans[0]
    for study_issue in issues:
        mine = Annotation.objects.get(assignment__annotator=ann, assignment__issue=study_issue.issue, field=impact)
        for rater, value, confidence in ((twin, mine.value, 1.0), (noise, int(rng.choice(LEVELS)), 0.4)):
            ModelAnswer.objects.create(
                run=rater.runs.get(),
                rater=rater,
                study_issue=study_issue,
                field=impact,
                prompt_hash="0" * 64,
                codebook_version=1,
                messages=[],
                value=value,
                confidence=confidence,
            )
    return {"study": study, "owner": owner, "humans": humans, "impact": impact, "issues": issues, "twin": twin}


def column(study, field, user, issues):
    values = dict(
        Annotation.objects.filter(assignment__annotator=user, field=field).values_list("assignment__issue_id", "value")
    )
    return [values.get(study_issue.issue_id) for study_issue in issues]


def test_each_pair_of_raters_is_measured_as_the_krippendorff_package_does(world):
    study, impact, (ann, bob, _) = world["study"], world["impact"], world["humans"]
    issues = sorted(world["issues"], key=lambda study_issue: study_issue.issue_id)

    found = compare(StudyAccess(study, world["owner"]), impact, reps=200)

    pairs = {(pair.first, pair.second): pair for pair in found.pairs}
    a, b = column(study, impact, ann, issues), column(study, impact, bob, issues)
    expected = krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement="ordinal")
    names = sorted([ann.username, bob.username])
    assert pairs[tuple(names)].alpha.value == pytest.approx(expected)
    assert pairs[("twin", ann.username)].alpha.value == pytest.approx(1.0)
    assert {pair.kind for pair in found.pairs} == {"human–human", "model–human", "model–final", "model–model"}
    assert len(found.pairs) == 3 + 2 * (3 + 1) + 1
    noise = pairs[("noise", "final values")]
    assert noise.alpha.value < 0.3 and noise.interval.low < noise.alpha.value < noise.interval.high


def test_the_swap_test_tells_the_twin_from_the_noise(world):
    study, impact, ann = world["study"], world["impact"], world["humans"][0]

    found = compare(StudyAccess(study, world["owner"]), impact, reps=500)

    swaps = {(swap.model, swap.replaced): swap for swap in found.swaps}
    twin = swaps[("twin", ann.username)]
    assert twin.difference == pytest.approx(0.0) and (twin.interval.low, twin.interval.high) == (0.0, 0.0)
    noisy = swaps[("noise", ann.username)]
    assert noisy.difference < -0.2 and noisy.interval.high < 0
    pool = [
        [a, b, c]
        for a, b, c in zip(*(column(study, impact, human, world["issues"]) for human in world["humans"]), strict=True)
    ]
    expected = krippendorff.alpha(reliability_data=np.array(pool, dtype=float).T, level_of_measurement="ordinal")
    assert twin.humans.value == pytest.approx(expected)


def test_triage_splits_each_models_items_at_the_confidence_threshold(world):
    found = compare(StudyAccess(world["study"], world["owner"]), world["impact"], reps=100)

    triage = {each.model: each for each in found.triage}
    assert (triage["twin"].above, triage["twin"].below) == (40, 0)
    assert (triage["noise"].above, triage["noise"].below) == (0, 40)


def test_the_gate_is_met_only_when_models_agree_and_every_swap_stays_within_the_margin(world):
    study, impact = world["study"], world["impact"]
    ModelGate.objects.create(study=study, field=impact, min_model_alpha=0.8, swap_margin=0.05)

    verdict = compare(StudyAccess(study, world["owner"]), impact, reps=200).verdict

    assert not verdict.met and verdict.model_model is False and verdict.swaps is False
    assert any(reason.startswith("α of noise and twin is") for reason in verdict.reasons)
    assert any(reason.startswith("noise in the place of") for reason in verdict.reasons)


def test_the_issues_models_disagree_on_or_are_unsure_of_go_to_the_humans(world, client):
    study, impact, owner = world["study"], world["impact"], world["owner"]
    StudyIssueFactory(study=study, stage=IssueStage.LABELLING)  # no model answer: not theirs to hand out
    labelling = world["issues"][:3]
    for study_issue in labelling:
        study_issue.stage = IssueStage.LABELLING
        study_issue.save()

    assert {s.pk for s in items_for_humans(study, impact, 0.8)} == {s.pk for s in labelling}

    newcomer = MembershipFactory(study=study, role="annotator").user
    client.force_login(owner)
    url = reverse("llm:queue", args=[study.slug, "impact"])
    refused = client.post(url, {})
    assert refused.status_code == 422 and "This field is required." in refused.content.decode()
    done = client.post(url, {"annotators": [newcomer.username]}, follow=True)
    assert "3 assignments given" in as_read(done.content.decode())
    assert Assignment.objects.filter(annotator=newcomer, stage="labelling").count() == 3


def test_the_page_shows_annotators_the_numbers_and_only_owners_the_gate_and_the_queue(world, client):
    study = world["study"]
    study.annotators_see_agreement = True
    study.save()
    url = reverse("llm:agreement", args=[study.slug])

    client.force_login(world["humans"][1])
    seen = client.get(url).content.decode()
    assert 'data-pair="twin|' in seen and "Save the gate" not in seen and "Give them out" not in seen

    client.force_login(world["owner"])
    refused = client.post(reverse("llm:gate", args=[study.slug, "impact"]), {"min_model_alpha": "2"})
    assert refused.status_code == 422 and "less than or equal to 1" in refused.content.decode()
    client.post(
        reverse("llm:gate", args=[study.slug, "impact"]),
        {"min_model_alpha": "0.8", "swap_margin": "0.05", "confidence_threshold": "0.8"},
    )
    page = as_read(client.get(url).content.decode())
    assert "Gate not met" in page and "Save the gate" in page


def test_the_methods_report_states_each_models_role_version_configuration_and_validation(world, client):
    study = world["study"]
    ModelAnswer.objects.filter(rater__name="twin").update(model_version="qwen2.5-7b-instruct q4")
    client.force_login(world["owner"])

    text = as_read(client.get(reverse("agreement:methods", args=[study.slug]) + "?format=markdown").content.decode())

    assert "## Language models as raters" in text
    assert "The model twin (qwen-7b; reported version qwen2.5-7b-instruct q4) rated Impact on 40 issues" in text
    assert "The model noise (qwen-7b; no version reported) rated Impact" in text
    assert "never became final values by themselves" in text and "Each item was asked 3 times" in text
    assert "No open model was used as a baseline" in text
    twin_row = next(line for line in text.splitlines() if line.startswith("| Impact | twin | 40 |"))
    swaps = twin_row.split(" | ")[4].split("; ")
    assert f"{world['humans'][0].username} 0.000 [0.000, 0.000]" in swaps  # it gave ann's values


def test_a_study_without_model_raters_has_no_section_on_them(client, study):
    owner = MembershipFactory(study=study, role="owner").user
    client.force_login(owner)

    text = as_read(client.get(reverse("agreement:methods", args=[study.slug]) + "?format=markdown").content.decode())

    assert "Language models" not in text


def test_a_gate_loosened_after_the_results_shows_in_the_studys_history(world, client):
    study, owner = world["study"], world["owner"]
    client.force_login(owner)
    gate = reverse("llm:gate", args=[study.slug, "impact"])
    client.post(gate, {"min_model_alpha": "0.8", "swap_margin": "0.05", "confidence_threshold": "0.8"})
    client.post(gate, {"min_model_alpha": "0.6", "swap_margin": "0.2", "confidence_threshold": "0.8"})

    response = client.get(reverse("studies:history_export", args=[study.slug]))

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    gates = [
        (row["action"], row["object"], row["field"], row["before"], row["after"])
        for row in rows
        if row["what"] == "model gate"
    ]
    assert ("changed", "Impact", "min model alpha", "0.8", "0.6") in gates
    assert ("changed", "Impact", "swap margin", "0.05", "0.2") in gates
    assert gates[0][:2] == ("created", "Impact")
