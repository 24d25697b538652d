"""Gold issues: reference answers an owner sets, training new annotators against them, and checks in the queues.

A gold issue's reference answers are stored apart from the study's labels (GoldItem, GoldAnswer), and the answers
annotators give on gold issues live on assignments of their own purpose (`Assignment.Purpose.TRAINING`, `CHECK`):
agreement, reconciliation, the workflow and the exports count only real assignments (`Assignment.objects.real()`),
so a training or check answer never becomes a label of its issue. Who may read the reference answers, and that
an issue someone trains or is checked on stays blind to them, is studies/access.py's rule.

Training and checks are handed out when the annotator asks for their next issue (`queue_prepare`): training until
they pass, when the study requires it; checks topped up to the owner's percentage of their labelling queue, drawn
at random among the gold issues they have not labelled.
"""

import math
import random
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef

from annotator.bidi import isolate
from studies.models import (
    MAX_TEXT,
    Assignment,
    CodebookField,
    FinalValue,
    GoldAnswer,
    GoldItem,
    IssueStage,
    Membership,
    Stage,
    Study,
    StudyIssue,
    checked_text,
)
from studies.workflow import display_value, same_value

GOLD_WORK = (Assignment.Purpose.TRAINING, Assignment.Purpose.CHECK)


def gold_fields(study: Study) -> list[CodebookField]:
    """The fields a gold issue has reference answers for: the labelling ones."""
    return list(study.fields.filter(stage=Stage.LABELLING).prefetch_related("choices").order_by("position", "id"))


# --- Marking issues as gold ---


@transaction.atomic
def gold_item_save(*, study: Study, issue, user, answers: dict[str, tuple[object, str]]) -> GoldItem:
    """Store the reference answers ({field key: (value, rationale)}) of an issue of the study, marking it as gold.

    Every value is checked against its field, and every required field needs one: ValidationError({key: reason})
    with nothing stored otherwise.
    """
    fields = gold_fields(study)
    cleaned, errors = {}, {}
    for field in fields:
        value, rationale = answers.get(field.key, (None, ""))
        try:
            value = field.clean_value(value)
            if value is None and field.required:
                raise ValidationError(f"{isolate(field.label)} is required: a gold issue needs its reference answer.")
            cleaned[field.pk] = (value, _rationale(rationale, field))
        except ValidationError as error:
            errors[field.key] = error.messages
    if errors:
        raise ValidationError(errors)
    item, _ = GoldItem.objects.update_or_create(
        study=study, issue=issue, defaults={"promoted": False}, create_defaults={"created_by": user}
    )
    _store_answers(item, cleaned)
    return item


@transaction.atomic
def gold_item_promote(*, study_issue: StudyIssue, user) -> GoldItem:
    """Make a decided (included) issue gold, its final values the reference answers and their rationales the
    reasons; ValidationError if it is not decided as included or lacks a final value of a required field."""
    study = study_issue.study
    if study_issue.stage != IssueStage.DECIDED or study_issue.decision != StudyIssue.Decision.INCLUDE:
        raise ValidationError(
            "Only an issue decided as included has final values to take as reference answers; this one is in "
            f"{study_issue.get_stage_display()}{' (excluded)' if study_issue.decision else ''}."
        )
    fields = gold_fields(study)
    finals = {final.field_id: final for final in FinalValue.objects.filter(study_issue=study_issue, field__in=fields)}
    missing = [isolate(f.label) for f in fields if f.required and getattr(finals.get(f.pk), "value", None) is None]
    if missing:
        raise ValidationError(f"No final value of {', '.join(missing)}: set the reference answers by hand.")
    item, _ = GoldItem.objects.update_or_create(
        study=study,
        issue_id=study_issue.issue_id,
        defaults={"promoted": True},
        create_defaults={"promoted": True, "created_by": user},
    )
    _store_answers(
        item, {pk: (final.value, final.rationale) for pk, final in finals.items() if final.value is not None}
    )
    return item


