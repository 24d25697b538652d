"""Models measured against the humans, field by field (the agreement page's "with models" view).

Over the issues revealed to the reader that at least two humans rated (agreement/ratings.py), with each model's
latest value on them:

- pairs: Krippendorff's α of every two raters — human–human, each model with each human and with the final
  values, model–model — with 95 % bootstrap intervals;
- the swap test (after He et al. 2025): α of the human pool against α of the pool with a model in the place of
  each human in turn, and a paired bootstrap interval of the difference;
- confidence triage (after Ahmed et al. 2025): each model's agreement with the final values on the items its
  samples agreed on at least the threshold, and below it, and how many items are above;
- the gate the owner set for the field, met or not: model–model α at least its minimum, and every swap
  difference's interval within ± its margin.
"""

from dataclasses import dataclass, field
from itertools import combinations

from agreement import coefficients as c
from agreement.ratings import field_ratings, final_ratings, issue_ids, rating
from llm.models import ModelAnswer, ModelGate, ModelRater
from studies.access import StudyAccess
from studies.models import CodebookField
from studies.suggestions import Suggestion

REPS = 1000


@dataclass
class Pair:
    first: str
    second: str
    kind: str  # "human–human", "model–human", "model–final", "model–model"
    alpha: c.Coefficient
    interval: c.Interval | None


@dataclass
class Swap:
    model: str
    replaced: str
    humans: c.Coefficient  # α of the human pool
    swapped: c.Coefficient  # α with the model in the place of `replaced`
    interval: c.Interval  # of swapped − humans

    @property
    def difference(self) -> float | None:
        if self.humans.value is None or self.swapped.value is None:
            return None
        return self.swapped.value - self.humans.value


@dataclass
class Triage:
    model: str
    threshold: float
    above: int
    below: int
    alpha_above: c.Coefficient
    alpha_below: c.Coefficient


@dataclass
class GateVerdict:
    gate: ModelGate
    model_model: bool | None  # None: fewer than two models rate the field
    swaps: bool | None  # None: no swap could be computed
    reasons: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return bool(self.model_model) and bool(self.swaps)


@dataclass
class FieldComparison:
    field: CodebookField
    items: int
    humans: list[str]
    models: list[str]
    pairs: list[Pair]
    swaps: list[Swap]
    triage: list[Triage]
    verdict: GateVerdict | None
    gate: ModelGate | None  # the owner's, if set
    threshold: float  # from which a model's answer counts as sure: the gate's, or the default


def model_values(rater: ModelRater, field_: CodebookField, issues: list[int]) -> tuple[dict, dict]:
    """({issue id: value as a category}, {issue id: confidence}): the rater's latest valid answer on each issue."""
    answers = (
        ModelAnswer.objects.filter(rater=rater, field=field_, study_issue__issue_id__in=issues, value__isnull=False)
        .order_by("study_issue_id", "-id")
        .distinct("study_issue_id")
        .values_list("study_issue__issue_id", "value", "confidence")
    )
    values, confidences = {}, {}
    for issue_id, value, confidence in answers:
        values[issue_id] = rating(field_, value)
        confidences[issue_id] = confidence
    return values, confidences


def gate_of(field_: CodebookField) -> tuple[ModelGate | None, float]:
    """The field's gate, if the owner set one, and the confidence from which a model counts as sure."""
    gate = ModelGate.objects.filter(field=field_).first()
    return gate, gate.confidence_threshold if gate else ModelGate.confidence_threshold.field.default


def compare(access: StudyAccess, field_: CodebookField, *, reps: int = REPS) -> FieldComparison:
    study = access.study
    humans = field_ratings(study, field_, issues=issue_ids(access.revealed_issues()))
    raters = list(study.model_raters.filter(fields=field_).order_by("name"))
    level = "masi" if field_.kind == CodebookField.Kind.MULTIPLE else humans.level
    options = {"level": level, "scale": humans.scale}

    def alpha(rows) -> tuple[c.Coefficient, c.Interval]:
        return c.krippendorff_alpha(rows, **options), c.bootstrap_interval(
            c.krippendorff_alpha, rows, reps=reps, **options
        )

    columns = {coder: [row[i] for row in humans.rows] for i, coder in enumerate(humans.coders)}
    finals = final_ratings(study, field_, humans.units)
    models, confidences = {}, {}
    for rater in raters:
        values, confidence = model_values(rater, field_, humans.units)
        models[rater.name] = [values.get(unit) for unit in humans.units]
        confidences[rater.name] = [confidence.get(unit) for unit in humans.units]
    final_column = [finals.get(unit) for unit in humans.units]

    pairs = []
    for (first, a), (second, b), kind in _pairings(columns, models, final_column):
        rows = [[x, y] for x, y in zip(a, b, strict=True) if x is not None and y is not None]
        value, interval = alpha(rows) if rows else (c.krippendorff_alpha([]), None)
        pairs.append(Pair(first, second, kind, value, interval))

    swaps = []
    pool = humans.rows
    for name, column in models.items():
        for index, human in enumerate(humans.coders):
            swapped = [[*row[:index], column[u], *row[index + 1 :]] for u, row in enumerate(pool)]
            swaps.append(
                Swap(
                    name,
                    human,
                    c.krippendorff_alpha(pool, **options),
                    c.krippendorff_alpha(swapped, **options),
                    c.paired_bootstrap_difference(c.krippendorff_alpha, pool, swapped, reps=reps, **options),
                )
            )

    gate, threshold = gate_of(field_)
    triage = []
    for name, column in models.items():
        sure = [
            [v, f]
            for v, f, k in zip(column, final_column, confidences[name], strict=True)
            if _both(v, f) and k >= threshold
        ]
        unsure = [
            [v, f]
            for v, f, k in zip(column, final_column, confidences[name], strict=True)
            if _both(v, f) and k < threshold
        ]
        triage.append(
            Triage(
                name,
                threshold,
                len(sure),
                len(unsure),
                c.krippendorff_alpha(sure, **options),
                c.krippendorff_alpha(unsure, **options),
            )
        )
    return FieldComparison(
        field=field_,
        items=len(humans.units),
        humans=humans.coders,
        models=list(models),
        pairs=pairs,
        swaps=swaps,
        triage=triage,
        verdict=_verdict(gate, pairs, swaps) if gate else None,
        gate=gate,
        threshold=threshold,
    )


