"""Annotations made elsewhere (a spreadsheet like the paper's), read from a long CSV and stored as if made here.

Header `issue,annotator,field,value`, optionally `uncertain,note,kind,stage,comment,source`: one row per value (a
multiple-choice or list field takes a row per value). A final value whose source is `agreed` is not read: it is
what the annotators' rows agree on, and becomes final again when the issue reaches reconciliation. Everything is
checked first and every error is reported with its line; only a file without errors is written, in one
transaction. Imported judgements are submitted work: their assignments are marked submitted and move their issues
on, as submissions in the browser do.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotator.csv_writer import unquoted
from issues.models import Issue
from studies.assignment import ISSUE_REFERENCE
from studies.codebook_versions import codebook_change, current_number
from studies.models import (
    MAX_CHOICE,
    MAX_TEXT,
    OTHER_PREFIX,
    Annotation,
    Assignment,
    Choice,
    CodebookField,
    FinalValue,
    IssueStage,
    Membership,
    Study,
    StudyIssue,
    checked_text,
)
from studies.workflow import after_submit, display_value, same_value

COLUMNS = ["issue", "annotator", "field", "value", "uncertain", "note", "kind", "stage", "comment", "source"]
REQUIRED = {"issue", "annotator", "field", "value"}
IMPORTED_GROUP = "imported annotators"
LIST_KINDS = {CodebookField.Kind.MULTIPLE, CodebookField.Kind.URLS, CodebookField.Kind.COMMITS}
VOTES = {"yes": True, "1": True, "true": True, "no": False, "0": False, "false": False}
STAGE_ORDER = [
    IssueStage.SCREENING,
    IssueStage.DISCUSSION,
    IssueStage.LABELLING,
    IssueStage.RECONCILIATION,
    IssueStage.DECIDED,
]


class AnnotationImportError(ValueError):
    """The file cannot be imported; `errors` lists every problem with its line."""

    def __init__(self, errors: list[str]):
        super().__init__(f"Nothing was imported: {len(errors)} error{'s' if len(errors) != 1 else ''}.")
        self.errors = errors


@dataclass
class Result:
    annotations: int = 0
    final_values: int = 0
    users_created: list[str] = dataclass_field(default_factory=list)
    choices_created: list[str] = dataclass_field(default_factory=list)
    warnings: list[str] = dataclass_field(default_factory=list)
    dry_run: bool = False


@dataclass
class _Judgement:
    """All the rows of one (issue, annotator, field, kind, stage)."""

    line: int
    issue: Issue
    username: str
    field: CodebookField
    kind: str
    values: list = dataclass_field(default_factory=list)
    uncertain: bool = False
    note: str = ""
    comment: str = ""


def import_annotations(
    study: Study,
    text: str,
    *,
    create_users: bool = False,
    create_choices: bool = False,
    dry_run: bool = False,
    replace: bool = False,
    issues: QuerySet | None = None,
) -> Result:
    """Check the whole file, then write it (unless `dry_run`); AnnotationImportError lists every error.

    A submitted answer, and anything of a decided issue, is never changed unless `replace` says so: the
    change is then versioned and in the history like any other. `issues`: the imported issues the file may
    name (those the uploader may reach, studies/access.py); all of them by default.
    """
    result = Result(dry_run=dry_run)
    judgements = _read(
        study, text, create_users=create_users, create_choices=create_choices, result=result, issues=issues
    )
    if dry_run:
        _refuse_gold_work(study, judgements)
        _refuse_protected_changes(study, judgements, replace)
        return result
    with transaction.atomic():
        # Locked, so that nobody submits or decides between the check and the writes.
        list(StudyIssue.objects.select_for_update().filter(study=study, issue__in=[j.issue for j in judgements]))
        _refuse_gold_work(study, judgements)
        _refuse_protected_changes(study, judgements, replace)
        _write(study, judgements, result)
    return result


# --- reading and checking ---


def _read(study, text, *, create_users, create_choices, result, issues) -> list[_Judgement]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {name.strip() for name in reader.fieldnames or []}
    if not header >= REQUIRED:
        raise AnnotationImportError(
            [f"line 1: the header needs {', '.join(sorted(REQUIRED - header))} (columns: {', '.join(COLUMNS)})"]
        )
    fields = {f.key: f for f in study.fields.prefetch_related("choices")}
    users = set(get_user_model().objects.values_list("username", flat=True))
    found: dict[str, Issue | None] = {}
    errors: list[str] = []
    grouped: dict[tuple, _Judgement] = {}
    new_users, new_choices = set(), defaultdict(set)
    for line, row in enumerate(reader, 2):
        row = {key.strip(): unquoted((value or "").strip()) for key, value in row.items() if key}
        where = f"line {line}"
        reference, username, key, value = row["issue"], row["annotator"], row["field"], row["value"]
        kind = row.get("kind") or "annotation"
        if reference not in found:
            found[reference] = _issue(reference, issues)
        issue, field = found[reference], fields.get(key)
        if issue is None:
            errors.append(f"{where}: {reference!r} is not an imported issue (a GitHub URL or owner/name#N)")
        if field is None:
            errors.append(f"{where}: {key!r} is not a field of the codebook")
        if kind not in ("annotation", "final"):
            errors.append(f"{where}: kind is annotation or final, not {kind!r}")
        if row.get("stage") and field is not None and row["stage"] != field.stage:
            errors.append(f"{where}: {key} is a {field.stage} field, not {row['stage']}")
        source = row.get("source", "")
        if source not in ("", *FinalValue.Source.values):
            errors.append(f"{where}: source is agreed or adjudicated, not {source!r}")
        if kind == "final" and source == FinalValue.Source.AGREED:
            continue  # derived from the annotations, as in the browser
        if username not in users and username not in new_users:
            if create_users and _valid_username(username):
                new_users.add(username)
            elif create_users:
                errors.append(f"{where}: {username!r} cannot be a username (letters, digits and @.+-_, at most 150)")
            else:
                errors.append(f"{where}: no user {username!r} (--create-users makes an inactive account)")
        if issue is None or field is None or kind not in ("annotation", "final"):
            continue
        try:
            value = _value(field, value, row.get("comment", ""), create_choices, new_choices, result, where)
            note = checked_text(row.get("note", ""), "the note", MAX_TEXT)
        except ValidationError as error:
            errors.append(f"{where}: {' '.join(error.messages)}")
            continue
        judgement = grouped.setdefault((issue.pk, username, key, kind), _Judgement(line, issue, username, field, kind))
        if value is not None:
            judgement.values.append(value)
        judgement.uncertain |= row.get("uncertain", "").lower() in ("1", "yes", "true")
        judgement.note = judgement.note or note
    for judgement in grouped.values():
        try:
            _cleaned(judgement)
        except ValidationError as error:
            errors.append(f"line {judgement.line}: {judgement.field.key}: {' '.join(error.messages)}")
    if errors:
        raise AnnotationImportError(errors)
    result.users_created = sorted(new_users)
    result.choices_created = sorted(f"{key}: {value}" for key, values in new_choices.items() for value in values)
    return list(grouped.values())


def _valid_username(username: str) -> bool:
    try:
        get_user_model().username_validator(username)
    except ValidationError:
        return False
    return 0 < len(username) <= get_user_model()._meta.get_field("username").max_length


def _issue(reference: str, issues: QuerySet | None) -> Issue | None:
    match = ISSUE_REFERENCE.match(reference)
    if not match:
        return None
    return (
        (Issue.objects.all() if issues is None else issues)
        .filter(repository__owner=match["owner"], repository__name=match["name"], number=int(match["number"]))
        .select_related("repository")
        .first()
    )


def _value(field: CodebookField, text: str, comment: str, create_choices, new_choices, result, where):
    """One cell as the field stores it (a choice value, a level, a vote, a text)."""
    if field.kind == CodebookField.Kind.VOTE:
        if text.lower() not in VOTES:
            raise ValidationError(f"a vote is yes or no, not {text!r}")
        return {"vote": VOTES[text.lower()], "comment": comment}
    if not field.has_choices:
        return text or None
    choices = [choice.value for choice in field.choices.all()] + sorted(new_choices[field.key])
    if text in choices:
        return text
    loose = {" ".join(choice.casefold().split()): choice for choice in choices}
    if (match := loose.get(" ".join(text.casefold().split()))) is not None:
        result.warnings.append(f"{where}: {text!r} read as the choice {match!r} of {field.key}")
        return match
    if text.startswith(OTHER_PREFIX) and field.allow_other:
        return {"other": checked_text(text.removeprefix(OTHER_PREFIX), f"“Other” of {field.key}", MAX_CHOICE)}
    if create_choices and field.kind != CodebookField.Kind.ORDINAL and text:
        new_choices[field.key].add(checked_text(text, f"a new choice of {field.key}", MAX_CHOICE))
        return text
    raise ValidationError(f"{text!r} is not a choice of {field.key} (--create-choices adds it)")


def _cleaned(judgement: _Judgement):
    field = judgement.field
    value = judgement.values if field.kind in LIST_KINDS else (judgement.values[0] if judgement.values else None)
    if len(judgement.values) > 1 and field.kind not in LIST_KINDS:
        raise ValidationError("several values for a field that takes one")
    if field.kind == CodebookField.Kind.MULTIPLE:  # choices created by this file are not in the database yet
        if field.max_choices and len(value) > field.max_choices:
            raise ValidationError(f"at most {field.max_choices} values")
        if len({repr(item) for item in value}) < len(value):
            raise ValidationError("a value is given twice")
        return value
    if field.has_choices and isinstance(value, str):
        return int(value) if field.kind == CodebookField.Kind.ORDINAL else value
    return field.clean_value(value)


def _refuse_gold_work(study: Study, judgements: list[_Judgement]) -> None:
    """AnnotationImportError if a row would land on someone's training or check of a gold issue (studies/gold.py):
    their answers there are scored against gold and never count as the issue's labels, so an import would vanish."""
    gold_work = set(
        Assignment.objects.filter(study=study, issue__in={j.issue.pk for j in judgements})
        .exclude(purpose=Assignment.Purpose.REAL)
        .values_list("issue_id", "annotator__username", "stage")
    )
    errors = [
        f"line {j.line}: {j.username} trains or is checked on {j.issue.repository.full_name}#{j.issue.number}, a gold "
        "issue; their answers there are not labels of it"
        for j in judgements
        if j.kind == "annotation" and (j.issue.pk, j.username, j.field.stage) in gold_work
    ]
    if errors:
        raise AnnotationImportError(errors)


