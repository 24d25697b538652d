"""How an issue moves through a study: screening → (discussion) → labelling → reconciliation → decided.

Every transition runs in the transaction of the request that causes it, with
the issue's StudyIssue row locked first: two annotators submitting at the same
moment move the issue once, and a decision cannot cross a re-open. Every
change of stage or decision raises the row's version, so a form that shows an
older state is refused (studies/versions.py) instead of silently overwriting
what someone else decided. Who may see and do what is studies/access.py's.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.bidi import isolate
from issues.models import Issue
from studies.codebook_versions import current_number
from studies.models import (
    MAX_TEXT,
    OTHER_PREFIX,
    Annotation,
    Assignment,
    CodebookField,
    FinalValue,
    IssueStage,
    Stage,
    StudyIssue,
    checked_text,
)
from studies.versions import check_version, save_versioned

Reason = StudyIssue.Reason


def locked(study_issue: StudyIssue) -> StudyIssue:
    """The row again, locked until the transaction ends: the state every transition starts from."""
    return StudyIssue.objects.select_for_update().select_related("study", "issue__repository").get(pk=study_issue.pk)


def check_issue_version(study_issue: StudyIssue, version: int | None) -> None:
    def changed() -> str:
        who = study_issue.decided_by.username if study_issue.decided_by else "someone"
        decision = f", {study_issue.get_decision_display()} by {who}" if study_issue.decision else ""
        return (
            f"This issue changed while you were looking at it: it is now {study_issue.get_stage_display()}"
            f"{decision}. Reload to see the change."
        )

    check_version(study_issue, version, changed)


def _bump(study_issue: StudyIssue, **changes) -> None:
    """Change the stage or decision; the database raises the version (studies/versions.py)."""
    save_versioned(study_issue, **changes)


# --- After each submission ---


def after_submit(assignment: Assignment) -> None:
    """Called in the transaction of a submission: moves the issue on once all its annotators of the stage are done."""
    study_issue = locked(StudyIssue.objects.get(study_id=assignment.study_id, issue_id=assignment.issue_id))
    stage_assignments = Assignment.objects.real().filter(
        study_id=assignment.study_id, issue_id=assignment.issue_id, stage=assignment.stage
    )
    if stage_assignments.exclude(status=Assignment.Status.SUBMITTED).exists():
        return
    if assignment.stage == Stage.SCREENING and study_issue.stage == IssueStage.SCREENING:
        _apply_screening_rule(study_issue)
    elif assignment.stage == Stage.LABELLING and study_issue.stage in (
        IssueStage.LABELLING,
        IssueStage.RECONCILIATION,
    ):
        if study_issue.stage == IssueStage.LABELLING:
            _bump(study_issue, stage=IssueStage.RECONCILIATION)
        # In reconciliation already: an imported file's final values moved it there before its annotations.
        agreed_values_store(study_issue)


@dataclass
class Vote:
    annotator: object
    include: bool | None
    comment: str
    uncertain: bool
    note: str


def screening_votes(study_issue: StudyIssue) -> list[Vote]:
    """Each screening annotator's vote on the study's screening question (its first yes/no field)."""
    field = screening_field(study_issue.study)
    assignments = Assignment.objects.filter(
        study_id=study_issue.study_id, issue_id=study_issue.issue_id, stage=Stage.SCREENING
    ).select_related("annotator")
    answers = (
        {a.assignment_id: a for a in Annotation.objects.filter(assignment__in=assignments, field=field)}
        if field
        else {}
    )
    votes = []
    for assignment in assignments.order_by("annotator__username"):
        answer = answers.get(assignment.pk)
        value = answer.value if answer and isinstance(answer.value, dict) else {}
        votes.append(
            Vote(
                assignment.annotator,
                value.get("vote"),
                value.get("comment", ""),
                bool(answer and answer.uncertain),
                answer.note if answer else "",
            )
        )
    return votes


def screening_field(study) -> CodebookField | None:
    return study.fields.filter(stage=Stage.SCREENING, kind=CodebookField.Kind.VOTE).order_by("position").first()


def _apply_screening_rule(study_issue: StudyIssue) -> None:
    study = study_issue.study
    votes = screening_votes(study_issue)
    includes = sum(1 for vote in votes if vote.include)
    if includes >= (study.screening_accept_votes or len(votes)):
        _start_labelling(study_issue)
    elif includes >= study.screening_discuss_votes:
        _bump(study_issue, stage=IssueStage.DISCUSSION)
    else:
        _bump(
            study_issue,
            stage=IssueStage.DECIDED,
            decision=StudyIssue.Decision.EXCLUDE,
            reason=Reason.SCREENED_OUT,
            decided_at=timezone.now(),
            decision_note=f"{includes} of {len(votes)} voted include.",
        )


def _start_labelling(study_issue: StudyIssue) -> None:
    """Into labelling; the screening annotators label it unless the owner has assigned someone already."""
    _bump(study_issue, stage=IssueStage.LABELLING)
    here = Assignment.objects.real().filter(study_id=study_issue.study_id, issue_id=study_issue.issue_id)
    if not here.filter(stage=Stage.LABELLING).exists():
        Assignment.objects.bulk_create(
            [
                Assignment(
                    study_id=study_issue.study_id,
                    issue_id=study_issue.issue_id,
                    annotator_id=annotator_id,
                    stage=Stage.LABELLING,
                )
                for annotator_id in here.filter(stage=Stage.SCREENING).values_list("annotator_id", flat=True)
            ]
        )


# --- The screening discussion ---


@transaction.atomic
def screening_resolve(
    study_issue: StudyIssue,
    *,
    include: bool,
    note: str,
    user,
    version=None,
    reason: str = "",
    duplicate_of: Issue | None = None,
) -> StudyIssue:
    """The adjudicator's word on a split vote: on to labelling, or excluded with a reason."""
    study_issue = locked(study_issue)
    check_issue_version(study_issue, version)
    if study_issue.stage != IssueStage.DISCUSSION:
        raise ValidationError("This issue is not in the screening discussion.")
    note = checked_text(note, "The reason", MAX_TEXT)
    if not note.strip():
        raise ValidationError("Say why: the reason is part of the record.")
    if include:
        _bump(study_issue, screening_note=note.strip())
        _start_labelling(study_issue)
    else:
        _decide_exclusion(
            study_issue, reason=reason, duplicate_of=duplicate_of, note=note, user=user, screening_note=note.strip()
        )
    return study_issue


