"""Calibration rounds: the sample, the round's agreement and stop rule, the report, the rounds page and its CSV, and
who may see and start them."""

import csv
import io
import re
from decimal import Decimal

import krippendorff
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from agreement import rounds
from agreement.methods import methods_report
from agreement.primary import primary_declare
from agreement.rounds import (
    FieldResult,
    RoundError,
    draw_sample,
    eligible_issues,
    round_close,
    round_results,
    round_start,
    rounds_summary,
    strata,
)
from studies.access import StudyAccess
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, field_update, preset
from studies.models import Assignment, FinalValue, GoldItem, IssueStage, Round, Stage
from studies.transfer import export_study, import_study
from tests.factories import MembershipFactory, StudyIssueFactory
from tests.helpers import as_read

pytestmark = pytest.mark.django_db

SCENARIOS = ["Wrong shape", "Wrong displayed message", "Wrong save/reload", "Wrong calculation"]


@pytest.fixture
def world(study):
    """The silent-bugs codebook, an owner, an adjudicator, three annotators and 20 issues at the labelling stage:
    15 labelled type:bug, 5 type:feature."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    people = {
        name: MembershipFactory(study=study, role=role, user__username=name).user
        for name, role in [("olga", "owner"), ("adam", "adjudicator"), ("ann", "annotator"), ("bob", "annotator")]
    }
    people["cyd"] = MembershipFactory(study=study, role="annotator", user__username="cyd").user
    for index in range(20):
        StudyIssueFactory(study=study, issue__labels=["type:bug" if index < 15 else "type:feature", "comp:x"])
    return people


def start(study, owner, **options):
    defaults = {"size": 6, "seed": 1, "annotators": ["ann", "bob"], "fields": ["scenario", "impact"]}
    return round_start(study=study, user=owner, **{**defaults, **options})


def answer(round_, username: str, issue, *, scenario: str, impact: str, note: str = "") -> None:
    assignment = Assignment.objects.get(
        study=round_.study, issue=issue, annotator__username=username, stage=Stage.LABELLING
    )
    fields = {field.key: field for field in round_.study.fields.all()}
    annotation_save(assignment=assignment, field=fields["scenario"], value=scenario, note=note)
    annotation_save(assignment=assignment, field=fields["component"], value=["Model"])
    annotation_save(assignment=assignment, field=fields["impact"], value=impact)
    assignment_submit(assignment=assignment)


def text(response) -> str:
    """The page's words, without tags, spaces run together."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", as_read(response.content.decode())))


def round_issues(round_):
    return [study_issue.issue for study_issue in round_.issues.order_by("issue_id").select_related("issue")]


# --- The sample ---


def test_it_draws_the_same_sample_for_the_same_seed(study, world):
    pool = eligible_issues(study)
    groups = strata(study, pool, Round.Sampling.RANDOM, "")

    first = draw_sample(groups, 6, seed=7)

    assert draw_sample(groups, 6, seed=7) == first
    assert draw_sample(groups, 6, seed=8) != first
    assert sorted(start(study, world["olga"], seed=7).issues.values_list("pk", flat=True)) == first


def test_it_stratifies_by_label_in_proportion(study, world):
    round_ = start(study, world["olga"], size=8, sampling=Round.Sampling.LABEL, stratify_by="type:")

    labels = [issue.labels[0] for issue in round_issues(round_)]
    assert sorted(labels) == ["type:bug"] * 6 + ["type:feature"] * 2


def test_it_stratifies_by_a_final_value_in_proportion(study, world):
    reproduced = study.fields.get(key="reproduced")
    study_issues = list(study.study_issues.order_by("pk"))
    for index, study_issue in enumerate(study_issues[:16]):
        FinalValue.objects.create(study_issue=study_issue, field=reproduced, value="yes" if index < 12 else "no")

    round_ = start(study, world["olga"], size=10, sampling=Round.Sampling.VALUE, stratify_by="reproduced")

    drawn = set(round_.issues.values_list("pk", flat=True))
    yes = {study_issue.pk for study_issue in study_issues[:12]}
    no = {study_issue.pk for study_issue in study_issues[12:16]}
    assert (len(drawn & yes), len(drawn & no), len(drawn - yes - no)) == (6, 2, 2)