def _refuse_protected_changes(study: Study, judgements: list[_Judgement], replace: bool) -> None:
    """AnnotationImportError if the file would change a submitted answer or anything of a decided issue."""
    if replace:
        return
    now = _as_stored(study, judgements)
    errors = []
    for judgement in judgements:
        reference = f"{judgement.issue.repository.full_name}#{judgement.issue.number}"
        before = now.values.get(_key(judgement))
        if before is not None and _same(before, _stored_form(judgement)):
            continue  # the same again: no change
        if now.stages.get(judgement.issue.pk) == IssueStage.DECIDED:
            errors.append(
                f"line {judgement.line}: {reference} is decided; re-open it before changing "
                f"{judgement.field.key}, or replace knowingly"
            )
        elif judgement.kind == "annotation" and (judgement.issue.pk, judgement.username, judgement.field.stage) in (
            now.submitted
        ):
            errors.append(
                f"line {judgement.line}: {judgement.username} has submitted {reference}; their "
                f"{judgement.field.key} stays {display_value(before[0] if before else None)!r} unless the issue is "
                "re-opened, or you replace knowingly"
            )
    if errors:
        raise AnnotationImportError(errors)


@dataclass
class _Stored:
    stages: dict[int, str]
    submitted: set[tuple[int, str, str]]  # (issue, username, stage) of submitted assignments
    values: dict[tuple, tuple]  # _key() -> what is stored, as _stored_form() gives it


