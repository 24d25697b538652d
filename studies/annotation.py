"""Recording annotations: one field at a time as the annotator works, then submitting the issue."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.bidi import isolate
from studies.models import MAX_TEXT, Annotation, Assignment, CodebookField, IssueStage, StudyIssue, checked_text
from studies.versions import check_version, save_versioned
from studies.workflow import after_submit, display_value

# A tab left open while an owner moved or took back the assignment (studies/assignment.py).
NOT_ASSIGNED = "This issue is no longer assigned to you."


def stage_fields(assignment: Assignment):
    return assignment.study.fields.filter(stage=assignment.stage).prefetch_related("choices")


@transaction.atomic
def annotation_save(
    *, assignment: Assignment, field: CodebookField, value, uncertain: bool = False, note: str = "", version=None
) -> Annotation:
    """Check the value against the field and store it; the first save starts the assignment.

    `version` is the one the page showed (0: no answer yet); a save based on an older one — another tab —
    is refused with StaleVersion rather than overwriting what was saved meanwhile.
    """
    if field.study_id != assignment.study_id or field.stage != assignment.stage:
        raise ValidationError(f"{isolate(field.label)} is not a question of this stage.")
    _lock(assignment)  # one save of the assignment at a time: the version check below cannot race
    _check_stage_is_open(assignment)
    if assignment.status == Assignment.Status.SUBMITTED:
        raise ValidationError("This issue is submitted; it can no longer be changed.")
    cleaned = field.clean_value(value)
    note = checked_text(note, f"The note on {isolate(field.label)}", MAX_TEXT)
    annotation = Annotation.objects.filter(assignment=assignment, field=field).first()

    def changed() -> str:
        when = timezone.localtime(annotation.updated_at).strftime("%H:%M:%S")
        return f"Changed meanwhile (another tab?) to “{display_value(annotation.value)}” at {when}."

    check_version(annotation, version, changed)
    if annotation is None:
        annotation = Annotation.objects.create(
            assignment=assignment, field=field, value=cleaned, uncertain=uncertain, note=note
        )
    else:
        save_versioned(annotation, value=cleaned, uncertain=uncertain, note=note, updated_at=timezone.now())
    if assignment.status == Assignment.Status.ASSIGNED:
        assignment.status, assignment.started_at = Assignment.Status.IN_PROGRESS, timezone.now()
        assignment.save(update_fields=["status", "started_at"])
    return annotation


def missing_required(assignment: Assignment) -> list[CodebookField]:
    answered = set(assignment.annotations.filter(value__isnull=False).values_list("field_id", flat=True))
    return [field for field in stage_fields(assignment) if field.required and field.pk not in answered]


@transaction.atomic
def assignment_submit(*, assignment: Assignment) -> None:
    """Mark the issue done for this annotator, once every required field has an answer; the last one moves it on."""
    _lock(assignment)
    if assignment.status == Assignment.Status.SUBMITTED:
        return  # a second tab submitting again: the first submission's time stands (agreement windows use it)
    _check_stage_is_open(assignment)
    missing = missing_required(assignment)
    if missing:
        raise ValidationError(f"Still to answer: {', '.join(isolate(field.label) for field in missing)}.")
    assignment.status, assignment.submitted_at = Assignment.Status.SUBMITTED, timezone.now()
    assignment.started_at = assignment.started_at or assignment.submitted_at
    assignment.save(update_fields=["status", "started_at", "submitted_at"])
    if assignment.purpose == Assignment.Purpose.REAL:
        after_submit(assignment)


def _lock(assignment: Assignment) -> None:
    """Lock the assignment row and refresh its status: an owner may have moved it meanwhile (studies/assignment.py)."""
    current = Assignment.objects.select_for_update().filter(pk=assignment.pk).values_list("annotator_id", "status")
    row = current.first()
    if row is None or row[0] != assignment.annotator_id:
        raise ValidationError(NOT_ASSIGNED)
    assignment.status = row[1]


def issue_stage(assignment: Assignment) -> str:
    return (
        StudyIssue.objects.filter(study_id=assignment.study_id, issue_id=assignment.issue_id)
        .values_list("stage", flat=True)
        .first()
    )


def _check_stage_is_open(assignment: Assignment) -> None:
    """Labelling an issue still in screening (or screening one already past it) is refused; training and checks on
    gold issues are labelled whatever the issue's stage (studies/gold.py)."""
    if assignment.purpose != Assignment.Purpose.REAL:
        return
    stage = issue_stage(assignment)
    if stage != assignment.stage:
        raise ValidationError(
            f"This issue is in {IssueStage(stage).label if stage else 'no stage'}: its {assignment.stage} is closed."
        )