def test_it_refuses_a_sample_larger_than_the_issues_that_can_join(study, world):
    with pytest.raises(RoundError, match="The sample would be 21 issues, but only 20 can join a round") as refused:
        start(study, world["olga"], size=21)

    assert refused.value.field == "size"
    assert not Round.objects.exists()
    assert not Assignment.objects.exists()


def test_it_never_draws_an_issue_of_an_earlier_round(study, world):
    first = start(study, world["olga"], size=15)
    round_close(first)

    with pytest.raises(RoundError, match="only 5 can join"):
        start(study, world["olga"], size=6)
    second = start(study, world["olga"], size=5)

    assert not set(first.issues.all()) & set(second.issues.all())
    assert (first.number, second.number) == (1, 2)


def test_it_refuses_a_new_round_while_one_is_open(study, world):
    start(study, world["olga"])

    with pytest.raises(RoundError, match="Round 1 is still open"):
        start(study, world["olga"])


def test_it_refuses_a_round_with_one_annotator(study, world):
    with pytest.raises(RoundError, match="at least two annotators") as refused:
        start(study, world["olga"], annotators=["ann"])

    assert refused.value.field == "annotators"


def test_it_assigns_every_round_issue_to_every_round_annotator_for_labelling(study, world):
    round_ = start(study, world["olga"])

    assigned = set(Assignment.objects.values_list("issue_id", "annotator__username", "stage"))
    assert assigned == {(issue.pk, name, Stage.LABELLING) for issue in round_issues(round_) for name in ("ann", "bob")}


def test_it_records_the_codebook_versions_at_start_and_close(study, world):
    round_ = start(study, world["olga"])
    started = round_.codebook_version_start

    field_update(study.fields.get(key="scenario"), {"definition": "The visible symptom, not its cause."})
    closed = round_close(round_)

    assert closed.codebook_version_end == started + 1
    with pytest.raises(RoundError, match="closed already"):
        round_close(closed)


# --- The round's agreement ---

# Per round issue: (ann, bob) scenario index and impact level.
ROUND_ONE = [
    ((0, 0), (1, 1)),
    ((1, 1), (2, 2)),
    ((0, 2), (3, 4)),
    ((3, 3), (4, 4)),
    ((1, 0), (2, 1)),
    ((2, 2), (1, 1)),
]


def labelled_round(study, world, answers=ROUND_ONE, **options):
    round_ = start(study, world["olga"], size=len(answers), **options)
    for issue, ((s_ann, s_bob), (i_ann, i_bob)) in zip(round_issues(round_), answers, strict=True):
        answer(round_, "ann", issue, scenario=SCENARIOS[s_ann], impact=str(i_ann), note="ann's reading")
        answer(round_, "bob", issue, scenario=SCENARIOS[s_bob], impact=str(i_bob), note="bob's reading")
    return round_


def test_it_computes_each_fields_alpha_over_the_round_issues_as_krippendorff_does(study, world):
    round_ = labelled_round(study, world)
    # An issue outside the round, labelled in complete disagreement: it must not count.
    outside = eligible_issues(study).first().issue
    for name in ("ann", "bob"):
        Assignment.objects.create(study=study, issue=outside, annotator=world[name], stage=Stage.LABELLING)
    answer(round_, "ann", outside, scenario=SCENARIOS[0], impact="1")
    answer(round_, "bob", outside, scenario=SCENARIOS[3], impact="4")

    results = {result.field.key: result for result in round_results(round_, StudyAccess.everything(study))}

    scenario = np.array([[pair[0][0] for pair in ROUND_ONE], [pair[0][1] for pair in ROUND_ONE]], dtype=float)
    impact = np.array([[pair[1][0] for pair in ROUND_ONE], [pair[1][1] for pair in ROUND_ONE]], dtype=float)
    assert results["scenario"].items == 6
    assert results["scenario"].value == pytest.approx(krippendorff.alpha(scenario, level_of_measurement="nominal"))
    assert results["impact"].value == pytest.approx(
        krippendorff.alpha(impact, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4])
    )
    assert results["scenario"].low <= results["scenario"].value <= results["scenario"].high


