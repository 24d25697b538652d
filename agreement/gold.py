"""Annotators against gold (studies/gold.py): per field, the accuracy and Cohen's kappa of each annotator's
training or check answers with the reference answers as the second coder."""

from dataclasses import dataclass

from agreement.coefficients import Coefficient, cohen_kappa
from agreement.ratings import LEVELS, rating
from studies.gold import GoldWork, accuracy, gold_fields, gold_work, overall_accuracy, passes
from studies.models import Assignment, CodebookField, Study


@dataclass
class FieldScore:
    field: CodebookField
    items: int  # submitted gold issues with a reference answer for the field
    accuracy: float | None
    kappa: Coefficient | None  # None for fields without categories (free text, URLs…)


@dataclass
class Score:
    annotator: str
    submitted: int
    assigned: int
    accuracy: float | None
    fields: list[FieldScore]
    passed: bool | None  # training only: whether the study's threshold is met


def scores(study: Study, purpose: str) -> list[Score]:
    fields = gold_fields(study)
    training = purpose == Assignment.Purpose.TRAINING
    return [
        Score(
            work.annotator,
            work.submitted,
            work.assigned,
            overall_accuracy(work),
            [_field_score(field, work) for field in fields],
            passes(study, work, fields) if training else None,
        )
        for work in gold_work(study, purpose)
    ]


def _field_score(field: CodebookField, work: GoldWork) -> FieldScore:
    """No answer is wrong for accuracy, and a missing rating for kappa."""
    pairs = work.pairs.get(field.pk, [])
    kappa = None
    if field.kind in LEVELS and pairs:
        kappa = cohen_kappa([[None if own is None else rating(field, own), rating(field, ref)] for own, ref in pairs])
    return FieldScore(field, len(pairs), accuracy(pairs), kappa)
