"""An issue's way through a study: screening, the discussion of split votes, labelling, reconciliation, decision."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.bidi import isolate
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Assignment, FinalValue, IssueStage, Stage, StudyIssue
from studies.versions import StaleVersion
from studies.workflow import decide, final_value_save, reopen, screening_resolve
from tests.factories import AssignmentFactory, IssueFactory, StudyIssueFactory
from tests.helpers import label, page, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening(study):
    """A screening study (the paper's rule: 3 of 3 include → labelling, 2 → discussion, fewer → out)."""
    study.screening, study.screening_accept_votes, study.screening_discuss_votes = True, 3, 2
    study.save()
    codebook_load(study, preset("silent-bugs"), screening=True)
    adjudicator, owner, annotators = team(study)
    study_issue = StudyIssueFactory(study=study)
    assignments = [
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.SCREENING)
        for annotator in annotators
    ]
    return study_issue, adjudicator, owner, assignments


def vote(assignment, include: bool, comment: str = "") -> None:
    field = assignment.study.fields.get(key="silent_bug")
    annotation_save(assignment=assignment, field=field, value={"vote": include, "comment": comment})
    assignment_submit(assignment=assignment)


def stage_of(study_issue) -> str:
    study_issue.refresh_from_db()
    return study_issue.stage


@pytest.mark.parametrize(
    "votes, stage, decision",
    [
        ((True, True, True), IssueStage.LABELLING, ""),
        ((True, True, False), IssueStage.DISCUSSION, ""),
        ((True, False, False), IssueStage.DECIDED, "exclude"),
        ((False, False, False), IssueStage.DECIDED, "exclude"),
    ],
)
def test_the_screening_rule_decides_once_every_vote_is_in(screening, votes, stage, decision):
    study_issue, _, _, assignments = screening

    for assignment, include in zip(assignments[:-1], votes[:-1], strict=True):
        vote(assignment, include)
    assert stage_of(study_issue) == IssueStage.SCREENING  # one vote is still missing
    vote(assignments[-1], votes[-1])

    assert stage_of(study_issue) == stage and study_issue.decision == decision
    if decision:
        assert study_issue.reason == "screened_out" and study_issue.decision_note.endswith("voted include.")


def test_an_issue_voted_in_is_labelled_by_its_screeners(screening):
    study_issue, _, _, assignments = screening
    for assignment in assignments:
        vote(assignment, True)

    labelling = Assignment.objects.filter(issue=study_issue.issue, stage=Stage.LABELLING)
    assert sorted(labelling.values_list("annotator", flat=True)) == sorted(a.annotator_id for a in assignments)


def test_the_adjudicator_settles_a_split_vote_with_a_reason(screening):
    study_issue, adjudicator, _, assignments = screening
    for assignment, include in zip(assignments, (True, True, False), strict=True):
        vote(assignment, include, comment="silent NaN" if include else "crashes loudly")

    with pytest.raises(ValidationError, match="Say why"):
        screening_resolve(study_issue, include=True, note=" ", user=adjudicator)
    screening_resolve(study_issue, include=True, note="The NaN is silent in 2.3.", user=adjudicator)

    assert stage_of(study_issue) == IssueStage.LABELLING
    assert study_issue.screening_note == "The NaN is silent in 2.3."


def test_a_split_vote_can_be_excluded_as_a_duplicate(screening):
    study_issue, adjudicator, _, assignments = screening
    original = IssueFactory(repository=study_issue.issue.repository)
    for assignment, include in zip(assignments, (True, True, False), strict=True):
        vote(assignment, include)

    with pytest.raises(ValidationError, match="needs the issue it duplicates"):
        screening_resolve(study_issue, include=False, reason="duplicate", note="same", user=adjudicator)
    screening_resolve(
        study_issue, include=False, reason="duplicate", duplicate_of=original, note="Same bug.", user=adjudicator
    )

    study_issue.refresh_from_db()
    assert (study_issue.stage, study_issue.decision, study_issue.duplicate_of) == ("decided", "exclude", original)
    assert study_issue.decided_by == adjudicator


def test_labelling_is_closed_while_the_issue_is_in_screening(screening):
    study_issue, _, _, assignments = screening
    early = AssignmentFactory(
        study=study_issue.study, issue=study_issue.issue, annotator=assignments[0].annotator, stage=Stage.LABELLING
    )

    with pytest.raises(ValidationError, match="This issue is in screening: its labelling is closed."):
        annotation_save(assignment=early, field=study_issue.study.fields.get(key="impact"), value="2")


# --- Labelling and reconciliation ---


def test_the_last_submission_moves_the_issue_to_reconciliation(labelled):
    study_issue, _, _, (first, second) = labelled

    label(first, impact="2")
    assert stage_of(study_issue) == IssueStage.LABELLING
    label(second, impact="3")

    assert stage_of(study_issue) == IssueStage.RECONCILIATION