def test_it_judges_the_stop_rule_on_the_estimate_or_the_lower_bound():
    def result(value, low, applies_to):
        return FieldResult(None, "krippendorff_alpha", value, low, 1.0, 30, "", 0.8, applies_to)

    assert result(0.8, 0.6, "estimate").met
    assert not result(0.7999, 0.6, "estimate").met
    assert not result(0.9, 0.79, "lower").met
    assert result(0.9, 0.8, "lower").met
    assert not result(None, None, "estimate").met  # undefined: never shown as met


def test_it_says_not_met_when_only_the_lower_bound_falls_short(study, world, client):
    round_ = labelled_round(study, world)
    scenario = round_results(round_, StudyAccess.everything(study))[0]
    # A threshold between the interval's lower bound and the estimate: met on the estimate, not on the bound.
    Round.objects.filter(pk=round_.pk).update(threshold=round((scenario.low + scenario.value) / 2, 3))
    round_.refresh_from_db()
    assert round_results(round_, StudyAccess.everything(study))[0].met

    Round.objects.filter(pk=round_.pk).update(applies_to=Round.AppliesTo.LOWER)
    client.force_login(world["olga"])
    page = text(client.get(reverse("agreement:round", args=[study.slug, 1])))

    assert "judged on the lower bound of the 95 % interval: not met." in page


# --- The report page ---


def test_it_shows_the_disagreements_side_by_side_with_a_link_to_reconcile(study, world, client):
    round_ = labelled_round(study, world)
    disputed = round_issues(round_)[2]  # scenario 0 against 2
    client.force_login(world["adam"])

    page = as_read(client.get(reverse("agreement:round", args=[study.slug, 1])).content.decode())

    reconcile = reverse(
        "studies:reconcile", args=[study.slug, disputed.repository.owner, disputed.repository.name, disputed.number]
    )
    assert f'href="{reconcile}"' in page
    row = page[page.index(f'href="{reconcile}"') :]
    assert re.search(r"ann</td><td><bdi>Wrong shape</bdi>.*ann's reading", row, re.S)
    assert re.search(r"bob</td><td><bdi>Wrong save/reload</bdi>.*bob's reading", row, re.S)
    assert "not met" in page  # α on scenario is about 0.55, below 0.80


def test_it_lists_the_codebook_changes_since_the_previous_round(study, world, client):
    round_close(labelled_round(study, world))
    field_update(study.fields.get(key="scenario"), {"label": "Observable scenario"})
    start(study, world["olga"])
    client.force_login(world["olga"])

    page = as_read(client.get(reverse("agreement:round", args=[study.slug, 2])).content.decode())

    assert "Codebook changes since round 1" in page
    assert "renamed “Scenario” → “Observable scenario”" in page


def test_an_owner_who_labels_a_round_issue_does_not_see_its_values(study, world, client):
    MembershipFactory(study=study, role="annotator", user=world["olga"])
    round_ = start(study, world["olga"], annotators=["ann", "bob", "olga"], size=2)
    for issue in round_issues(round_):  # ann and bob disagree; olga has not labelled yet
        answer(round_, "ann", issue, scenario="Wrong shape", impact="1", note="ann-secret-note")
        answer(round_, "bob", issue, scenario="Wrong calculation", impact="4", note="bob-secret-note")
    client.force_login(world["olga"])

    page = text(client.get(reverse("agreement:round", args=[study.slug, 1])))

    assert "secret-note" not in page and "Wrong calculation" not in page
    assert "2 of the round's issues are still blind to you" in page
    client.force_login(world["adam"])  # who does not label them sees them
    assert "bob-secret-note" in text(client.get(reverse("agreement:round", args=[study.slug, 1])))