def _store_answers(item: GoldItem, answers: dict[int, tuple[object, str]]) -> None:
    """Replace the item's answers with these ({field id: (value, rationale)}); no value, no answer."""
    kept = {pk: answer for pk, answer in answers.items() if answer[0] is not None}
    item.answers.exclude(field_id__in=kept).delete()
    for field_id, (value, rationale) in kept.items():
        GoldAnswer.objects.update_or_create(
            gold_item=item, field_id=field_id, defaults={"value": value, "rationale": rationale}
        )


def _rationale(text, field: CodebookField) -> str:
    return checked_text(text or "", f"The rationale of {isolate(field.label)}", MAX_TEXT)


@transaction.atomic
def gold_item_remove(item: GoldItem) -> None:
    """No longer gold: its unstarted training and checks go; answers already given stay, scored no more."""
    Assignment.objects.filter(
        study=item.study_id, issue=item.issue_id, purpose__in=GOLD_WORK, status=Assignment.Status.ASSIGNED
    ).delete()
    item.delete()


# --- Handing out training and checks ---


@transaction.atomic
def queue_prepare(study: Study, annotator) -> None:
    """Before the annotator's next issue is chosen: their training items while training is required and they have
    not passed it; then their checks, topped up to the study's percentage of their labelling queue."""
    if not Membership.objects.filter(study=study, user=annotator, role=Membership.Role.ANNOTATOR).exists():
        return
    if study.training_required and not training_passed(study, annotator):
        _assign_gold(study, annotator, Assignment.Purpose.TRAINING, _free_gold(study, annotator))
    if study.gold_check_percent:
        mine = Assignment.objects.filter(study=study, annotator=annotator, stage=Stage.LABELLING)
        wanted = math.ceil(mine.real().count() * study.gold_check_percent / 100)
        missing = wanted - mine.filter(purpose=Assignment.Purpose.CHECK).count()
        if missing > 0:
            free = _free_gold(study, annotator)
            # The same draw each time for this annotator: reproducible, and different from the others'.
            random.Random(f"{study.pk}:{annotator.pk}").shuffle(free)
            _assign_gold(study, annotator, Assignment.Purpose.CHECK, free[:missing])


def _free_gold(study: Study, annotator) -> list[int]:
    """Issue ids of gold issues the annotator has no assignment on (a check on one they labelled checks nothing)."""
    theirs = Assignment.objects.filter(study=study, annotator=annotator, issue=OuterRef("issue"))
    return list(
        GoldItem.objects.filter(study=study)
        .exclude(Exists(theirs))
        .order_by("issue_id")
        .values_list("issue_id", flat=True)
    )


def _assign_gold(study: Study, annotator, purpose: str, issue_ids: list[int]) -> None:
    Assignment.objects.bulk_create(
        [
            Assignment(study=study, issue_id=issue_id, annotator=annotator, stage=Stage.LABELLING, purpose=purpose)
            for issue_id in issue_ids
        ],
        ignore_conflicts=True,
    )


# --- Scoring against gold (the kappas are agreement/gold.py's: studies/ does not import agreement/) ---


@dataclass
class GoldWork:
    """One annotator's answers on gold issues of one purpose: per field, (own value, reference) for each submitted
    item that has a reference answer for it (own None: not answered)."""

    annotator: str
    submitted: int
    assigned: int
    pairs: dict[int, list[tuple[object, object]]] = dataclass_field(default_factory=dict)  # by field id