def test_an_issue_is_included_once_every_required_field_has_a_final_value(labelled):
    study_issue, adjudicator, _, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    fields = {field.key: field for field in study_issue.study.fields.all()}

    with pytest.raises(ValidationError) as refused:
        decide(study_issue, include=True, user=adjudicator)
    assert refused.value.messages == [f"Set the final value of: {isolate('Impact')}."]  # the agreed ones are final
    final_value_save(
        study_issue, fields["impact"], value="3", rationale="Wrong results in training.", user=adjudicator
    )
    decide(study_issue, include=True, user=adjudicator, note="All agree after the call.")

    study_issue.refresh_from_db()
    assert (study_issue.stage, study_issue.decision, study_issue.decided_by) == ("decided", "include", adjudicator)
    assert FinalValue.objects.get(field=fields["impact"]).value == 3


def test_a_difference_on_an_optional_field_is_settled_before_the_issue_is_included(labelled):
    """Root cause is optional; left empty by all, it stops nothing; given differently, it is a judgement to make
    (a value, or no answer on purpose), not a blank in the dataset."""
    study_issue, adjudicator, _, assignments = labelled
    fields = {field.key: field for field in study_issue.study.fields.all()}
    for assignment, cause in zip(assignments, ("Processing", "Logic error"), strict=True):
        annotation_save(assignment=assignment, field=fields["root_cause"], value=cause)
        label(assignment, impact="3")

    with pytest.raises(ValidationError) as refused:
        decide(study_issue, include=True, user=adjudicator)
    assert refused.value.messages == [f"Set the final value of: {isolate('Root cause')}."]
    final_value_save(
        study_issue, fields["root_cause"], value=None, clear=True, rationale="No fix known.", user=adjudicator
    )
    decide(study_issue, include=True, user=adjudicator)

    assert StudyIssue.objects.get(pk=study_issue.pk).decision == "include"
    assert FinalValue.objects.get(field=fields["root_cause"]).value is None


def test_a_final_value_needs_a_rationale_where_the_annotators_differ(labelled):
    study_issue, adjudicator, _, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    fields = {field.key: field for field in study_issue.study.fields.all()}

    final_value_save(study_issue, fields["scenario"], value="Wrong shape", rationale="", user=adjudicator)
    with pytest.raises(ValidationError) as refused:
        final_value_save(study_issue, fields["impact"], value="3", rationale=" ", user=adjudicator)
    assert refused.value.messages == [f"The annotators differ on {isolate('Impact')}: say why this value."]

    assert "impact" not in set(FinalValue.objects.values_list("field__key", flat=True))