# --- Reconciliation ---


@transaction.atomic
def final_value_save(
    study_issue: StudyIssue, field: CodebookField, *, value, rationale: str, user, version=None, clear: bool = False
) -> FinalValue:
    """Set the final value of one field; `version` is the one the form showed (0: there was none).

    An empty value is refused: "no answer" is stored only when the adjudicator asks for it (`clear`). Where the
    annotators differ, or where the adjudicator departs from what they agreed, the rationale is required.
    """
    study_issue = locked(study_issue)
    if study_issue.stage != IssueStage.RECONCILIATION:
        raise ValidationError("Final values are set while the issue is in reconciliation.")
    if field.study_id != study_issue.study_id or field.stage != Stage.LABELLING:
        raise ValidationError(f"{isolate(field.label)} is not a labelling question of this study.")
    cleaned = None if clear else field.clean_value(value)
    if cleaned is None and not clear:
        raise ValidationError(f"Choose the final value of {isolate(field.label)}, or clear it on purpose (no answer).")
    rationale = checked_text(rationale, f"The rationale for {isolate(field.label)}", MAX_TEXT)
    final = FinalValue.objects.select_for_update().filter(study_issue=study_issue, field=field).first()

    def changed() -> str:
        who = final.set_by.username if final.set_by else "someone"
        return f"{who} set {isolate(field.label)} to {isolate(display_value(final.value, field))} meanwhile."

    check_version(final, version, changed)
    agreed = agreed_values(study_issue, [field]).get(field.pk)
    as_agreed = agreed is not None and same_value(cleaned, agreed[0])
    if not rationale.strip() and not as_agreed:
        if agreed:
            raise ValidationError(
                f"The annotators agreed on {isolate(display_value(agreed[0], field))}: "
                f"say why {isolate(field.label)} takes another value."
            )
        raise ValidationError(f"The annotators differ on {isolate(field.label)}: say why this value.")
    source = FinalValue.Source.AGREED if as_agreed else FinalValue.Source.ADJUDICATED
    values = {
        "value": cleaned,
        "rationale": rationale.strip(),
        "set_by": user,
        "source": source,
        "agreed_by": agreed[1] if as_agreed else [],
        "codebook_version": current_number(study_issue.study_id),
    }
    if final is None:
        return FinalValue.objects.create(study_issue=study_issue, field=field, **values)
    save_versioned(final, **values, updated_at=timezone.now())
    return final