def _as_stored(study: Study, judgements: list[_Judgement]) -> _Stored:
    """What the database holds now for the issues of the file: a few queries, not one per row."""
    issue_ids = {judgement.issue.pk for judgement in judgements}
    stages = dict(StudyIssue.objects.filter(study=study, issue_id__in=issue_ids).values_list("issue_id", "stage"))
    assignments = Assignment.objects.filter(study=study, issue_id__in=issue_ids)
    submitted = set(
        assignments.filter(status=Assignment.Status.SUBMITTED).values_list("issue_id", "annotator__username", "stage")
    )
    values = {}
    for issue_id, username, field_id, value, uncertain, note in Annotation.objects.filter(
        assignment__in=assignments
    ).values_list("assignment__issue_id", "assignment__annotator__username", "field_id", "value", "uncertain", "note"):
        values[(issue_id, username, field_id, "annotation")] = (value, uncertain, note)
    for issue_id, username, field_id, value, rationale in FinalValue.objects.filter(
        study_issue__study=study, study_issue__issue_id__in=issue_ids
    ).values_list("study_issue__issue_id", "set_by__username", "field_id", "value", "rationale"):
        values[(issue_id, username, field_id, "final")] = (value, False, rationale)
        values[(issue_id, None, field_id, "final")] = (value, False, rationale)
    return _Stored(stages, submitted, values)