# --- Who may ---


@pytest.mark.parametrize("name", ["agreement:rounds", "agreement:rounds_export"])
def test_it_hides_rounds_from_non_members_and_annotators(study, world, client, name):
    study.annotators_see_agreement = True
    study.save()
    labelled_round(study, world)
    url = reverse(name, args=[study.slug])
    report = reverse("agreement:round", args=[study.slug, 1])

    client.force_login(MembershipFactory(role="owner").user)  # of another study
    assert client.get(url).status_code == 404
    assert client.get(report).status_code == 404
    client.force_login(world["ann"])
    assert client.get(url).status_code == 404
    assert client.get(report).status_code == 404


def test_it_sends_the_anonymous_to_log_in(study, world):
    response = Client().get(reverse("agreement:rounds", args=[study.slug]))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_only_owners_start_and_close_rounds(study, world, client):
    start(study, world["olga"])
    client.force_login(world["adam"])

    assert client.get(reverse("agreement:rounds", args=[study.slug])).status_code == 200
    refused = client.post(reverse("agreement:rounds", args=[study.slug]), {"size": 2})
    assert refused.status_code == 404
    assert client.post(reverse("agreement:round_close", args=[study.slug, 1])).status_code == 404
    assert Round.objects.get().is_open


def test_start_and_close_need_the_csrf_token(study, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["olga"])
    data = {"size": 2, "sampling": "random", "annotators": ["ann", "bob"], "fields": ["scenario"]}
    data |= {"statistic": "krippendorff_alpha", "threshold": 0.8, "applies_to": "estimate"}

    assert client.post(reverse("agreement:rounds", args=[study.slug]), data).status_code == 403
    start(study, world["olga"])
    assert client.post(reverse("agreement:round_close", args=[study.slug, 1])).status_code == 403
    assert Round.objects.get().is_open


def test_the_rounds_page_refuses_get_only_methods(study, world, client):
    client.force_login(world["olga"])

    assert client.put(reverse("agreement:rounds", args=[study.slug])).status_code == 405
    assert client.get(reverse("agreement:round_close", args=[study.slug, 1])).status_code == 405


# --- Starting from the page ---


