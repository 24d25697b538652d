"""Calibration rounds: label a sample, measure agreement against a stop rule, sharpen the codebook, label again.

A round is a sample of the study's issues (random, or stratified by GitHub label or by a field's final value;
the seed makes it reproducible), given to some annotators as ordinary labelling assignments (studies/assignment.py),
so that every rule of blind labelling holds for them. An issue joins at most one round, and only while it is at
the labelling stage: agreement per round then compares rounds over different issues, and a round never re-uses
issues whose values the team has already discussed.

Its results (`round_results`) are the agreement of each of its fields over its issues only, with a 95 % bootstrap
interval, and whether the owner's stop rule is met. The methods report reads `rounds_summary`.
"""

import hashlib
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from agreement import coefficients as c
from agreement.intervals import REPLICATES, SEED
from agreement.ratings import LEVELS, FieldRatings, field_ratings, issue_ids, rating
from annotator.bidi import isolate
from studies.access import StudyAccess
from studies.assignment import annotators_of, assign_issues
from studies.codebook_versions import current_number
from studies.models import (
    Annotation,
    Assignment,
    CodebookField,
    CodebookVersion,
    FinalValue,
    IssueStage,
    Round,
    Stage,
    Study,
    StudyIssue,
)
from studies.workflow import display_value

NO_STRATUM = "—"  # the stratum of issues without the label, or without a final value


class RoundError(ValueError):
    """A round that is refused; `field` names the input at fault, so that the page shows the message beside it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- The sample ---


def eligible_issues(study: Study) -> QuerySet:
    """The StudyIssues a new round may draw: at the labelling stage, in no round yet, and not gold (their reference
    answers are shown in training: they would not measure the codebook)."""
    return (
        StudyIssue.objects.filter(study=study, stage=IssueStage.LABELLING)
        .exclude(rounds__isnull=False)
        .exclude(issue__in=study.gold_items.values("issue"))
    )


def round_fields(study: Study) -> QuerySet:
    """The fields a round can measure: labelling fields that have an agreement coefficient."""
    return study.fields.filter(stage=Stage.LABELLING, kind__in=list(LEVELS)).order_by("position", "id")


def strata(study: Study, pool: QuerySet, sampling: str, stratify_by: str) -> dict[str, list[int]]:
    """{stratum: StudyIssue ids, sorted}: one stratum for a random sample; else one per set of labels beginning with
    `stratify_by`, or per final value of the field `stratify_by`."""
    if sampling == Round.Sampling.RANDOM:
        return {"": sorted(pool.values_list("pk", flat=True))}
    groups: dict[str, list[int]] = {}
    if sampling == Round.Sampling.LABEL:
        for pk, labels in pool.values_list("pk", "issue__labels").order_by("pk"):
            chosen = sorted(label for label in labels if label.startswith(stratify_by))
            groups.setdefault(", ".join(chosen) or NO_STRATUM, []).append(pk)
        return groups
    field = study.fields.prefetch_related("choices").get(key=stratify_by)
    finals = dict(
        FinalValue.objects.filter(study_issue__in=pool, field=field, value__isnull=False).values_list(
            "study_issue_id", "value"
        )
    )
    for pk in pool.order_by("pk").values_list("pk", flat=True):
        groups.setdefault(display_value(finals[pk], field) if pk in finals else NO_STRATUM, []).append(pk)
    return groups


def draw_sample(groups: dict[str, list[int]], size: int, seed: int) -> list[int]:
    """`size` ids drawn without replacement, each stratum in proportion to its share (largest remainders get the
    seats left over); the same groups, size and seed always give the same sample."""
    total = sum(len(ids) for ids in groups.values())
    keys = sorted(groups)
    quotas = {key: size * len(groups[key]) / total for key in keys}
    seats = {key: int(quotas[key]) for key in keys}
    for key in sorted(keys, key=lambda key: (-(quotas[key] - seats[key]), key))[: size - sum(seats.values())]:
        seats[key] += 1
    rng = random.Random(seed)
    return sorted(pk for key in keys for pk in rng.sample(groups[key], seats[key]))


# --- Starting and closing ---


@transaction.atomic
def round_start(
    *,
    study: Study,
    user,
    size: int,
    seed: int,
    annotators: list[str],
    fields: list[str],
    sampling: str = Round.Sampling.RANDOM,
    stratify_by: str = "",
    statistic: str = Round.Statistic.KRIPPENDORFF_ALPHA,
    threshold: float = 0.8,
    applies_to: str = Round.AppliesTo.ESTIMATE,
) -> Round:
    """Draw the sample, give each of its issues to every chosen annotator for labelling, and record the round."""
    Study.objects.select_for_update().filter(pk=study.pk).first()  # one round starts at a time: numbers stay 1, 2, 3
    rounds = study.rounds.all()
    if (open_round := rounds.filter(closed_at__isnull=True).first()) is not None:
        raise RoundError(f"Round {open_round.number} is still open: close it (on its report) before starting another.")
    people = [user for user in annotators_of(study) if user.username in set(annotators)]
    if len(people) < 2:
        raise RoundError("Choose at least two annotators: agreement compares them.", field="annotators")
    chosen_fields = list(round_fields(study).filter(key__in=fields))
    if not chosen_fields:
        raise RoundError("Choose at least one field with choices, levels or votes to measure.", field="fields")
    if sampling == Round.Sampling.VALUE and not study.fields.filter(key=stratify_by, kind__in=list(LEVELS)).exists():
        raise RoundError(
            f"“{isolate(stratify_by)}” is not the key of a field with choices, levels or votes.", field="stratify_by"
        )
    if sampling == Round.Sampling.LABEL and not stratify_by:
        raise RoundError("Name the label (or the beginning of the labels) to stratify by.", field="stratify_by")
    pool = eligible_issues(study)
    available = pool.count()
    if size > available:
        raise RoundError(
            f"The sample would be {size} issues, but only {available} can join a round "
            "(those at the labelling stage, not gold, that are in no earlier round).",
            field="size",
        )
    sample = draw_sample(strata(study, pool, sampling, stratify_by), size, seed)
    new = Round.objects.create(
        study=study,
        number=(rounds.aggregate(n=Max("number"))["n"] or 0) + 1,
        sampling=sampling,
        stratify_by=stratify_by if sampling != Round.Sampling.RANDOM else "",
        size=size,
        seed=seed,
        statistic=statistic,
        threshold=threshold,
        applies_to=applies_to,
        started_by=user,
        codebook_version_start=current_number(study.pk),
    )
    new.issues.set(sample)
    new.annotators.set(people)
    new.fields.set(chosen_fields)
    sampled = list(StudyIssue.objects.filter(pk__in=sample).values_list("issue_id", flat=True))
    assign_issues(study, issue_ids=sampled, annotators=people, stage=Stage.LABELLING)
    return new


@transaction.atomic
def round_close(round_: Round) -> Round:
    """Close the round, recording the codebook version it ended with (the one its discussion led to)."""
    locked = Round.objects.select_for_update().get(pk=round_.pk)
    if not locked.is_open:
        raise RoundError(f"Round {locked.number} is closed already.")
    locked.closed_at = timezone.now()
    locked.codebook_version_end = current_number(locked.study_id)
    locked.save(update_fields=["closed_at", "codebook_version_end"])
    return locked


# --- Results ---


@dataclass
class FieldResult:
    """One field's agreement in one round, and whether it meets the round's stop rule."""

    field: CodebookField
    statistic: str
    value: float | None
    low: float | None
    high: float | None
    items: int
    reason: str  # why the value is undefined, if it is
    threshold: float
    applies_to: str

    @property
    def judged(self) -> float | None:
        """The number the stop rule is judged on: the estimate or its interval's lower bound."""
        return self.low if self.applies_to == Round.AppliesTo.LOWER else self.value

    @property
    def met(self) -> bool:
        """Never true for an undefined value or bound: what cannot be measured has not reached the threshold."""
        return self.judged is not None and self.judged >= self.threshold