def _key(judgement: _Judgement) -> tuple:
    if judgement.kind == "final":  # one final value per field, whoever set it
        return (judgement.issue.pk, None, judgement.field.pk, "final")
    return (judgement.issue.pk, judgement.username, judgement.field.pk, "annotation")


def _stored_form(judgement: _Judgement) -> tuple:
    return (_cleaned(judgement), judgement.kind == "annotation" and judgement.uncertain, judgement.note)


def _same(a: tuple, b: tuple) -> bool:
    return same_value(a[0], b[0]) and a[1:] == b[1:]


# --- writing ---


def _write(study: Study, judgements: list[_Judgement], result: Result) -> None:
    users = {}
    for username in {j.username for j in judgements}:
        users[username] = _user(username, result.users_created)
    if result.choices_created:
        with codebook_change(study, summary="Choices added by an annotation upload"):
            for key_value in result.choices_created:
                key, value = key_value.split(": ", 1)
                field = study.fields.get(key=key)
                position = max(field.choices.values_list("position", flat=True), default=-1) + 1
                Choice.objects.create(field=field, value=value, label=value, position=position)
    codebook_version = current_number(study.pk)
    study.add_issues({j.issue.pk for j in judgements})
    now = timezone.now()
    touched: dict[tuple, Assignment] = {}
    for judgement in judgements:
        user, field, value = users[judgement.username], judgement.field, _cleaned(judgement)
        study_issue = StudyIssue.objects.get(study=study, issue=judgement.issue)
        if judgement.kind == "final":
            Membership.objects.get_or_create(study=study, user=user, role=Membership.Role.ADJUDICATOR)
            _move_to(study_issue, IssueStage.RECONCILIATION)
            final = FinalValue.objects.filter(study_issue=study_issue, field=field).first()
            if final is None or not _same((final.value, False, final.rationale), _stored_form(judgement)):
                FinalValue.objects.update_or_create(
                    study_issue=study_issue,
                    field=field,
                    defaults={
                        "value": value,
                        "rationale": judgement.note,
                        "set_by": user,
                        "codebook_version": codebook_version,
                    },
                )
            result.final_values += 1
            continue
        Membership.objects.get_or_create(study=study, user=user, role=Membership.Role.ANNOTATOR)
        _move_to(study_issue, IssueStage(field.stage))
        assignment, _ = Assignment.objects.get_or_create(
            study=study, issue=judgement.issue, annotator=user, stage=field.stage
        )
        annotation = Annotation.objects.filter(assignment=assignment, field=field).first()
        if annotation is None or not _same(
            (annotation.value, annotation.uncertain, annotation.note), _stored_form(judgement)
        ):
            Annotation.objects.update_or_create(
                assignment=assignment,
                field=field,
                defaults={
                    "value": value,
                    "uncertain": judgement.uncertain,
                    "note": judgement.note,
                    "codebook_version": codebook_version,
                },
            )
        touched[(judgement.issue.pk, user.pk, field.stage)] = assignment
        result.annotations += 1
    for assignment in touched.values():
        if assignment.status != Assignment.Status.SUBMITTED:
            assignment.status = Assignment.Status.SUBMITTED
            assignment.started_at, assignment.submitted_at = assignment.started_at or now, now
            assignment.save(update_fields=["status", "started_at", "submitted_at"])
        after_submit(assignment)  # the last one of an issue moves it on, as in the browser


def _move_to(study_issue: StudyIssue, stage: str) -> None:
    """Forward only: an annotation of a later stage moves the issue there (the history records it)."""
    if STAGE_ORDER.index(stage) > STAGE_ORDER.index(study_issue.stage):
        study_issue.stage = stage
        study_issue.save(update_fields=["stage"])  # the database raises its version (studies/versions.py)


def _user(username: str, created: list[str]):
    User = get_user_model()
    if username not in created:
        return User.objects.get(username=username)
    user = User.objects.create_user(username, is_active=False)  # no password: it cannot log in
    user.groups.add(Group.objects.get_or_create(name=IMPORTED_GROUP)[0])
    return user
