"""Gold issues (studies/gold.py): reference answers, training against them with a threshold, checks in the queues.

A gold issue's reference answers are the owners' to read, and a trainee's once they have submitted their own
answer; a check is never shown as such, and its answers count nowhere but in the owners' scores.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreement import gold as gold_scores
from agreement.ratings import field_ratings
from annotator.bidi import isolate
from studies import gold
from studies.access import StudyAccess
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import CodebookError, choice_delete, code_merge, codebook_load, preset
from studies.codebook_versions import current_number
from studies.exports import LONG_COLUMNS, long_rows, wide_columns, wide_rows
from studies.models import Assignment, FinalValue, GoldAnswer, GoldItem, IssueStage, Stage, StudyIssue
from studies.views.annotate import TRAINING_FIRST
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import as_read, page

pytestmark = pytest.mark.django_db

RATIONALE = "GOLD-RATIONALE: the output shape is wrong, nothing raises"


@pytest.fixture
def world(study):
    """The silent-bugs codebook, an owner, two annotators labelling one real issue, a trainee, and two gold issues
    (scenario "Wrong shape" and "Wrong calculation", component Model)."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    ann, bob, trainee = (MembershipFactory(study=study, role="annotator").user for _ in range(3))
    real = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    golds = [StudyIssueFactory(study=study, stage=IssueStage.LABELLING) for _ in range(2)]
    for study_issue, scenario in zip(golds, ("Wrong shape", "Wrong calculation"), strict=True):
        gold.gold_item_save(
            study=study,
            issue=study_issue.issue,
            user=owner,
            answers={"scenario": (scenario, RATIONALE), "component": (["Model"], "")},
        )
    return {"study": study, "owner": owner, "ann": ann, "bob": bob, "trainee": trainee, "real": real, "golds": golds}


def fields(study):
    return {field.key: field for field in study.fields.all()}


def answer(assignment, *, scenario, component=("Model",), submit=True):
    keys = fields(assignment.study)
    annotation_save(assignment=assignment, field=keys["scenario"], value=scenario)
    annotation_save(assignment=assignment, field=keys["component"], value=list(component))
    if submit:
        assignment_submit(assignment=assignment)


def require_training(study, threshold=0.8):
    study.training_required, study.training_threshold = True, threshold
    study.save()


def training_of(study, user):
    gold.queue_prepare(study, user)
    return list(Assignment.objects.filter(study=study, annotator=user, purpose="training").order_by("issue_id"))


# --- Scoring ---


def test_it_scores_accuracy_and_cohens_kappa_per_field_against_gold(world):
    study, trainee = world["study"], world["trainee"]
    for scenario in ("Wrong shape", "Wrong shape", "Wrong calculation", "Wrong calculation"):
        issue = StudyIssueFactory(study=study, stage=IssueStage.DECIDED).issue
        references = {"scenario": (scenario, ""), "component": (["Model"], "")}
        gold.gold_item_save(study=study, issue=issue, user=world["owner"], answers=references)
    require_training(study)
    work = training_of(study, trainee)
    # References: shape, calculation (the fixture's two), shape, shape, calculation, calculation.
    given = ["Wrong shape", "Wrong calculation", "Wrong shape", "Wrong shape", "Wrong calculation", "Wrong shape"]
    for number, (assignment, scenario) in enumerate(zip(work, given, strict=True)):
        answer(assignment, scenario=scenario, component=["Model", "Engine"] if number == 1 else ["Model"])

    (score,) = gold_scores.scores(study, Assignment.Purpose.TRAINING)
    by_key = {field_score.field.key: field_score for field_score in score.fields}

    # Scenario: 5 of 6 right. Trainee shape 4/6, gold shape 3/6: p_e = 4/6·3/6 + 2/6·3/6 = 1/2, κ = (5/6 − 1/2)/(1/2).
    assert by_key["scenario"].items == 6 and by_key["scenario"].accuracy == pytest.approx(5 / 6)
    assert by_key["scenario"].kappa.value == pytest.approx(2 / 3)
    assert by_key["component"].accuracy == pytest.approx(5 / 6)  # one set differs
    assert by_key["impact"].items == 0  # no reference answer for it
    assert score.accuracy == pytest.approx(10 / 12)
    assert score.passed is True  # 0.83 ≥ 0.8 on both required fields