def gold_work(study: Study, purpose: str, annotator=None) -> list[GoldWork]:
    """Each annotator's training (or check) answers beside the reference answers, by username."""
    gold = {
        (issue_id, field_id): value
        for issue_id, field_id, value in GoldAnswer.objects.filter(gold_item__study=study).values_list(
            "gold_item__issue_id", "field_id", "value"
        )
    }
    work = Assignment.objects.filter(study=study, purpose=purpose, stage=Stage.LABELLING)
    if annotator is not None:
        work = work.filter(annotator=annotator)
    counts: dict[str, list[int]] = {}
    for username, status in work.values_list("annotator__username", "status"):
        counts.setdefault(username, [0, 0])
        counts[username][0] += status == Assignment.Status.SUBMITTED
        counts[username][1] += 1
    given: dict[tuple[str, int, int], object] = {}
    answered: dict[str, set[int]] = {}
    submitted = work.filter(status=Assignment.Status.SUBMITTED)
    for username, issue_id, field_id, value in submitted.values_list(
        "annotator__username", "issue_id", "annotations__field_id", "annotations__value"
    ):
        given[(username, issue_id, field_id)] = value
        answered.setdefault(username, set()).add(issue_id)
    fields = gold_fields(study)
    result = []
    for username in sorted(counts):
        issues = sorted(answered.get(username, ()))
        pairs = {
            field.pk: [
                (given.get((username, i, field.pk)), gold[i, field.pk]) for i in issues if (i, field.pk) in gold
            ]
            for field in fields
        }
        result.append(GoldWork(username, *counts[username], pairs))
    return result


def accuracy(pairs: list[tuple[object, object]]) -> float | None:
    """The share of answers equal to the reference (lists in any order); no answer is a wrong one."""
    if not pairs:
        return None
    return sum(own is not None and same_value(own, reference) for own, reference in pairs) / len(pairs)


def overall_accuracy(work: GoldWork) -> float | None:
    return accuracy([pair for pairs in work.pairs.values() for pair in pairs])


def passes(study: Study, work: GoldWork, fields: list[CodebookField]) -> bool:
    """Every training item submitted, and on every required field (of `fields`, the study's gold_fields) the
    accuracy at the threshold or above."""
    if work.submitted < work.assigned:
        return False
    required = {field.pk for field in fields if field.required}
    shares = [accuracy(pairs) for pk, pairs in work.pairs.items() if pk in required]
    return all(share is None or share >= study.training_threshold for share in shares)


def training_passed(study: Study, annotator) -> bool:
    """Whether the annotator's real work is open: the study requires no training, it has no gold issue to train
    on, or they passed (all their training submitted, accurate enough)."""
    if not study.training_required or not GoldItem.objects.filter(study=study).exists():
        return True
    mine = gold_work(study, Assignment.Purpose.TRAINING, annotator)
    return bool(mine) and passes(study, mine[0], gold_fields(study))


def training_retake(study: Study, annotator) -> int:
    """Clear the annotator's training (their answers too), so that they train again; how many issues were cleared."""
    _, deleted = Assignment.objects.filter(
        study=study, annotator=annotator, purpose=Assignment.Purpose.TRAINING
    ).delete()
    return deleted.get(Assignment._meta.label, 0)


# --- After a training item: the reference beside one's own answer ---


@dataclass
class Feedback:
    field: CodebookField
    own: str
    reference: str
    rationale: str
    correct: bool


def feedback(assignment: Assignment) -> list[Feedback]:
    """The reference answer and its rationale beside the annotator's, field by field (only for the viewer
    studies/access.py lets see them: `may_see_gold`)."""
    answers = {
        answer.field_id: answer
        for answer in GoldAnswer.objects.filter(
            gold_item__study=assignment.study_id, gold_item__issue=assignment.issue_id
        )
    }
    own = dict(assignment.annotations.values_list("field_id", "value"))
    rows = []
    for field in gold_fields(assignment.study):
        if (answer := answers.get(field.pk)) is None:
            continue
        mine = own.get(field.pk)
        rows.append(
            Feedback(
                field,
                display_value(mine, field),
                display_value(answer.value, field),
                answer.rationale,
                mine is not None and same_value(mine, answer.value),
            )
        )
    return rows