def _both(a, b) -> bool:
    return a is not None and b is not None


def _pairings(humans: dict, models: dict, finals: list):
    for (a, x), (b, y) in combinations(humans.items(), 2):
        yield (a, x), (b, y), "human–human"
    for name, column in models.items():
        for human, values in humans.items():
            yield (name, column), (human, values), "model–human"
        yield (name, column), ("final values", finals), "model–final"
    for (a, x), (b, y) in combinations(models.items(), 2):
        yield (a, x), (b, y), "model–model"


def _verdict(gate: ModelGate, pairs: list[Pair], swaps: list[Swap]) -> GateVerdict:
    reasons = []
    between_models = [pair for pair in pairs if pair.kind == "model–model"]
    if not between_models:
        model_model = None
        reasons.append("Model–model agreement needs two model raters on this field.")
    else:
        low = [p for p in between_models if p.alpha.value is None or p.alpha.value < gate.min_model_alpha]
        model_model = not low
        for pair in low:
            shown = "undefined" if pair.alpha.value is None else f"{pair.alpha.value:.3f}"
            reasons.append(f"α of {pair.first} and {pair.second} is {shown}, below {gate.min_model_alpha:.2f}.")
    if not swaps:
        swap_ok = None
        reasons.append("No swap test: the field needs a model and at least two humans on the same issues.")
    else:
        outside = [
            s
            for s in swaps
            if s.interval.low is None or s.interval.low < -gate.swap_margin or s.interval.high > gate.swap_margin
        ]
        swap_ok = not outside
        for swap in outside:
            if swap.interval.low is None:
                reasons.append(
                    f"Putting {swap.model} in the place of {swap.replaced}: no interval ({swap.interval.reason})."
                )
            else:
                reasons.append(
                    f"{swap.model} in the place of {swap.replaced} changes α by [{swap.interval.low:+.3f}, "
                    f"{swap.interval.high:+.3f}], not within ±{gate.swap_margin:.2f}."
                )
    return GateVerdict(gate, model_model, swap_ok, reasons)


def items_for_humans(study, field_: CodebookField, threshold: float) -> list:
    """The field's issues at its stage that its models disagree on, are unsure of (confidence below `threshold`)
    or failed on: the ones to hand to human annotators."""
    latest = (
        ModelAnswer.objects.filter(rater__study=study, field=field_, study_issue__stage=field_.stage)
        .order_by("rater_id", "study_issue_id", "-id")
        .distinct("rater_id", "study_issue_id")
        .values_list("study_issue_id", "value", "confidence")
    )
    by_issue: dict[int, list] = {}
    for study_issue_id, value, confidence in latest:
        by_issue.setdefault(study_issue_id, []).append((value, confidence))
    chosen = [
        study_issue_id
        for study_issue_id, answers in by_issue.items()
        if any(value is None or confidence < threshold for value, confidence in answers)
        or len({repr(rating(field_, value)) for value, _ in answers}) > 1
    ]
    return list(study.study_issues.filter(pk__in=chosen).select_related("issue").order_by("pk"))


def reconciliation_suggestions(study_issue) -> dict[int, list]:
    """The latest value of each model rater that allows it, on each of its fields of the issue, as suggestions
    for the final values (studies/suggestions.py asks only once the reveal rule lets the reader see them)."""
    answers = (
        ModelAnswer.objects.filter(study_issue=study_issue, rater__suggest_in_reconciliation=True, value__isnull=False)
        .select_related("rater")
        .order_by("rater_id", "field_id", "-id")
        .distinct("rater_id", "field_id")
    )
    found: dict[int, list] = {}
    for answer in answers:
        note = f"{answer.confidence:.0%} of its {answer.rater.samples} samples" if answer.confidence else ""
        found.setdefault(answer.field_id, []).append(Suggestion(answer.rater.name, answer.value, note))
    return found
