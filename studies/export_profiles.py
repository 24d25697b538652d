"""Export profiles: the labelled dataset laid out as a paper or a journal wants it, saved per study under a name.

A profile says which columns, in which order, under which headers; the separator, what an empty cell says, how
the values of a list join in one cell, whether only the included issues go in, and in which order. A column holds
one of SOURCES, the final value of a field (`final:<key>`), or one value of a multiple-choice field
(`final:<key>:<n>`, the paper's "Final Component 1" and "Final Component 2"). The rows leave out what is still
blind to the viewer (studies/access.py), as every download does; the CSV goes through annotator/csv_writer.py.
"""

from collections.abc import Iterator
from itertools import batched

from django.db import IntegrityError, transaction

from annotator.csv_writer import csv_lines
from studies.access import StudyAccess
from studies.exports import CHUNK, cell_text, final_values
from studies.models import CodebookField, ExportProfile, Study, StudyIssue

# What a column may hold besides final values: the running number and the columns of the standard export.
SOURCES = {
    "running_number": "1, 2, 3… over the rows written",
    "repository": "owner/name",
    "number": "the issue's number on GitHub",
    "url": "the issue's address on GitHub",
    "title": "the issue's title",
    "stage": "where the issue is in the study",
    "decision": "included or excluded",
    "exclusion_reason": "why it was excluded",
    "duplicate_of": "the issue it duplicates",
}
FINAL = "final:"
SETTINGS = ("separator", "empty", "joiner", "included_only", "bom", "order", "line_end")
LINE_ENDS = {ExportProfile.LineEnd.CRLF: "\r\n", ExportProfile.LineEnd.LF: "\n"}
MAX_HEADER = 200


class ProfileError(ValueError):
    """A profile that is refused; `field` names the setting at fault (`name`, `columns`, `separator`, …)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@transaction.atomic
def profile_save(study: Study, data: dict, *, profile: ExportProfile | None = None) -> ExportProfile:
    """Create a profile from `data` (name, columns and the SETTINGS), or change `profile`; checked first."""
    profile = profile or ExportProfile(study=study)
    name = data.get("name", profile.name)
    if not isinstance(name, str) or not name.strip():
        raise ProfileError("Give the profile a name.", field="name")
    profile.name = _text(name.strip(), "The name", 100, "name")
    if study.export_profiles.filter(name=profile.name).exclude(pk=profile.pk).exists():
        raise ProfileError(f"There is a profile “{profile.name}” already.", field="name")
    profile.columns = checked_columns(study, data.get("columns", profile.columns))
    for name in SETTINGS:
        if name in data:
            setattr(profile, name, data[name])
    _check_settings(profile)
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:  # the same name saved meanwhile
        raise ProfileError(f"There is a profile “{profile.name}” already.", field="name") from None
    return profile


def profile_dict(profile: ExportProfile) -> dict:
    """The profile as a codebook file holds it (studies/codebook.py)."""
    return {"name": profile.name, "columns": profile.columns, **{name: getattr(profile, name) for name in SETTINGS}}


def profiles_using(field: CodebookField) -> list[str]:
    """The names of the study's profiles with a column of the field (which therefore stays)."""
    return [
        profile.name
        for profile in field.study.export_profiles.all()
        if any(_final(column["value"])[0] == field.key for column in profile.columns)
    ]


def checked_columns(study: Study, columns) -> list[dict]:
    """The columns, each {"value", "header"}, checked against the study's codebook; ProfileError naming the column."""
    if not isinstance(columns, list) or not columns:
        raise ProfileError("A profile needs at least one column.", field="columns")
    fields = {field.key: field for field in study.fields.prefetch_related("choices")}
    checked = []
    for number, column in enumerate(columns, 1):
        where = f"Column {number}"
        if not isinstance(column, dict) or not isinstance(column.get("value"), str):
            raise ProfileError(f'{where}: give what it holds as "value" (text).', field="columns")
        value = column["value"].strip()
        header = column.get("header")
        header = value if header is None or header == "" else header
        if not isinstance(header, str):
            raise ProfileError(f"{where}: its header must be text.", field="columns")
        _check_source(value, fields, where)
        checked.append({"value": value, "header": _text(header, f"{where}: the header", MAX_HEADER, "columns")})
    return checked


def columns_text(columns: list[dict]) -> str:
    """The columns as the profile form shows them: one a line, `what it holds = header`."""
    return "\n".join(f"{column['value']} = {column['header']}" for column in columns)


def columns_from_text(text: str) -> list[dict]:
    """The inverse of columns_text(); a line without `=` takes what it holds as its header."""
    columns = []
    for line in text.splitlines():
        if line.strip():
            value, _, header = line.partition("=")
            columns.append({"value": value.strip(), "header": header.strip()})
    return columns


def profile_lines(access: StudyAccess, profile: ExportProfile) -> Iterator[str]:
    """The profile's CSV, a line at a time."""
    headers = [column["header"] for column in profile.columns]
    rows = profile_rows(access, profile)
    return csv_lines(
        headers, rows, excel=profile.bom, delimiter=profile.separator, lineterminator=LINE_ENDS[profile.line_end]
    )