def test_a_stale_final_value_is_refused_with_who_set_it(labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    impact = study_issue.study.fields.get(key="impact")
    final_value_save(study_issue, impact, value="3", rationale="training", user=adjudicator, version=0)

    with pytest.raises(
        StaleVersion,
        match=f"{adjudicator.username} set {isolate('Impact')} to {isolate('3 — model works differently')} meanwhile",
    ):
        final_value_save(study_issue, impact, value="2", rationale="GPU", user=owner, version=0)  # saw no value yet
    final_value_save(study_issue, impact, value="2", rationale="knowingly", user=owner, version=1)

    assert FinalValue.objects.get(field=impact).value == 2


def test_a_decision_on_a_stale_page_is_refused(labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    seen = StudyIssue.objects.get(pk=study_issue.pk).version
    decide(study_issue, include=False, reason="not_a_bug", user=adjudicator, version=seen)

    with pytest.raises(StaleVersion, match=f"excluded by {adjudicator.username}"):
        decide(study_issue, include=False, reason="user_error", user=owner, version=seen)
    assert StudyIssue.objects.get(pk=study_issue.pk).reason == "not_a_bug"


def test_reopening_clears_the_decision_and_can_give_labels_back(labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    decide(study_issue, include=False, reason="user_error", note="Misuse of fit.", user=adjudicator)

    reopen(study_issue, to_stage="labelling", user=owner)

    study_issue.refresh_from_db()
    assert (study_issue.stage, study_issue.decision, study_issue.decision_note) == ("labelling", "", "")
    assert set(Assignment.objects.filter(issue=study_issue.issue).values_list("status", flat=True)) == {"in_progress"}
    decisions = study_issue.events.values_list("decision", "reason", "stage").order_by("pgh_id")
    assert ("exclude", "user_error", "decided") in list(decisions)  # the previous decision stays in the history


# --- The reconciliation page ---


def test_values_are_revealed_only_in_reconciliation(client, labelled):
    study_issue, adjudicator, _, (first, second) = labelled
    label(first, impact="2")
    client.force_login(first.annotator)

    before = client.get(page(study_issue))
    label(second, impact="3", uncertain=True)
    after = client.get(page(study_issue))

    assert before.status_code == 403 and "it is in labelling." in before.text
    assert after.status_code == 200
    assert second.annotator.username in after.text and "only on GPU" in after.text


def test_a_study_may_reveal_values_only_after_the_decision(client, labelled):
    study_issue, adjudicator, _, assignments = labelled
    study_issue.study.reveal_after_decision = True
    study_issue.study.save()
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)

    client.force_login(assignments[0].annotator)
    in_reconciliation = client.get(page(study_issue)).status_code
    client.force_login(adjudicator)
    adjudicator_view = client.get(page(study_issue)).status_code
    decide(study_issue, include=False, reason="not_a_bug", user=adjudicator)
    client.force_login(assignments[0].annotator)

    assert (in_reconciliation, adjudicator_view, client.get(page(study_issue)).status_code) == (403, 200, 200)


def test_the_comparison_prefills_agreements_and_filters_disagreements(client, labelled):
    study_issue, adjudicator, _, assignments = labelled
    label(assignments[0], impact="2")
    label(assignments[1], impact="3", uncertain=True)
    client.force_login(adjudicator)

    everything = client.get(page(study_issue)).text
    disagreements = client.get(page(study_issue) + "?only=disagreements").text
    uncertain = client.get(page(study_issue) + "?only=uncertain").text

    assert 'value="Wrong shape" checked' in everything  # agreed: pre-filled as the final value
    assert 'id="final-impact"' in disagreements and 'id="final-scenario"' not in disagreements
    assert 'id="final-impact"' in uncertain and 'id="final-component"' not in uncertain
    assert "Only disagreements (1)" in everything


def test_a_stale_final_value_through_htmx_answers_409_with_the_newer_value(client, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    final_value_save(
        study_issue, study_issue.study.fields.get(key="impact"), value="3", rationale="training", user=adjudicator
    )
    client.force_login(owner)

    response = client.post(
        page(study_issue, "studies:final_value", "impact"),
        {"value": "2", "rationale": "GPU", "version": "0"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409
    assert (
        f"{adjudicator.username} set {isolate('Impact')} to {isolate('3 — model works differently')} meanwhile."
        in response.text
    )
    assert 'name="version" value="1"' in response.text  # sending it again overwrites knowingly


def test_annotators_cannot_reconcile_unless_the_study_lets_them(client, labelled):
    study_issue, _, _, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    client.force_login(assignments[0].annotator)
    url = page(study_issue, "studies:final_value", "impact")

    refused = client.post(url, {"value": "2", "rationale": "we agreed", "version": "0"})
    study_issue.study.annotators_reconcile = True
    study_issue.study.save()
    allowed = client.post(url, {"value": "2", "rationale": "we agreed", "version": "0"})

    assert refused.status_code == 403 and allowed.status_code == 302
    assert FinalValue.objects.get(field__key="impact").value == 2


def test_a_decision_through_the_page_and_a_reopen_by_the_owner(client, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    duplicate = IssueFactory(repository=study_issue.issue.repository)
    client.force_login(adjudicator)

    client.post(
        page(study_issue, "studies:decision"),
        {
            "decision": "exclude",
            "reason": "duplicate",
            "duplicate_of": f"#{duplicate.number}",
            "note": "Same as the other.",
            "version": StudyIssue.objects.get(pk=study_issue.pk).version,
        },
    )
    shown = client.get(page(study_issue)).text
    version = StudyIssue.objects.get(pk=study_issue.pk).version
    refused = client.post(page(study_issue, "studies:reopen"), {"to_stage": "reconciliation", "version": version})
    client.force_login(owner)
    client.post(page(study_issue, "studies:reopen"), {"to_stage": "reconciliation", "version": version})

    assert "Excluded</strong>: duplicate of another issue" in shown and f"#{duplicate.number}</a>" in shown
    assert refused.status_code == 404  # only owners re-open
    assert stage_of(study_issue) == IssueStage.RECONCILIATION and study_issue.decision == ""


def test_the_reconciliation_page_takes_as_many_queries_for_two_or_four_annotators(client, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    adjudicator, _, annotators = team(study, annotators=4)
    counts = []
    for size in (2, 4):
        study_issue = StudyIssueFactory(study=study)
        assignments = [
            AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)
            for annotator in annotators[:size]
        ]
        for assignment in assignments:
            label(assignment, impact=str(size))
        client.force_login(adjudicator)
        client.get(page(study_issue))  # the bodies are rendered and stored on the first visit
        with CaptureQueriesContext(connection) as captured:
            client.get(page(study_issue))
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 25


def test_submitting_again_from_another_tab_changes_nothing(labelled):
    study_issue, _, _, (first, second) = labelled
    label(first, impact="2")
    submitted_at = Assignment.objects.get(pk=first.pk).submitted_at

    assignment_submit(assignment=Assignment.objects.get(pk=first.pk))  # the other tab, still open

    first.refresh_from_db()
    assert first.submitted_at == submitted_at, "agreement windows count the first submission"
    study_issue.refresh_from_db()
    assert study_issue.stage == IssueStage.LABELLING, "still waiting for the second annotator"