def round_issues(round_: Round, access: StudyAccess) -> QuerySet:
    """The round's StudyIssues whose values the viewer sees (studies/access.py decides)."""
    return round_.issues.filter(access.revealed_filter())


def round_ratings(round_: Round, access: StudyAccess) -> list[FieldRatings]:
    usernames = list(round_.annotators.values_list("username", flat=True))
    issues = issue_ids(round_issues(round_, access))  # read once for all the fields
    return [
        field_ratings(round_.study, field, annotators=usernames, issues=issues)
        for field in round_.fields.order_by("position", "id")
    ]


def round_results(round_: Round, access: StudyAccess | None = None, *, reps: int = REPLICATES) -> list[FieldResult]:
    """Each field's agreement over the round's issues, by its annotators, with a 95 % bootstrap interval; over the
    issues revealed to `access`, or (without it, as a command) over all of them.

    The figures are kept on the round with the key of the ratings they came from (`_results_key`), so that a round
    whose ratings have not changed since (every closed round, as a rule) is not computed again on every view."""
    access = access or StudyAccess.everything(round_.study)
    ratings = round_ratings(round_, access)
    key = _results_key(round_, ratings, reps)
    cached = round_.cached_results or {}
    if cached.get("key") != key:
        cached = {"key": key, "fields": {each.field.key: _figures(round_, each, reps) for each in ratings}}
        Round.objects.filter(pk=round_.pk).update(cached_results=cached)
        round_.cached_results = cached
    return [
        FieldResult(
            field=each.field,
            statistic=round_.statistic,
            threshold=round_.threshold,
            applies_to=round_.applies_to,
            **cached["fields"][each.field.key],
        )
        for each in ratings
    ]


def _figures(round_: Round, ratings: FieldRatings, reps: int) -> dict:
    coefficient, options = _statistic(round_.statistic, ratings)
    estimate = coefficient(ratings.rows, **options)
    interval = c.bootstrap_interval(coefficient, ratings.rows, reps=reps, seed=SEED, **options)
    return {
        "value": estimate.value,
        "low": interval.low,
        "high": interval.high,
        "items": len(ratings.units),
        "reason": estimate.reason,
    }


