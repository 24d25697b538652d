"""The labelled dataset: one row per issue of the study with its decision and final values.

Rows are produced a chunk of issues at a time, so memory stays flat however
large the study. A download leaves out what is still blind to its viewer
(studies/access.py); CSV goes through annotator/csv_writer.py, which
neutralises formulas.
"""

import json
from collections.abc import Iterable, Iterator
from itertools import batched

from studies.access import StudyAccess
from studies.models import (
    OTHER_PREFIX,
    Annotation,
    Assignment,
    CodebookField,
    FinalValue,
    Stage,
    Study,
    StudyIssue,
)

CHUNK = 2_000


def wide_columns(study: Study, *, with_annotators: bool = False) -> list[str]:
    """The header: the issue, its decision, then each labelling field in codebook order."""
    columns = ["repository", "number", "url", "title", "stage", "decision", "exclusion_reason", "duplicate_of"]
    for field in _fields(study):
        columns += [*_field_columns(field), f"{field.key}_source"]
        if with_annotators:
            columns += [f"{field.key}__{username}" for username in _annotators(study)]
    return columns


def wide_rows(access: StudyAccess, *, with_annotators: bool = False) -> Iterator[list]:
    """One row per issue of the study, in the order of wide_columns(); final values and each annotator's submitted
    values only where the viewer may see them."""
    study = access.study
    hidden = access.hidden_study_issue_ids
    fields = _fields(study)
    annotators = _annotators(study) if with_annotators else []
    study_issues = (
        StudyIssue.objects.filter(study=study)
        .select_related("issue__repository", "duplicate_of__repository")
        .defer(
            "issue__body",
            "issue__body_html",
            "issue__payload",
            "duplicate_of__body",
            "duplicate_of__body_html",
            "duplicate_of__payload",
        )
        .order_by("issue__repository__owner", "issue__repository__name", "issue__number")
    )
    for chunk in batched(study_issues.iterator(chunk_size=CHUNK), CHUNK):
        shown = [study_issue for study_issue in chunk if study_issue.pk not in hidden]
        finals = final_values(shown)
        labels = _labels(study, shown) if with_annotators else {}
        for study_issue in chunk:
            issue = study_issue.issue
            duplicate = study_issue.duplicate_of
            row = [
                issue.repository.full_name,
                issue.number,
                issue.html_url,
                issue.title,
                study_issue.stage,
                study_issue.get_decision_display() if study_issue.decision else "",
                study_issue.reason,
                f"{duplicate.repository.full_name}#{duplicate.number}" if duplicate else "",
            ]
            for field in fields:
                value, source = finals.get((study_issue.pk, field.pk), (None, ""))
                row += [*_cells(field, value), source]
                for username in annotators:
                    row.append(cell_text(labels.get((issue.pk, field.pk, username))))
            yield row


LONG_COLUMNS = ["issue", "annotator", "field", "value", "uncertain", "note", "kind", "stage", "comment", "source"]


def long_rows(access: StudyAccess) -> Iterator[list]:
    """One row per (issue, annotator, field, value): submitted annotations, then final values (kind "final",
    the annotator being who set it), in exactly the format `import_annotations` reads; without what is still
    blind to the viewer."""
    study = access.study
    annotations = (
        Annotation.objects.filter(
            assignment__study=study,
            assignment__status=Assignment.Status.SUBMITTED,
            assignment__purpose=Assignment.Purpose.REAL,  # never training or check answers on gold issues
            value__isnull=False,
        )
        .exclude(assignment__in=access.hidden_assignments())
        .select_related("field", "assignment__annotator", "assignment__issue__repository")
        .order_by("assignment__issue_id", "assignment__annotator__username", "field__position")
    )
    for annotation in annotations.iterator(chunk_size=CHUNK):
        issue = annotation.assignment.issue
        for value, comment in _long_values(annotation.field, annotation.value):
            yield [
                f"{issue.repository.full_name}#{issue.number}",
                annotation.assignment.annotator.username,
                annotation.field.key,
                value,
                "1" if annotation.uncertain else "",
                annotation.note,
                "annotation",
                annotation.field.stage,
                comment,
                "",
            ]
    finals = (
        FinalValue.objects.filter(study_issue__in=access.revealed_issues(), value__isnull=False)
        .select_related("field", "set_by", "study_issue__issue__repository")
        .order_by("study_issue__issue_id", "field__position")
    )
    for final in finals.iterator(chunk_size=CHUNK):
        issue = final.study_issue.issue
        for value, comment in _long_values(final.field, final.value):
            yield [
                f"{issue.repository.full_name}#{issue.number}",
                final.set_by.username if final.set_by else "",
                final.field.key,
                value,
                "",
                final.rationale,
                "final",
                final.field.stage,
                comment,
                final.source,
            ]


