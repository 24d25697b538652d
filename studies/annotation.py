"""Recording annotations: one field at a time as the annotator works, then submitting the issue."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.bidi import isolate
from studies.codebook_versions import current_number
from studies.models import MAX_TEXT, Annotation, Assignment, CodebookField, IssueStage, StudyIssue, checked_text
from studies.versions import check_version, save_versioned
from studies.workflow import after_submit, agreed_values_store, display_value, locked

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
    # Made under the codebook as it is now: an answer waiting to be re-checked is re-checked by a change too.
    values = {
        "value": cleaned,
        "uncertain": uncertain,
        "note": note,
        "codebook_version": current_number(field.study_id),
    }
    if annotation is None:
        annotation = Annotation.objects.create(assignment=assignment, field=field, **values)
    else:
        save_versioned(annotation, **values, updated_at=timezone.now())
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


# --- re-checks: an answer given before its field's meaning changed (studies/codebook_versions.py) ---


@transaction.atomic
def recheck_confirm(*, annotation: Annotation, version: int) -> None:
    """The answer stands under the field's new meaning: it moves, unchanged, to the codebook version of now."""
    annotation = _recheck_lock(annotation, version)
    save_versioned(annotation, codebook_version=current_number(annotation.field.study_id), updated_at=timezone.now())


@transaction.atomic
def recheck_change(*, annotation: Annotation, value, version: int) -> Annotation:
    """A new answer under the field's new meaning; also once the issue is submitted, since that is what a
    re-check is for. An issue in reconciliation gets its agreed final values again (studies/workflow.py)."""
    annotation = _recheck_lock(annotation, version)
    field = annotation.field
    cleaned = field.clean_value(value)
    if cleaned is None:
        raise ValidationError(f"Give {field.label} a value; to keep yours, confirm it instead.")
    save_versioned(
        annotation, value=cleaned, codebook_version=current_number(field.study_id), updated_at=timezone.now()
    )
    study_issue = StudyIssue.objects.get(study_id=field.study_id, issue_id=annotation.assignment.issue_id)
    if study_issue.stage == IssueStage.RECONCILIATION:
        agreed_values_store(locked(study_issue))
    return annotation


def _recheck_lock(annotation: Annotation, version: int) -> Annotation:
    """The annotation, locked, if still at the version the page showed (StaleVersion otherwise: another tab)."""
    current = Annotation.objects.select_for_update().select_related("field", "assignment").get(pk=annotation.pk)

    def changed() -> str:
        return f"Changed meanwhile (another tab?) to “{display_value(current.value, current.field)}”."

    check_version(current, version, changed)
    return current
