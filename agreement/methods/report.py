"""The report's shape (sections of paragraphs and tables) and what its sections share (`Facts`, read once)."""

import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Prefetch

from agreement.intervals import REPLICATES, SEED
from agreement.report import report_of, study_ratings, study_report
from studies.access import StudyAccess
from studies.models import Annotation, Assignment, Choice, CodebookField, FinalValue, Stage, Study


class Quote(str):
    """Text from the study (a name, a label, a value, a note): the page isolates it (<bdi>), the downloads escape
    it as they escape everything."""

    quoted = True


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    key: str
    title: str
    # Each paragraph is a list of parts: our words (str) and the study's text (Quote).
    paragraphs: list[list[str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # False: the study holds no such data; the section says so, and the checklist counts the item as missing.
    recorded: bool = True


@dataclass
class Report:
    study: Study
    sections: list[Section]
    checklist: list  # checklist.Item

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def bounds(interval) -> str:
    return "" if not interval or None in interval else f" [{number(interval[0])}, {number(interval[1])}]"


class Facts:
    """What several sections and the checklist read, gathered once per report. Everything about values is read
    over the issues revealed to the viewer (StudyAccess): the report gives away nothing still blind to its reader."""

    def __init__(self, access: StudyAccess, intervals: dict | None):
        self.access, self.study, self.intervals = access, access.study, intervals

    @cached_property
    def fields(self) -> list[CodebookField]:
        choices = Prefetch("choices", queryset=Choice.objects.order_by("position", "id"))
        return list(self.study.fields.prefetch_related(choices).order_by("position", "id"))

    @cached_property
    def agreement(self) -> dict:
        """{field key: numbers} as agreement/report.py gives them, over the revealed issues."""
        return report_of(self.study, study_ratings(self.study, issues=self.access.revealed_issues()))["fields"]

    @cached_property
    def rated(self) -> dict[str, dict]:
        """{field key: {"annotators", "issues", "per_issue": (min, median, max)}} of the submitted answers."""
        answers = (
            Annotation.objects.filter(
                assignment__study=self.study,
                assignment__status=Assignment.Status.SUBMITTED,
                value__isnull=False,
            )
            .values("field__key", "assignment__issue")
            .annotate(raters=Count("assignment__annotator", distinct=True))
            .order_by()
        )
        per_issue: dict[str, list[int]] = {}
        for row in answers:
            per_issue.setdefault(row["field__key"], []).append(row["raters"])
        annotators = dict(
            Annotation.objects.filter(
                assignment__study=self.study, assignment__status=Assignment.Status.SUBMITTED, value__isnull=False
            )
            .values_list("field__key")
            .annotate(n=Count("assignment__annotator", distinct=True))
            .order_by()
        )
        return {
            key: {
                "annotators": annotators[key],
                "issues": len(counts),
                "per_issue": (min(counts), statistics.median(counts), max(counts)),
            }
            for key, counts in per_issue.items()
        }

    @cached_property
    def finals(self) -> Counter:
        """Final values of labelling fields by source, and those adjudicated with a rationale."""
        counts = Counter()
        rows = FinalValue.objects.filter(study_issue__study=self.study, field__stage=Stage.LABELLING).values_list(
            "source", "rationale"
        )
        for source, rationale in rows:
            counts[source] += 1
            if source == FinalValue.Source.ADJUDICATED and rationale.strip():
                counts["with_rationale"] += 1
        return counts


def report_intervals(access: StudyAccess) -> dict:
    """The 95 % bootstrap intervals over the issues revealed to the viewer, computed now (the command's way; the
    page asks agreement/intervals.py, which stores them)."""
    report = study_report(access.study, bootstrap=REPLICATES, seed=SEED, issues=access.revealed_issues())
    return {key: numbers["ci95"] for key, numbers in report["fields"].items()}
