"""Example disagreements for the methods report: those an owner chose, or else a few drawn at random with a fixed
seed. Only decided issues: before the decision an issue's values are blind to its annotators, and it has no
decision's rationale yet; and only issues revealed to the reader (StudyAccess), like every value the report shows."""

import random
from dataclasses import dataclass

from annotator.bidi import isolate
from studies.access import StudyAccess
from studies.models import (
    Annotation,
    Assignment,
    CodebookField,
    ExampleDisagreement,
    FinalValue,
    IssueStage,
    Stage,
    StudyIssue,
)
from studies.workflow import same_value

# How many drawn at random when the owner chose none, and the seed of the draw.
AT_RANDOM = 3
SEED = 0


@dataclass
class Example:
    study_issue: StudyIssue
    field: CodebookField
    values: list[tuple[str, object, str]]  # (username, value, note) of each submitted annotator, by username
    final: FinalValue | None


def _answers(study_issue: StudyIssue, field: CodebookField) -> list[tuple[str, object, str]]:
    rows = Annotation.objects.filter(
        assignment__study_id=study_issue.study_id,
        assignment__issue_id=study_issue.issue_id,
        assignment__stage=Stage.LABELLING,
        assignment__status=Assignment.Status.SUBMITTED,
        field=field,
        value__isnull=False,
    ).values_list("assignment__annotator__username", "value", "note")
    return sorted(rows, key=lambda row: row[0])


def differ(answers) -> bool:
    return any(not same_value(answers[0][1], other) for _, other, _ in answers[1:])


def _example(study_issue: StudyIssue, field: CodebookField) -> Example:
    final = FinalValue.objects.filter(study_issue=study_issue, field=field).select_related("set_by").first()
    return Example(study_issue, field, _answers(study_issue, field), final)


def chosen_examples(access: StudyAccess) -> list[ExampleDisagreement]:
    decided = access.revealed_issues().filter(stage=IssueStage.DECIDED)
    return list(
        ExampleDisagreement.objects.filter(study_issue__in=decided)
        .select_related("study_issue__issue__repository", "field", "chosen_by")
        .order_by(
            "study_issue__issue__repository__owner",
            "study_issue__issue__repository__name",
            "study_issue__issue__number",
            "field__position",
        )
    )


def examples(access: StudyAccess) -> tuple[list[Example], str]:
    """The examples and how they were chosen, in words."""
    chosen = chosen_examples(access)
    if chosen:
        return [_example(each.study_issue, each.field) for each in chosen], "chosen by the study's owners"
    decided = access.revealed_issues().filter(stage=IssueStage.DECIDED)
    adjudicated = (
        FinalValue.objects.filter(study_issue__in=decided, source=FinalValue.Source.ADJUDICATED)
        .select_related("study_issue__issue__repository", "field")
        .order_by(
            "study_issue__issue__repository__owner",
            "study_issue__issue__repository__name",
            "study_issue__issue__number",
            "field__position",
        )
    )
    candidates = [(final.study_issue, final.field) for final in adjudicated]
    candidates = [each for each in candidates if differ(_answers(*each))]
    drawn = sorted(random.Random(SEED).sample(range(len(candidates)), min(AT_RANDOM, len(candidates))))
    how = f"drawn at random (seed {SEED}) from the {len(candidates)} decided disagreements"
    return [_example(*candidates[index]) for index in drawn], how


class ExampleRefused(ValueError):
    """Why an issue cannot be an example, in words for the page's form."""


def example_choose(*, access: StudyAccess, study_issue: StudyIssue, field: CodebookField, user) -> ExampleDisagreement:
    reference = isolate(f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}")
    if study_issue.stage != IssueStage.DECIDED or not access.is_revealed(study_issue):
        raise ExampleRefused(
            f"{reference} is in {study_issue.get_stage_display()}, not decided: only a decided issue can be an "
            "example, since until the decision its values are blind to its annotators and it has no rationale."
        )
    answers = _answers(study_issue, field)
    if len(answers) < 2 or not differ(answers):
        raise ExampleRefused(
            f"The annotators of {reference} did not differ on {isolate(field.label)}: there is no disagreement "
            "to show."
        )
    example, created = ExampleDisagreement.objects.get_or_create(
        study_issue=study_issue, field=field, defaults={"chosen_by": user}
    )
    if not created:
        raise ExampleRefused(f"{reference} is an example for {isolate(field.label)} already.")
    return example