def test_it_counts_an_unanswered_field_as_wrong_but_only_required_fields_gate(world):
    study, trainee = world["study"], world["trainee"]
    for study_issue in world["golds"]:
        item = GoldItem.objects.get(study=study, issue=study_issue.issue)
        item.answers.create(field=fields(study)["impact"], value=3)
    require_training(study)
    for assignment, scenario in zip(training_of(study, trainee), ("Wrong shape", "Wrong calculation"), strict=True):
        answer(assignment, scenario=scenario)  # no impact given: optional, so it can be submitted

    (score,) = gold_scores.scores(study, Assignment.Purpose.TRAINING)

    assert {f.field.key: f.accuracy for f in score.fields if f.items} == {"scenario": 1, "component": 1, "impact": 0}
    assert score.passed is True  # impact is not required


# --- Marking gold ---


def test_it_refuses_a_gold_issue_without_a_required_answer_and_stores_nothing(client, world):
    study, owner = world["study"], world["owner"]
    study_issue = world["real"]
    client.force_login(owner)

    response = client.post(
        page(study_issue, "studies:gold_item"), {"scenario": "Wrong shape", "scenario__rationale": "why"}
    )

    assert response.status_code == 422
    assert f"{isolate('Component')} is required: a gold issue needs its reference answer." in response.content.decode()
    assert 'value="Wrong shape" selected' in response.content.decode()  # what was chosen is still there
    assert not GoldItem.objects.filter(study=study, issue=study_issue.issue).exists()


def test_it_marks_an_issue_gold_from_the_form(client, world):
    study, owner, study_issue = world["study"], world["owner"], world["real"]
    client.force_login(owner)

    response = client.post(
        page(study_issue, "studies:gold_item"),
        {"scenario": "Wrong shape", "scenario__rationale": "the shape", "component": ["Model", "Layers"]},
    )

    assert response.status_code == 302
    item = GoldItem.objects.get(study=study, issue=study_issue.issue)
    assert {a.field.key: (a.value, a.rationale) for a in item.answers.all()} == {
        "scenario": ("Wrong shape", "the shape"),
        "component": (["Model", "Layers"], ""),
    }


def test_it_promotes_a_decided_issue_taking_its_final_values_and_rationales(client, world):
    study, owner = world["study"], world["owner"]
    decided = StudyIssueFactory(study=study, stage=IssueStage.DECIDED, decision=StudyIssue.Decision.INCLUDE)
    keys = fields(study)
    FinalValue.objects.create(study_issue=decided, field=keys["scenario"], value="Wrong save/reload", rationale="R1")
    FinalValue.objects.create(study_issue=decided, field=keys["component"], value=["Saving"])
    client.force_login(owner)

    response = client.post(page(decided, "studies:gold_promote"))

    assert response.status_code == 302
    item = GoldItem.objects.get(study=study, issue=decided.issue)
    assert item.promoted
    assert {a.field.key: (a.value, a.rationale) for a in item.answers.all()} == {
        "scenario": ("Wrong save/reload", "R1"),
        "component": (["Saving"], ""),
    }


def test_it_refuses_to_promote_an_issue_that_is_not_decided(client, world):
    client.force_login(world["owner"])

    response = client.post(page(world["real"], "studies:gold_promote"), follow=True)

    assert "Only an issue decided as included has final values" in response.content.decode()
    assert not GoldItem.objects.filter(issue=world["real"].issue).exists()


# --- Training ---


def test_it_shows_the_reference_answer_only_once_the_training_item_is_submitted(client, world):
    study, trainee = world["study"], world["trainee"]
    require_training(study)
    first, _ = training_of(study, trainee)
    first_issue = StudyIssue.objects.get(study=study, issue=first.issue)
    client.force_login(trainee)
    answer(first, scenario="Wrong calculation", submit=False)  # the mistake: the reference is "Wrong shape"

    before = client.get(page(first_issue, "studies:annotate")).content.decode()
    submitted = client.post(page(first_issue, "studies:submit"), follow=True)
    after = submitted.content.decode()

    assert "Training: this is a gold issue" in before
    assert RATIONALE not in before and "gold-feedback" not in before
    assert submitted.redirect_chain[-1][0].endswith("#gold-feedback")
    assert RATIONALE in after
    assert '<tr class="gold-wrong" data-field="scenario">' in after
    assert '<tr class="gold-right" data-field="component">' in after