def _long_values(field: CodebookField, value) -> list[tuple[str, str]]:
    """(value, comment) cells: a row per item of a list, yes/no and its comment for a vote."""
    if isinstance(value, dict) and "vote" in value:
        return [("yes" if value["vote"] else "no", value.get("comment", ""))]
    items = value if isinstance(value, list) else [value]
    return [(cell_text(item), "") for item in items]


def json_lines(columns: list[str], rows: Iterable[list]) -> Iterator[str]:
    """A JSON array of objects, an object at a time."""
    yield "["
    for number, row in enumerate(rows):
        yield (",\n" if number else "\n") + json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
    yield "\n]\n"


# --- helpers ---


def _fields(study: Study) -> list[CodebookField]:
    return list(study.fields.filter(stage=Stage.LABELLING).order_by("position", "id"))


def _annotators(study: Study) -> list[str]:
    return sorted(
        set(
            Assignment.objects.real()
            .filter(study=study, stage=Stage.LABELLING)
            .values_list("annotator__username", flat=True)
        )
    )


def _field_columns(field: CodebookField) -> list[str]:
    """A multiple-choice field gets a column per possible value: <key>_1 … <key>_<max>."""
    if field.kind == CodebookField.Kind.MULTIPLE:
        count = field.max_choices or field.choices.count()
        return [f"{field.key}_{number}" for number in range(1, count + 1)]
    return [field.key]


def _cells(field: CodebookField, value) -> list[str]:
    if field.kind == CodebookField.Kind.MULTIPLE:
        values = value if isinstance(value, list) else []
        count = len(_field_columns(field))
        return [cell_text(item) for item in values[:count]] + [""] * (count - len(values[:count]))
    return [cell_text(value)]


def cell_text(value, *, joiner: str = "\n") -> str:
    """A stored value as a cell: choices and levels as they are, lists one a line (or joined by `joiner`), Other
    as its text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return joiner.join(cell_text(item) for item in value)
    if isinstance(value, dict):
        if "other" in value:
            return OTHER_PREFIX + value["other"]
        if "vote" in value:
            return ("yes" if value["vote"] else "no") + (f": {value['comment']}" if value.get("comment") else "")
    return str(value)


def final_values(chunk: list[StudyIssue]) -> dict[tuple[int, int], tuple[object, str]]:
    """(value, source) of each final value of the chunk's issues."""
    rows = FinalValue.objects.filter(study_issue__in=chunk).values_list(
        "study_issue_id", "field_id", "value", "source"
    )
    return {(study_issue, field): (value, source) for study_issue, field, value, source in rows}


def _labels(study: Study, shown: list[StudyIssue]) -> dict[tuple[int, int, str], object]:
    """Each annotator's submitted values on the issues shown."""
    rows = Annotation.objects.filter(
        assignment__study=study,
        assignment__stage=Stage.LABELLING,
        assignment__status=Assignment.Status.SUBMITTED,
        assignment__purpose=Assignment.Purpose.REAL,
        assignment__issue_id__in=[study_issue.issue_id for study_issue in shown],
    ).values_list("assignment__issue_id", "field_id", "assignment__annotator__username", "value")
    return {(issue, field, username): value for issue, field, username, value in rows}