def _results_key(round_: Round, ratings: list[FieldRatings], reps: int) -> str:
    """A digest of everything the figures are computed from: the statistic, the resamples, and each field's ratings
    as read for this viewer (a new or changed answer, a submission, an issue revealed or hidden, a codebook change
    to the field's kind or levels each change it)."""
    digest = hashlib.sha256(repr((round_.statistic, reps, SEED)).encode())
    for each in ratings:
        rows = [[_canonical(value) for value in row] for row in each.rows]
        digest.update(repr((each.field.key, each.field.kind, each.level, each.scale, each.units, rows)).encode())
    return digest.hexdigest()


def _canonical(value):
    """A rating as the same text in every process: a set of choices by its sorted members (a frozenset's own order
    depends on the process's hash seed)."""
    return sorted(map(repr, value)) if isinstance(value, frozenset) else value


def _statistic(name: str, ratings: FieldRatings):
    """The coefficient function and its options for the field, as agreement/report.py computes it."""
    if name == Round.Statistic.KRIPPENDORFF_ALPHA:
        level = "masi" if ratings.field.kind == CodebookField.Kind.MULTIPLE else ratings.level
        return c.krippendorff_alpha, {"level": level, "scale": ratings.scale}
    if name == Round.Statistic.GWET_AC1:
        return c.gwet_ac1, {"scale": ratings.scale}
    if name == Round.Statistic.FLEISS_KAPPA:
        return c.fleiss_kappa, {}
    return c.percent_agreement, {}


def all_met(results: list[FieldResult]) -> bool:
    return bool(results) and all(result.met for result in results)


def rounds_summary(study: Study, access: StudyAccess | None = None) -> list[tuple[Round, list[FieldResult]]]:
    """Every round of the study with its results, oldest first (the rounds page, its CSV, the methods report).
    Without `access`, over everything (a command run from the shell)."""
    access = access or StudyAccess.everything(study)
    return [(each, round_results(each, access)) for each in study.rounds.select_related("study")]


CSV_COLUMNS = [
    "round",
    "field",
    "statistic",
    "value",
    "lower",
    "upper",
    "items",
    "threshold",
    "applies_to",
    "met",
    "codebook_version_start",
    "codebook_version_end",
]


def csv_rows(summary: list[tuple[Round, list[FieldResult]]]):
    for each, results in summary:
        for result in results:
            yield [
                each.number,
                result.field.key,
                result.statistic,
                _number(result.value),
                _number(result.low),
                _number(result.high),
                result.items,
                each.threshold,
                each.applies_to,
                "yes" if result.met else "no",
                each.codebook_version_start,
                each.codebook_version_end,
            ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


# --- What the report shows beside the numbers ---


def round_disagreements(round_: Round, access: StudyAccess) -> dict[int, list[dict]]:
    """{field id: [{"study_issue", "issue", "answers": [{"annotator", "value", "note", "uncertain"}]}]}: the round's
    issues on which its annotators gave different values, everyone's answer side by side; only issues revealed to
    the viewer."""
    fields = {field.pk: field for field in round_.fields.prefetch_related("choices")}
    study_issues = {
        study_issue.issue_id: study_issue
        for study_issue in round_issues(round_, access).select_related("issue__repository").defer("issue__payload")
    }
    answers = (
        Annotation.objects.filter(
            assignment__study=round_.study_id,
            assignment__stage=Stage.LABELLING,
            assignment__status=Assignment.Status.SUBMITTED,
            assignment__purpose=Assignment.Purpose.REAL,
            assignment__annotator__in=round_.annotators.all(),
            assignment__issue_id__in=list(study_issues),
            field_id__in=list(fields),
            value__isnull=False,
        )
        .select_related("assignment__annotator")
        .order_by("assignment__issue_id", "assignment__annotator__username")
    )
    grouped: dict[tuple[int, int], list[Annotation]] = {}
    for answer in answers:
        grouped.setdefault((answer.field_id, answer.assignment.issue_id), []).append(answer)
    found: dict[int, list[dict]] = {pk: [] for pk in fields}
    for (field_id, issue_id), given in grouped.items():
        field = fields[field_id]
        if len({rating(field, answer.value) for answer in given}) < 2:
            continue
        found[field_id].append(
            {
                "study_issue": study_issues[issue_id],
                "issue": study_issues[issue_id].issue,
                "answers": [
                    {
                        "annotator": answer.assignment.annotator.username,
                        "value": display_value(answer.value, field),
                        "note": answer.note,
                        "uncertain": answer.uncertain,
                    }
                    for answer in given
                ],
            }
        )
    return found


def previous_round(round_: Round) -> Round | None:
    return round_.study.rounds.filter(number__lt=round_.number).order_by("-number").first()


def codebook_changes(round_: Round) -> list[CodebookVersion]:
    """The codebook versions made since the previous round started, up to this round's start, oldest first; none
    for the first round."""
    before = previous_round(round_)
    if before is None:
        return []
    return list(
        round_.study.codebook_versions.filter(
            number__gt=before.codebook_version_start, number__lte=round_.codebook_version_start
        ).order_by("number")
    )
