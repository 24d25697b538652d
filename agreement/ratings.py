"""A field's ratings, gathered from the database for the coefficients (agreement/coefficients.py).

One query per field. Only submitted assignments count: a value an annotator is
still editing is not a judgement yet. Imported annotations count exactly like
those made in the browser.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from studies.models import OTHER_PREFIX, Annotation, Assignment, CodebookField, FinalValue, Study

# The coefficients' level of measurement for each kind of field that has one.
LEVELS = {
    CodebookField.Kind.SINGLE: "nominal",
    CodebookField.Kind.MULTIPLE: "nominal",  # values are sets; alpha uses the MASI distance
    CodebookField.Kind.VOTE: "nominal",
    CodebookField.Kind.ORDINAL: "ordinal",
}


@dataclass
class FieldRatings:
    field: CodebookField
    level: str
    scale: list | None  # an ordinal field's declared levels, in order (also those nobody used)
    coders: list[str]  # usernames, sorted
    units: list[int]  # issue ids, sorted
    rows: list[list]  # units × coders; None where a coder gave no rating
    # The field's values in order, and any "Other" text given: the categories of the diagnostics (None for multiple
    # choice, whose values are sets); and how people read each value.
    categories: list | None = None
    labels: dict | None = None

    @property
    def ratings(self) -> int:
        return sum(value is not None for row in self.rows for value in row)


def field_ratings(
    study: Study,
    field: CodebookField,
    *,
    annotators: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    issues: list[int] | None = None,
    since_version: int | None = None,
) -> FieldRatings:
    """The ratings of the field on the issues that at least two of the chosen annotators rated.

    `annotators` restricts to those usernames; `since` and `until` to assignments submitted in that window
    (to compare calibration rounds); `issues` (issue ids, `issue_ids()`) to those, e.g. the issues revealed to a
    viewer (`StudyIssue.objects.revealed_to(access)`): a report must not give away values still blind to its
    reader.
    `since_version`: only answers given (or re-checked) under that codebook version or a later one.
    """
    if field.kind not in LEVELS:
        raise ValueError(f"{field.label} is {field.get_kind_display()}: agreement needs choices, levels or votes.")
    # One join, unordered: Annotation's default ordering would join five more tables and sort, and an IN over a
    # subquery of assignments let the planner, misled by fresh tables' statistics, loop for minutes (a test run).
    answers = Annotation.objects.filter(
        assignment__study=study,
        assignment__stage=field.stage,
        assignment__status=Assignment.Status.SUBMITTED,
        # Training and check answers on gold issues are scored against gold (studies/gold.py), never counted here.
        assignment__purpose=Assignment.Purpose.REAL,
        field=field,
        value__isnull=False,
    ).order_by()
    if annotators is not None:
        answers = answers.filter(assignment__annotator__username__in=annotators)
    if since is not None:
        answers = answers.filter(assignment__submitted_at__gte=since)
    if until is not None:
        answers = answers.filter(assignment__submitted_at__lt=until)
    if issues is not None:
        answers = answers.filter(assignment__issue_id__in=issues)
    if since_version is not None:
        answers = answers.filter(codebook_version__gte=since_version)
    # Values as their JSON text, each distinct one decoded once: a field has few, a study many answers.
    answers = answers.values_list(
        "assignment__issue_id", "assignment__annotator__username", Cast("value", output_field=TextField())
    )
    decoded: dict[str, object] = {}
    by_unit: dict[int, dict[str, object]] = {}
    for issue_id, username, text in answers:
        if text not in decoded:
            decoded[text] = rating(field, json.loads(text))
        by_unit.setdefault(issue_id, {})[username] = decoded[text]
    units = sorted(issue for issue, given in by_unit.items() if len(given) >= 2)
    coders = sorted({username for issue in units for username in by_unit[issue]})
    rows = [[by_unit[issue].get(coder) for coder in coders] for issue in units]
    if field.kind == CodebookField.Kind.VOTE:
        labels = {"no": "no", "yes": "yes"}
    else:
        # As annotations store them: an ordinal field's numeric levels as numbers (CodebookField.clean_value).
        ordinal = field.kind == CodebookField.Kind.ORDINAL
        labels = {
            int(value) if ordinal and value.isdigit() else value: label
            for value, label in field.choices.values_list("value", "label")
        }
    scale = sorted(labels) or None if field.kind == CodebookField.Kind.ORDINAL else None
    categories = None
    if field.kind != CodebookField.Kind.MULTIPLE:
        given = {value for row in rows for value in row if value is not None}
        categories = (scale or list(labels)) + sorted(given - labels.keys(), key=str)
    return FieldRatings(
        field=field,
        level=LEVELS[field.kind],
        scale=scale,
        coders=coders,
        units=units,
        rows=rows,
        categories=categories,
        labels=labels,
    )


def issue_ids(study_issues: QuerySet) -> list[int]:
    """The StudyIssues' issue ids as a list, read once for all of a report's fields. Nested as a subquery instead,
    the reveal rule's own subqueries let the planner, misled by stale table statistics, loop over them once per
    answer: a test run's agreement page over the paper's 3,504 screening votes took 25 minutes."""
    return list(study_issues.values_list("issue_id", flat=True))


def rating(field: CodebookField, value):
    """A stored value as a category: a choice value, a level, "yes"/"no", a set of choices; Other by its text."""
    if field.kind == CodebookField.Kind.MULTIPLE:
        return frozenset(_category(item) for item in value)
    if field.kind == CodebookField.Kind.VOTE:
        return "yes" if value.get("vote") else "no"
    return _category(value)


def _category(value):
    return OTHER_PREFIX + value["other"] if isinstance(value, dict) and "other" in value else value


def final_ratings(study: Study, field: CodebookField, units: list[int]) -> dict[int, object]:
    """{issue id: the field's final value, as a category} for those of the issues that have one."""
    finals = FinalValue.objects.filter(
        study_issue__study=study, study_issue__issue_id__in=units, field=field, value__isnull=False
    ).values_list("study_issue__issue_id", "value")
    return {issue_id: rating(field, value) for issue_id, value in finals}