def test_it_starts_a_round_from_the_page(study, world, client):
    client.force_login(world["olga"])
    data = {"size": 4, "sampling": "random", "seed": 3, "annotators": ["ann", "cyd"], "fields": ["scenario"]}
    data |= {"statistic": "gwet_ac1", "threshold": 0.7, "applies_to": "lower"}

    response = client.post(reverse("agreement:rounds", args=[study.slug]), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("agreement:round", args=[study.slug, 1])
    round_ = Round.objects.get()
    assert (round_.size, round_.seed, round_.statistic, round_.threshold, round_.applies_to) == (
        4,
        3,
        "gwet_ac1",
        0.7,
        "lower",
    )
    assert sorted(round_.annotators.values_list("username", flat=True)) == ["ann", "cyd"]
    assert round_.started_by == world["olga"]


def test_a_refused_start_keeps_what_was_typed_and_says_why(study, world, client):
    client.force_login(world["olga"])
    data = {"size": 50, "sampling": "random", "seed": 42, "annotators": ["ann", "bob"], "fields": ["scenario"]}
    data |= {"statistic": "krippendorff_alpha", "threshold": 0.67, "applies_to": "lower"}

    response = client.post(reverse("agreement:rounds", args=[study.slug]), data)

    assert response.status_code == 422
    page = as_read(response.content.decode())
    assert "The sample would be 50 issues, but only 20 can join a round" in page
    assert 'value="50"' in page and 'value="42"' in page and 'value="0.67"' in page
    assert not Round.objects.exists()


# --- The rounds page and its CSV ---


def test_the_rounds_page_plots_every_field_round_by_round(study, world, client):
    round_close(labelled_round(study, world))
    second = start(study, world["olga"], size=2)
    for issue in round_issues(second):
        answer(second, "ann", issue, scenario="Wrong shape", impact="2")
        answer(second, "bob", issue, scenario="Wrong calculation", impact="3")
    client.force_login(world["olga"])

    page = client.get(reverse("agreement:rounds", args=[study.slug])).content.decode()

    assert page.count("<svg") == 2  # scenario, impact
    assert page.count('class="threshold"') == 4
    assert page.count('class="interval"') >= 2
    assert "round 2" in page
    assert " style=" not in page


def test_the_csv_has_a_row_per_round_and_field(study, world, client):
    round_ = labelled_round(study, world)
    field_update(study.fields.get(key="scenario"), {"definition": "The visible symptom."})
    round_close(round_)
    client.force_login(world["olga"])

    response = client.get(reverse("agreement:rounds_export", args=[study.slug]))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Disposition"] == f'attachment; filename="{study.slug}-rounds.csv"'
    assert [(row["round"], row["field"], row["statistic"]) for row in rows] == [
        ("1", "scenario", "krippendorff_alpha"),
        ("1", "impact", "krippendorff_alpha"),
    ]
    expected = {result.field.key: result for _, results in rounds_summary(study) for result in results}
    for row in rows:
        result = expected[row["field"]]
        assert float(row["value"]) == pytest.approx(result.value, abs=1e-4)
        assert float(row["lower"]) <= float(row["value"]) <= float(row["upper"])
        assert row["items"] == "6"
        assert row["met"] == ("yes" if result.met else "no")
        assert (row["codebook_version_start"], row["codebook_version_end"]) == (
            str(round_.codebook_version_start),
            str(round_.codebook_version_start + 1),
        )


def test_round_issues_are_labelled_blind_like_any_other(study, world, client):
    round_ = start(study, world["olga"], size=1)
    issue = round_issues(round_)[0]
    answer(round_, "ann", issue, scenario="Wrong shape", impact="1", note="ann-blind-note")
    client.force_login(world["bob"])
    repository = issue.repository

    page = client.get(reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number]))

    assert page.status_code == 200
    assert "ann-blind-note" not in page.content.decode()
    assert study.study_issues.get(issue=issue).stage == IssueStage.LABELLING


def test_the_command_writes_the_same_csv(study, world, capsys):
    round_close(labelled_round(study, world))

    call_command("rounds", "--study", study.slug)

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["round"], row["field"], row["items"], row["codebook_version_end"]) for row in rows] == [
        ("1", "scenario", "6", "1"),
        ("1", "impact", "6", "1"),
    ]
    with pytest.raises(CommandError, match="No study 'nope'"):
        call_command("rounds", "--study", "nope")


def test_the_report_and_the_rounds_page_take_few_queries(study, world, client, django_assert_max_num_queries):
    round_close(labelled_round(study, world))
    start(study, world["olga"])
    client.force_login(world["olga"])

    with django_assert_max_num_queries(25):
        assert client.get(reverse("agreement:round", args=[study.slug, 1])).status_code == 200
    # A few per round and field (rounds are a handful; each reads its revealed issues' ids once): none per issue.
    with django_assert_max_num_queries(27):
        assert client.get(reverse("agreement:rounds", args=[study.slug])).status_code == 200


def test_a_closed_rounds_figures_are_computed_once(study, world, client, monkeypatch):
    round_close(labelled_round(study, world))
    client.force_login(world["olga"])
    pages = [reverse(name, args=[study.slug]) for name in ("agreement:rounds", "agreement:rounds_export")]
    pages.append(reverse("agreement:round", args=[study.slug, 1]))
    first = text(client.get(pages[0]))
    resamples = []
    bootstrap = rounds.c.bootstrap_interval
    monkeypatch.setattr(rounds.c, "bootstrap_interval", lambda *a, **k: resamples.append(a) or bootstrap(*a, **k))

    for page in pages:
        assert client.get(page).status_code == 200

    assert resamples == []  # read from the round, not resampled again
    assert text(client.get(pages[0])) == first