def profile_rows(access: StudyAccess, profile: ExportProfile) -> Iterator[list[str]]:
    """One row per issue (only the included ones if the profile says so), in the profile's order and columns."""
    study = access.study
    hidden = access.hidden_study_issue_ids
    fields = {field.key: field for field in study.fields.all()}
    study_issues = StudyIssue.objects.filter(study=study).select_related(
        "issue__repository", "duplicate_of__repository"
    )
    if profile.included_only:
        study_issues = study_issues.filter(decision=StudyIssue.Decision.INCLUDE)
    if profile.order == ExportProfile.Order.ADDED:
        study_issues = study_issues.order_by("id")
    else:
        study_issues = study_issues.order_by("issue__repository__owner", "issue__repository__name", "issue__number")
    study_issues = study_issues.defer("issue__body", "issue__body_html", "issue__payload")
    running = 0
    for chunk in batched(study_issues.iterator(chunk_size=CHUNK), CHUNK):
        finals = final_values([study_issue for study_issue in chunk if study_issue.pk not in hidden])
        for study_issue in chunk:
            running += 1
            row = []
            for column in profile.columns:
                cell = _cell(column["value"], study_issue, running, finals, fields, profile.joiner)
                row.append(profile.empty if cell in (None, "") else cell)
            yield row


# --- helpers ---


def _final(source: str) -> tuple[str | None, str]:
    """The key of the field a column draws on (None for the other SOURCES), and which of its values ("": all)."""
    if not source.startswith(FINAL):
        return None, ""
    key, _, nth = source.removeprefix(FINAL).partition(":")
    return key, nth


def _cell(source: str, study_issue: StudyIssue, running: int, finals: dict, fields: dict, joiner: str):
    key, nth = _final(source)
    if key is not None:
        field = fields[key]
        value, _source = finals.get((study_issue.pk, field.pk), (None, ""))
        if nth:
            values = value if isinstance(value, list) else []
            value = values[int(nth) - 1] if int(nth) <= len(values) else None
        return cell_text(value, joiner=joiner)
    issue, duplicate = study_issue.issue, study_issue.duplicate_of
    return {
        "running_number": running,
        "repository": issue.repository.full_name,
        "number": issue.number,
        "url": issue.html_url,
        "title": issue.title,
        "stage": study_issue.stage,
        "decision": study_issue.get_decision_display() if study_issue.decision else "",
        "exclusion_reason": study_issue.reason,
        "duplicate_of": f"{duplicate.repository.full_name}#{duplicate.number}" if duplicate else "",
    }[source]


def _check_source(value: str, fields: dict[str, CodebookField], where: str) -> None:
    if value in SOURCES:
        return
    if not value.startswith(FINAL):
        raise ProfileError(
            f"{where}: “{value}” is not something a column can hold; it holds one of {', '.join(SOURCES)}, "
            f"or {FINAL}<field key>, or {FINAL}<key>:<n> for the n-th value of a multiple-choice field.",
            field="columns",
        )
    key, nth = _final(value)
    field = fields.get(key)
    if field is None:
        raise ProfileError(
            f"{where}: the codebook has no field “{key}”; its fields are {', '.join(fields) or 'none yet'}.",
            field="columns",
        )
    if not nth:
        return
    if field.kind != CodebookField.Kind.MULTIPLE:
        raise ProfileError(
            f"{where}: only a multiple-choice field's values are numbered; {key} is {field.get_kind_display()}.",
            field="columns",
        )
    most = field.max_choices or len(field.choices.all())
    if not (nth.isascii() and nth.isdigit() and 1 <= int(nth) <= most):
        raise ProfileError(f"{where}: {key} holds values 1 to {most}, not “{nth}”.", field="columns")


def _check_settings(profile: ExportProfile) -> None:
    separator = profile.separator
    if not isinstance(separator, str) or len(separator) != 1:
        raise ProfileError(f"The separator is one character, not {separator!r}.", field="separator")
    if separator in '"\r\n' or separator.isalnum():
        raise ProfileError(
            f"The separator cannot be {separator!r}: a quote, a line break, a letter or a digit would be read as "
            "part of a cell.",
            field="separator",
        )
    for name, what, most in (("empty", "The text for an empty cell", 20), ("joiner", "The joiner of a list", 10)):
        value = getattr(profile, name)
        if not isinstance(value, str):
            raise ProfileError(f"{what} must be text.", field=name)
        _text(value, what, most, name)
    if name := next((name for name in ("included_only", "bom") if not isinstance(getattr(profile, name), bool)), None):
        raise ProfileError(f"{name} is true or false, not {getattr(profile, name)!r}.", field=name)
    for name, choices in (("order", ExportProfile.Order), ("line_end", ExportProfile.LineEnd)):
        if getattr(profile, name) not in choices.values:
            raise ProfileError(
                f"{name} is one of {', '.join(choices.values)}, not {getattr(profile, name)!r}.", field=name
            )


def _text(text: str, what: str, most: int, field: str) -> str:
    if "\x00" in text:
        raise ProfileError(f"{what} contains a NUL character (\\x00), which cannot be stored.", field=field)
    if len(text) > most:
        raise ProfileError(f"{what} is at most {most} characters, not {len(text)}.", field=field)
    return text