def _submitted_values(study_issue: StudyIssue, fields) -> tuple[list[str], dict[int, list]]:
    """The usernames of the issue's submitted labelling annotators, and {field id: their values} in that order."""
    assignments = list(
        Assignment.objects.real()
        .filter(
            study_id=study_issue.study_id,
            issue_id=study_issue.issue_id,
            stage=Stage.LABELLING,
            status=Assignment.Status.SUBMITTED,
        )
        .select_related("annotator")
        .order_by("annotator__username")
    )
    answers = {
        (assignment_id, field_id): value
        for assignment_id, field_id, value in Annotation.objects.filter(
            assignment__in=assignments, field__in=fields
        ).values_list("assignment_id", "field_id", "value")
    }
    names = sorted(assignment.annotator.username for assignment in assignments)
    return names, {field.pk: [answers.get((a.pk, field.pk)) for a in assignments] for field in fields}


def agreed_values(study_issue: StudyIssue, fields=None) -> dict[int, tuple[object, list[str]]]:
    """{field id: (value, usernames)} for each labelling field on which every submitted annotator of the issue gave
    the same value, and not "no answer"."""
    if fields is None:
        fields = study_issue.study.fields.filter(stage=Stage.LABELLING)
    names, values_of = _submitted_values(study_issue, fields)
    return {
        field_id: (values[0], names)
        for field_id, values in values_of.items()
        if values and values[0] is not None and all(same_value(value, values[0]) for value in values)
    }


def agreed_values_store(study_issue: StudyIssue) -> int:
    """Make every agreed value final, in the transaction that brought the issue to reconciliation (or of the
    adjudicator's "Accept every agreed value"); returns how many were stored.

    A field without a final value gets the agreed one. A final value that was only agreed follows the annotators
    (an issue re-opened into labelling may come back with other values): it takes the new agreed value, or goes
    when they no longer agree. An adjudicated final value is the adjudicator's and stays as it is.
    """
    agreed = agreed_values(study_issue)
    finals = {final.field_id: final for final in FinalValue.objects.filter(study_issue=study_issue)}
    codebook_version = current_number(study_issue.study_id)
    stored = 0
    for final in finals.values():
        if final.source != FinalValue.Source.AGREED:
            continue
        if final.field_id not in agreed:
            final.delete()
        elif not same_value(final.value, agreed[final.field_id][0]) or final.agreed_by != agreed[final.field_id][1]:
            value, names = agreed[final.field_id]
            save_versioned(
                final,
                value=value,
                agreed_by=names,
                set_by=None,
                codebook_version=codebook_version,
                updated_at=timezone.now(),
            )
            stored += 1
    new = [
        FinalValue(
            study_issue=study_issue,
            field_id=field_id,
            value=value,
            source=FinalValue.Source.AGREED,
            agreed_by=names,
            codebook_version=codebook_version,
        )
        for field_id, (value, names) in agreed.items()
        if field_id not in finals
    ]
    FinalValue.objects.bulk_create(new)
    return stored + len(new)


@transaction.atomic
def agreed_values_accept(study_issue: StudyIssue) -> int:
    """The adjudicator's "Accept every agreed value": for an issue that reached reconciliation before agreed values
    were final at once, or whose agreed final values were taken away."""
    study_issue = locked(study_issue)
    if study_issue.stage != IssueStage.RECONCILIATION:
        raise ValidationError("Agreed values become final while the issue is in reconciliation.")
    return agreed_values_store(study_issue)


@transaction.atomic
def decide(
    study_issue: StudyIssue,
    *,
    include: bool,
    user,
    note: str = "",
    reason: str = "",
    duplicate_of: Issue | None = None,
    version=None,
) -> StudyIssue:
    """Include the issue with its final values, or exclude it with a reason."""
    study_issue = locked(study_issue)
    check_issue_version(study_issue, version)
    if study_issue.stage != IssueStage.RECONCILIATION:
        raise ValidationError("Only an issue in reconciliation can be decided.")
    note = checked_text(note, "The rationale", MAX_TEXT)
    if include:
        missing = missing_final_values(study_issue)
        if missing:
            raise ValidationError(f"Set the final value of: {', '.join(isolate(field.label) for field in missing)}.")
        _bump(
            study_issue,
            stage=IssueStage.DECIDED,
            decision=StudyIssue.Decision.INCLUDE,
            reason="",
            duplicate_of=None,
            decision_note=note.strip(),
            decided_by=user,
            decided_at=timezone.now(),
        )
    else:
        _decide_exclusion(study_issue, reason=reason, duplicate_of=duplicate_of, note=note, user=user)
    return study_issue


def record_decision(study_issue: StudyIssue, **decision) -> StudyIssue:
    """The adjudicator's word, whatever the issue waits for: a split screening vote, or its final values."""
    if study_issue.stage == IssueStage.DISCUSSION:
        return screening_resolve(study_issue, **decision)
    return decide(study_issue, **decision)