def test_an_open_rounds_figures_follow_its_answers(study, world, client):
    round_ = start(study, world["olga"])
    *answered, last = round_issues(round_)
    for issue, ((s_ann, s_bob), (i_ann, i_bob)) in zip(answered, ROUND_ONE, strict=False):
        answer(round_, "ann", issue, scenario=SCENARIOS[s_ann], impact=str(i_ann))
        answer(round_, "bob", issue, scenario=SCENARIOS[s_bob], impact=str(i_bob))
    answer(round_, "ann", last, scenario=SCENARIOS[0], impact="1")
    client.force_login(world["olga"])
    export = reverse("agreement:rounds_export", args=[study.slug])

    def scenario_row() -> dict:
        rows = csv.DictReader(io.StringIO(b"".join(client.get(export).streaming_content).decode()))
        return next(row for row in rows if row["field"] == "scenario")

    before = scenario_row()
    answer(round_, "bob", last, scenario=SCENARIOS[0], impact="1")  # the last answer comes in, agreeing
    after = scenario_row()

    assert (before["items"], after["items"]) == ("5", "6")
    assert float(after["value"]) > float(before["value"])
    expected = {
        result.field.key: result for result in round_results(Round.objects.get(), StudyAccess.everything(study))
    }
    assert float(after["value"]) == pytest.approx(expected["scenario"].value, abs=1e-4)


def test_a_viewer_never_gets_the_figures_kept_for_another(study, world):
    MembershipFactory(study=study, role="annotator", user=world["olga"])
    round_ = start(study, world["olga"], annotators=["ann", "bob", "olga"], size=2)
    for issue in round_issues(round_):
        answer(round_, "ann", issue, scenario="Wrong shape", impact="1")
        answer(round_, "bob", issue, scenario="Wrong calculation", impact="4")

    # adam sees both issues; olga labels them and has not yet: they are blind to her.
    assert [result.items for result in round_results(round_, StudyAccess(study, world["adam"]))] == [2, 2]
    assert [result.items for result in round_results(round_, StudyAccess(study, world["olga"]))] == [0, 0]
    assert [result.items for result in round_results(round_, StudyAccess(study, world["adam"]))] == [2, 2]


def test_a_study_moved_to_another_instance_keeps_its_rounds(study, world, tmp_path):
    first = labelled_round(study, world, threshold=0.67, applies_to=Round.AppliesTo.LOWER)
    round_close(first)
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study, out)
    before = [(r.field.key, r.value, r.low, r.met) for r in round_results(first)]

    copy = import_study(file, slug="moved").study

    moved = copy.rounds.get()
    assert (moved.number, moved.threshold, moved.applies_to, moved.started_by) == (1, 0.67, "lower", world["olga"])
    assert (moved.codebook_version_start, moved.codebook_version_end) == (1, 1)
    assert sorted(moved.issues.values_list("issue_id", flat=True)) == [issue.pk for issue in round_issues(first)]
    assert sorted(moved.annotators.values_list("username", flat=True)) == ["ann", "bob"]
    assert {field.study_id for field in moved.fields.all()} == {copy.pk}
    assert [(r.field.key, r.value, r.low, r.met) for r in round_results(moved)] == before


def test_gold_issues_never_join_a_round(study, world):
    gold = list(study.study_issues.order_by("pk")[:5])
    for study_issue in gold:
        GoldItem.objects.create(study=study, issue=study_issue.issue)

    with pytest.raises(RoundError, match="only 15 can join"):
        start(study, world["olga"], size=16)
    round_ = start(study, world["olga"], size=15)

    assert not set(round_.issues.all()) & set(gold)