def test_the_queue_holds_only_training_until_the_trainee_passes(client, world):
    study, trainee, real = world["study"], world["trainee"], world["real"]
    require_training(study)
    AssignmentFactory(study=study, issue=real.issue, annotator=trainee, stage=Stage.LABELLING)
    client.force_login(trainee)

    first = client.get(reverse("studies:next", args=[study.slug]))
    save_real = client.post(
        page(real, "studies:save_field", "scenario"), {"value": "Wrong shape", "version": "0"}, HTTP_HX_REQUEST="true"
    )
    real_page = client.get(page(real, "studies:annotate")).content.decode()

    assert first.url == page(world["golds"][0], "studies:annotate")
    assert save_real.status_code == 409 and TRAINING_FIRST in save_real.content.decode()
    assert "Your training comes first" in real_page and "fieldset disabled" in real_page
    assert not Assignment.objects.get(study=study, issue=real.issue, annotator=trainee).annotations.exists()


def test_real_work_opens_when_the_trainee_passes(client, world):
    study, trainee, real = world["study"], world["trainee"], world["real"]
    require_training(study)
    AssignmentFactory(study=study, issue=real.issue, annotator=trainee, stage=Stage.LABELLING)
    for assignment, scenario in zip(training_of(study, trainee), ("Wrong shape", "Wrong calculation"), strict=True):
        answer(assignment, scenario=scenario)
    client.force_login(trainee)

    response = client.get(reverse("studies:next", args=[study.slug]))

    assert response.url == page(real, "studies:annotate")