def _decide_exclusion(study_issue: StudyIssue, *, reason: str, duplicate_of, note: str, user, **more) -> None:
    if reason not in Reason.values or reason == Reason.SCREENED_OUT:
        raise ValidationError("Choose why the issue is excluded.")
    if reason == Reason.DUPLICATE and duplicate_of is None:
        raise ValidationError("A duplicate needs the issue it duplicates.")
    if duplicate_of is not None and duplicate_of.pk == study_issue.issue_id:
        raise ValidationError("An issue cannot duplicate itself.")
    if reason == Reason.OTHER and not note.strip():
        raise ValidationError("Say why it is excluded.")
    _bump(
        study_issue,
        stage=IssueStage.DECIDED,
        decision=StudyIssue.Decision.EXCLUDE,
        reason=reason,
        duplicate_of=duplicate_of if reason == Reason.DUPLICATE else None,
        decision_note=note.strip(),
        decided_by=user,
        decided_at=timezone.now(),
        **more,
    )


def same_value(a, b) -> bool:
    """Equal values; lists in any order ("Engine, Model" agrees with "Model, Engine")."""
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(repr, a)) == sorted(map(repr, b))
    return a == b


def missing_final_values(study_issue: StudyIssue) -> list[CodebookField]:
    """What to settle before the issue is included, while it is in reconciliation: each required field without a
    final value, and each field the annotators differ on that nobody settled (a value, or no answer on purpose),
    required or not: an optional field's disagreement is a judgement too, and would otherwise go out empty."""
    if study_issue.stage != IssueStage.RECONCILIATION:
        return []
    finals = dict(FinalValue.objects.filter(study_issue=study_issue).values_list("field_id", "value"))
    fields = list(study_issue.study.fields.filter(stage=Stage.LABELLING).order_by("position", "id"))
    _, values_of = _submitted_values(study_issue, fields)

    def differ(field) -> bool:
        values = values_of[field.pk]
        return any(value is not None for value in values) and not all(same_value(v, values[0]) for v in values)

    return [
        field
        for field in fields
        if (field.required and finals.get(field.pk) is None) or (field.pk not in finals and differ(field))
    ]


@transaction.atomic
def reopen(study_issue: StudyIssue, *, to_stage: str, user, version=None) -> StudyIssue:
    """Send a decided issue back to reconciliation, or to labelling (its annotators can change their values).

    The decision is cleared from the issue; the history keeps it.
    """
    study_issue = locked(study_issue)
    check_issue_version(study_issue, version)
    if study_issue.stage != IssueStage.DECIDED:
        raise ValidationError("Only a decided issue can be re-opened.")
    if to_stage not in (IssueStage.RECONCILIATION, IssueStage.LABELLING):
        raise ValidationError("Re-open into reconciliation or labelling.")
    if to_stage == IssueStage.RECONCILIATION and study_issue.reason == Reason.SCREENED_OUT:
        to_stage = IssueStage.DISCUSSION  # it never had labels: back to the discussion of its votes
    _bump(
        study_issue,
        stage=to_stage,
        decision="",
        reason="",
        duplicate_of=None,
        decision_note="",
        decided_by=None,
        decided_at=None,
    )
    if to_stage == IssueStage.LABELLING:
        Assignment.objects.real().filter(
            study_id=study_issue.study_id,
            issue_id=study_issue.issue_id,
            stage=Stage.LABELLING,
            status=Assignment.Status.SUBMITTED,
        ).update(status=Assignment.Status.IN_PROGRESS, submitted_at=None)
    return study_issue


# --- Showing values ---


def display_value(value, field: CodebookField | None = None) -> str:
    """A stored value as people read it; with its field, a choice by the codebook's label ("1 — interface only")."""
    if value is None:
        return "no answer"
    if isinstance(value, list):
        return ", ".join(display_value(item, field) for item in value) or "none"
    if field is not None and field.has_choices and isinstance(value, str | int):
        label = next((choice.label for choice in field.choices.all() if choice.value == str(value)), str(value))
        ordinal = field.kind == CodebookField.Kind.ORDINAL and not label.startswith(str(value))
        return f"{value} — {label}" if ordinal else label
    if isinstance(value, dict):
        if "other" in value:
            return OTHER_PREFIX + value["other"]
        if "vote" in value:
            vote = "yes" if value["vote"] else "no"
            return f"{vote} — {value['comment']}" if value.get("comment") else vote
    return str(value)