def test_the_report_says_when_the_rounds_statistic_is_not_the_pre_registered_one(study, world, client):
    fields = {field.key: field for field in study.fields.all()}
    for key, statistic, threshold in (("scenario", "krippendorff_alpha", "0.8"), ("impact", "gwet_ac1", "0.7")):
        primary_declare(
            field=fields[key],
            statistic=statistic,
            threshold=Decimal(threshold),
            source="a textbook",
            reason="",
            user=world["olga"],
            version=0,
        )
    labelled_round(study, world, statistic=Round.Statistic.GWET_AC1)
    client.force_login(world["olga"])

    page = text(client.get(reverse("agreement:round", args=[study.slug, 1])))

    assert "Krippendorff's α ≥ 0.800: the round's statistic is secondary" in page
    assert "Gwet's AC1 ≥ 0.700 " in page and "Gwet's AC1 ≥ 0.700:" not in page


def test_the_stop_rule_starts_as_the_pre_registered_statistic(study, world, client):
    for key in ("scenario", "impact"):
        primary_declare(
            field=study.fields.get(key=key),
            statistic="gwet_ac1",
            threshold=Decimal("0.75"),
            source="Gwet (2014)",
            reason="",
            user=world["olga"],
            version=0,
        )
    client.force_login(world["olga"])

    page = client.get(reverse("agreement:rounds", args=[study.slug])).content.decode()

    assert re.search(r'<option value="gwet_ac1" selected>', page)
    assert 'name="threshold" value="0.750"' in page


# --- The methods report ---


def test_the_methods_report_gives_each_rounds_agreement_and_stop_rule(study, world):
    round_close(labelled_round(study, world))
    access = StudyAccess.everything(study)
    results = round_results(Round.objects.get(), access)
    assert [result.met for result in results] == [False, True]  # scenario, impact

    report = methods_report(access, intervals=None)

    section = report.section("rounds")
    assert section.recorded
    assert "".join(section.paragraphs[0]) == (
        "Round 1: 6 issues drawn at random (seed 1), labelled independently by 2 annotators, started under "
        "codebook version 1 and closed under version 1. Stop rule: Krippendorff's α ≥ 0.800 on every property, "
        "judged on the point estimate: not met (1 of 2 properties)."
    )
    assert section.tables[0].rows == [
        ["1", result.field.label, "Krippendorff's α", f"{result.value:.3f} [{result.low:.3f}, {result.high:.3f}]"]
        + ["6", "met" if result.met else "not met"]
        for result in results
    ]
    met = {item.text: item.met for item in report.checklist}
    assert met["IRR broken down by wave"]
    assert not met["Iterative cycles (rate a subset, resolve, update the scheme), IRR for each cycle"]  # one round


# --- The methods checklist's iterative cycles ---

CYCLES = "Iterative cycles (rate a subset, resolve, update the scheme), IRR for each cycle"


def cycles_item(study):
    report = methods_report(StudyAccess.everything(study), intervals={})
    item = {item.text: item for item in report.checklist}[CYCLES]
    return item.met, "".join(str(part) for part in item.detail)


def test_one_round_is_no_iterative_cycle(study, world):
    round_close(start(study, world["olga"]))

    met, detail = cycles_item(study)

    assert not met
    assert detail.startswith("Only one calibration round: a cycle needs a second")


def test_two_rounds_without_a_codebook_change_are_no_iterative_cycle(study, world):
    round_close(start(study, world["olga"]))
    round_close(start(study, world["olga"], seed=2))

    met, detail = cycles_item(study)

    assert not met
    assert detail.startswith("2 calibration rounds, but the codebook did not change between any two of them")


def test_two_rounds_with_the_codebook_updated_between_them_are_an_iterative_cycle(study, world):
    first = start(study, world["olga"])
    field_update(study.fields.get(key="scenario"), {"definition": "The visible symptom, not its cause."})
    round_close(first)
    second = start(study, world["olga"], seed=2)

    met, detail = cycles_item(study)

    assert met
    assert detail == (
        "IRR reported for each of 2 calibration rounds; the codebook was updated between rounds 1 and 2 "
        f"(v{first.codebook_version_start} → v{second.codebook_version_start})."
    )