def test_real_work_stays_closed_below_the_threshold_and_says_why(client, world):
    study, trainee, real = world["study"], world["trainee"], world["real"]
    require_training(study)
    AssignmentFactory(study=study, issue=real.issue, annotator=trainee, stage=Stage.LABELLING)
    for assignment in training_of(study, trainee):
        answer(assignment, scenario="Wrong shape")  # one of the two is wrong: 0.5 < 0.8
    client.force_login(trainee)

    response = client.get(reverse("studies:next", args=[study.slug]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("studies:detail", args=[study.slug])
    assert "Your training is done but not passed (accuracy 75%; every required field needs 80%)" in (
        response.content.decode()
    )
    study.training_threshold = 0.5
    study.save()
    assert client.get(reverse("studies:next", args=[study.slug])).url == page(real, "studies:annotate")


def test_an_owner_lets_a_trainee_train_again(client, world):
    study, trainee = world["study"], world["trainee"]
    require_training(study)
    for assignment in training_of(study, trainee):
        answer(assignment, scenario="Wrong shape")
    client.force_login(world["owner"])

    response = client.post(
        reverse("studies:training_retake", args=[study.slug]), {"username": trainee.username}, follow=True
    )

    assert f"{trainee.username} trains again: 2 training issues cleared." in response.content.decode()

    assert not Assignment.objects.filter(annotator=trainee, purpose="training").exists()
    assert len(training_of(study, trainee)) == 2  # handed out again, unanswered


def test_training_cannot_be_required_without_gold_issues(client, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    client.force_login(owner)

    response = client.post(
        reverse("studies:training_settings", args=[study.slug]),
        {"training_required": "on", "training_threshold": "0.8", "gold_check_percent": "0"},
    )

    assert response.status_code == 422
    assert "Mark at least one issue as gold first" in response.content.decode()
    study.refresh_from_db()
    assert not study.training_required


# --- Checks ---


def checked(world, percent=50):
    """ann has labelled the real issue; with checks at `percent`, one gold issue joins her queue."""
    study, ann = world["study"], world["ann"]
    study.gold_check_percent = percent
    study.save()
    real = AssignmentFactory(study=study, issue=world["real"].issue, annotator=ann, stage=Stage.LABELLING)
    gold.queue_prepare(study, ann)
    return real, Assignment.objects.get(study=study, annotator=ann, purpose="check")


def test_it_mixes_checks_into_the_queue_at_the_owners_share(world):
    study, ann = world["study"], world["ann"]
    study.gold_check_percent = 5
    study.save()
    for _ in range(30):
        AssignmentFactory(study=study, issue=StudyIssueFactory(study=study).issue, annotator=ann)

    gold.queue_prepare(study, ann)
    gold.queue_prepare(study, ann)  # asked again: no more

    assert Assignment.objects.filter(study=study, annotator=ann, purpose="check").count() == 2  # ⌈5 % of 30⌉


def test_a_check_looks_like_any_issue_to_its_annotator_even_once_submitted(client, world):
    _, check = checked(world)
    check_issue = StudyIssue.objects.get(study=world["study"], issue=check.issue)
    client.force_login(world["ann"])

    before = client.get(page(check_issue, "studies:annotate")).content.decode()
    answer(check, scenario="Wrong calculation")
    after = client.get(page(check_issue, "studies:annotate")).content.decode()

    for html in (before, after):
        assert "data-training" not in html and "gold" not in html.lower()
        assert RATIONALE not in html
    assert "Labelling" in before and "Submitted." in after


def test_progress_counts_checks_in_the_annotators_own_queue_and_apart_for_the_team(client, world):
    study, ann = world["study"], world["ann"]
    checked(world)  # ann: one real issue and one check
    client.force_login(ann)
    own = as_read(client.get(reverse("studies:detail", args=[study.slug])).content.decode())
    assert "Labelling: 0 of 2 submitted, 2 to go" in own  # her check is in her count like any issue

    client.force_login(world["owner"])
    team = client.get(reverse("studies:detail", args=[study.slug])).context["team_progress"]
    manage = client.get(reverse("studies:manage", args=[study.slug])).context["progress"]
    for rows in (team, manage):
        assert [(r["annotator__username"], r["total"], r["gold"]) for r in rows] == [(ann.username, 1, 1)]


def test_check_answers_stay_out_of_agreement_exports_reconciliation_and_the_workflow(client, world):
    study, ann, bob = world["study"], world["ann"], world["bob"]
    # The gold issue is also labelled for real, by bob and a third annotator: ann's check must not count.
    cyd = MembershipFactory(study=study, role="annotator").user
    _, check = checked(world, percent=100)
    on_check = StudyIssue.objects.get(study=study, issue=check.issue)
    for assignment in [AssignmentFactory(study=study, issue=check.issue, annotator=person) for person in (bob, cyd)]:
        answer(assignment, scenario="Wrong shape")
    on_check.refresh_from_db()
    assert on_check.stage == IssueStage.RECONCILIATION  # ann's open check does not hold the issue back
    answer(check, scenario="Wrong calculation")

    ratings = field_ratings(study, fields(study)["scenario"])
    everything = StudyAccess.everything(study)
    long = [dict(zip(LONG_COLUMNS, row, strict=True)) for row in long_rows(everything)]
    columns = wide_columns(study, with_annotators=True)
    wide = {row[1]: dict(zip(columns, row, strict=True)) for row in wide_rows(everything, with_annotators=True)}
    client.force_login(world["owner"])
    compare = client.get(page(on_check)).content.decode()

    assert ratings.coders == sorted([bob.username, cyd.username])
    assert [row for row in long if row["annotator"] == ann.username] == []
    assert wide[check.issue.number][f"scenario__{ann.username}"] == ""  # ann is a column for her real issue only
    assert wide[check.issue.number][f"scenario__{bob.username}"] == "Wrong shape"
    assert ann.username not in compare and bob.username in compare
    (score,) = gold_scores.scores(study, Assignment.Purpose.CHECK)
    assert score.annotator == ann.username and score.submitted == 1


def test_the_owners_see_check_accuracy_and_nobody_else_does(client, world):
    _, check = checked(world)
    answer(check, scenario="Wrong shape", component=["Engine"])
    url = reverse("agreement:gold", args=[world["study"].slug])

    client.force_login(world["owner"])
    owners = client.get(url).content.decode()
    client.force_login(world["ann"])
    annotators = client.get(url)

    assert f'<tr data-annotator="{world["ann"].username}">' in owners
    assert annotators.status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [("studies:gold", "get"), ("studies:training_settings", "post"), ("agreement:gold", "get")],
)
def test_it_answers_404_to_non_members(client, world, name, method):
    client.force_login(UserFactory())

    response = getattr(client, method)(reverse(name, args=[world["study"].slug]))

    assert response.status_code == 404


def test_the_gold_item_page_is_404_to_non_members_and_annotators(client, world):
    for person in (UserFactory(), world["ann"]):
        client.force_login(person)
        assert client.get(page(world["golds"][0], "studies:gold_item")).status_code == 404
        assert client.post(page(world["golds"][0], "studies:gold_remove")).status_code == 404
    assert GoldItem.objects.filter(study=world["study"]).count() == 2


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_gold_pages_take_no_query_per_gold_issue_or_trainee(client, world):
    """Two gold issues and one trainee, then five and three: the same queries."""
    study, owner = world["study"], world["owner"]
    require_training(study, threshold=0.5)
    client.force_login(owner)
    urls = [reverse("studies:gold", args=[study.slug]), reverse("agreement:gold", args=[study.slug])]

    def trained(user):
        for assignment in training_of(study, user):
            answer(assignment, scenario="Wrong shape")

    trained(world["trainee"])
    small = [queries_for(client, url) for url in urls]
    for _ in range(3):
        issue = StudyIssueFactory(study=study, stage=IssueStage.DECIDED).issue
        references = {"scenario": ("Wrong shape", "why"), "component": (["Model"], "")}
        gold.gold_item_save(study=study, issue=issue, user=owner, answers=references)
    trained(world["ann"])
    trained(world["bob"])
    large = [queries_for(client, url) for url in urls]

    assert large == small


# --- The codebook changes under gold answers ---


def test_merging_a_choice_rewrites_the_gold_answers_that_hold_it(world):
    study = world["study"]
    code_merge(fields(study)["component"], "Model", "Layers", source_is_choice=True)

    answers = GoldAnswer.objects.filter(gold_item__study=study, field__key="component")
    assert list(answers.values_list("value", flat=True)) == [["Layers"], ["Layers"]]


def test_a_choice_held_only_by_a_gold_answer_cannot_be_deleted(world):
    calculation = fields(world["study"])["scenario"].choices.get(value="Wrong calculation")

    with pytest.raises(CodebookError, match="held by 1 recorded value"):
        choice_delete(calculation)


def test_once_training_is_no_longer_required_its_leftovers_leave_the_queue(client, world):
    study, trainee, real = world["study"], world["trainee"], world["real"]
    require_training(study)
    AssignmentFactory(study=study, issue=real.issue, annotator=trainee, stage=Stage.LABELLING)
    answer(training_of(study, trainee)[0], scenario="Wrong calculation")  # one of two done, and wrong
    study.training_required = False
    study.save()
    client.force_login(trainee)

    response = client.get(reverse("studies:next", args=[study.slug]))

    assert response.url == page(real, "studies:annotate")


def test_a_gold_answer_records_the_codebook_version_it_was_set_under(world):
    """As annotations and final values do: the methods report says which version the reference answers follow."""
    study, owner = world["study"], world["owner"]
    sharper = preset("silent-bugs")
    sharper["fields"][1]["definition"] = "Sharpened: what the user sees go wrong."
    codebook_load(study, sharper, screening=False, user=owner, summary="Scenario sharpened")
    issue = StudyIssueFactory(study=study, stage=IssueStage.DECIDED).issue

    gold.gold_item_save(
        study=study, issue=issue, user=owner, answers={"scenario": ("Wrong shape", ""), "component": (["Model"], "")}
    )

    first = GoldAnswer.objects.filter(gold_item__issue=world["golds"][0].issue).values_list("codebook_version")
    latest = GoldAnswer.objects.filter(gold_item__issue=issue).values_list("codebook_version", flat=True)
    assert set(first) == {(1,)} and set(latest) == {current_number(study.pk)} == {2}
