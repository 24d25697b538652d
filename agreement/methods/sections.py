"""The report's sections, each built by one function from the study's data (`Facts`), in the order a methods
section reads. A section whose data the study does not hold says so plainly and is marked `recorded=False`.

Three sections wait for features built elsewhere; each is one function to fill in, returning a recorded Section:
`primary_statistic` (pre-registered statistic and threshold per field), `diagnostics` (prevalence, bias, PABAK,
the kappa paradox), `training` (gold items and trainees' scores). `rounds` reads the calibration rounds.
"""

from collections import Counter

from django.db.models import Max, Min

from agreement.intervals import REPLICATES, SEED
from agreement.methods.examples import examples
from agreement.methods.report import Facts, Quote, Section, Table, bounds, number
from agreement.rounds import rounds_summary
from studies.effort import duration, effort_summary
from studies.models import (
    Annotation,
    Assignment,
    CodebookField,
    FinalValue,
    Membership,
    Round,
    Stage,
    StudyIssue,
)
from studies.workflow import display_value, screening_field

Kind = CodebookField.Kind
# Krippendorff (2004, Content Analysis, 2nd ed., p. 241): rely on variables with α ≥ 0.800; consider those with
# 0.667 ≤ α < 0.800 only for tentative conclusions. Used until a field has a pre-registered threshold of its own.
RELIABLE, TENTATIVE = 0.800, 0.667
THRESHOLD_SOURCE = "Krippendorff, 2004"
NOT_RECORDED = "Not recorded in this study: "


def variable_type(field: CodebookField) -> str:
    """The variable's type as a methods section states it."""
    choices = list(field.choices.all())
    other = ", or Other with a text" if field.allow_other else ""
    match field.kind:
        case Kind.SINGLE:
            return f"nominal: one of {len(choices)} choices{other}"
        case Kind.MULTIPLE:
            most = f", at most {field.max_choices}" if field.max_choices else ""
            return f"nominal, multiple: a set of the {len(choices)} choices{most}{other}"
        case Kind.ORDINAL:
            levels = sorted(int(choice.value) for choice in choices)
            span = f" ({levels[0]}–{levels[-1]})" if levels else ""
            return f"ordinal: {len(levels)} levels{span}"
        case Kind.VOTE:
            return "binary: a yes/no vote with a comment"
    return "free text" if field.kind == Kind.TEXT else f"free text: {field.get_kind_display()}"


def properties(facts: Facts) -> Section:
    fields = facts.fields
    rated = [field for field in fields if field.key in facts.rated]
    rows = [
        [
            Quote(field.label),
            "screening" if field.stage == Stage.SCREENING else "labelling",
            variable_type(field),
            "yes" if field.required else "no",
            str(facts.rated.get(field.key, {}).get("issues", 0)),
        ]
        for field in fields
    ]
    text = [
        f"The codebook has {plural(len(fields), 'field')}; annotators have answered {len(rated)} of them. Each "
        "field's type follows from its kind in the codebook."
    ]
    table = Table("Properties rated and their types.", ["Property", "Stage", "Type", "Required", "Issues rated"], rows)
    return Section("properties", "Properties rated", [text], [table])


def raters(facts: Facts) -> Section:
    study = facts.study
    annotators = study.memberships.filter(role=Membership.Role.ANNOTATOR).count()
    rows = []
    for field in facts.fields:
        if field.key in facts.rated:
            rated = facts.rated[field.key]
            low, middle, high = rated["per_issue"]
            rows.append(
                [
                    Quote(field.label),
                    str(rated["annotators"]),
                    str(rated["issues"]),
                    str(low),
                    f"{middle:g}",
                    str(high),
                ]
            )
    text = [
        f"The study has {plural(annotators, 'annotator')}; it assigns each issue to "
        f"{study.annotators_per_issue} of them. Counted over submitted answers:"
    ]
    columns = ["Property", "Raters", "Issues", "Raters per issue (min)", "(median)", "(max)"]
    return Section("raters", "Raters", [text], [Table("Raters per property and per issue.", columns, rows)])


def process(facts: Facts) -> Section:
    study = facts.study
    reveal = "the issue is decided" if study.reveal_after_decision else "the issue reaches reconciliation"
    paragraphs = [
        [
            "Annotators labelled independently and blind: the tool shows no annotator the values, notes or votes of "
            f"the others on an issue they label until {reveal}. Owners and adjudicators see the values of the issues "
            "they do not label themselves."
        ]
    ]
    stages = {row["label"]: row["count"] for row in study.stage_table()[1]}
    if study.screening:
        vote = screening_field(study)
        accept = (
            f"at least {study.screening_accept_votes} include votes"
            if study.screening_accept_votes
            else "every vote for inclusion"
        )
        paragraphs.append(
            [
                "Issues were first screened by a yes/no vote",
                *([" (", Quote(vote.label), ")"] if vote else []),
                f": an issue with {accept} went on to labelling, one with at least {study.screening_discuss_votes} "
                "to a discussion among the adjudicators, others were excluded "
                f"({StudyIssue.objects.filter(study=study, reason=StudyIssue.Reason.SCREENED_OUT).count()} so far).",
            ]
        )
    finals = facts.finals
    who = "the issue's annotators together or an adjudicator" if study.annotators_reconcile else "an adjudicator"
    adjudicators = (
        FinalValue.objects.filter(
            study_issue__study=study, field__stage=Stage.LABELLING, source=FinalValue.Source.ADJUDICATED
        )
        .values_list("set_by__username", flat=True)
        .order_by("set_by__username")
    )
    by = Counter(name or "a former member" for name in adjudicators)
    roles = {}
    for username, role in study.memberships.values_list("user__username", "role").order_by("role"):
        roles.setdefault(username, role)
    text = [
        "Disagreements were resolved by discussion: where the annotators gave the same value, it became final "
        f"({finals[FinalValue.Source.AGREED]} values agreed); where they differed, {who} chose the final value and "
        f"recorded a rationale ({finals[FinalValue.Source.ADJUDICATED]} values adjudicated, "
        f"{finals['with_rationale']} of them with a written rationale)."
    ]
    if by:
        text.append(" Adjudicated by ")
        for index, (name, count) in enumerate(sorted(by.items())):
            text += [", " if index else "", Quote(name), f" ({roles.get(name, 'no longer a member')}, {count})"]
        text.append(".")
    paragraphs.append(text)
    paragraphs.append(
        [
            f"Decided: {plural(stages.get('decided: included', 0), 'issue')} included, "
            f"{stages.get('decided: excluded', 0)} excluded; {stages.get('labelling', 0)} in labelling and "
            f"{stages.get('reconciliation', 0)} in reconciliation."
        ]
    )
    return Section("process", "Rating process", paragraphs)


def primary_statistic(facts: Facts) -> Section:
    """[seam: diag] The statistic and threshold declared per field before labelling, and any later change."""
    return Section(
        "primary",
        "Primary statistic",
        [
            [
                NOT_RECORDED + "no primary statistic and threshold were declared per field before labelling. Below, "
                f"Krippendorff's α is reported for every field, against established thresholds ({THRESHOLD_SOURCE})."
            ]
        ],
        recorded=False,
    )


def training(facts: Facts) -> Section:
    """[seam: gold] Rater training: gold items, each trainee's accuracy and κ against them, the threshold."""
    return Section(
        "training",
        "Rater training and gold items",
        [[NOT_RECORDED + "no gold items with reference answers, and no training set."]],
        recorded=False,
    )


def rounds(facts: Facts) -> Section:
    """Calibration rounds (agreement/rounds.py): IRR per round and per property with intervals, the stop rule and
    whether it was met, the codebook versions each round started and ended under."""
    summary = rounds_summary(facts.study, facts.access)
    if not summary:
        return Section(
            "rounds",
            "Calibration rounds",
            [[NOT_RECORDED + "no calibration rounds; agreement is measured once, over every issue rated twice."]],
            recorded=False,
        )
    paragraphs = []
    rows = []
    for each, results in summary:
        met = [result for result in results if result.met]
        closed = f"closed under version {each.codebook_version_end}" if not each.is_open else "still open"
        paragraphs.append(
            [
                f"Round {each.number}: {plural(each.size, 'issue')} drawn "
                f"{'at random' if each.sampling == Round.Sampling.RANDOM else each.get_sampling_display()} "
                f"(seed {each.seed}), labelled independently by {plural(each.annotators.count(), 'annotator')}, "
                f"started under codebook version {each.codebook_version_start} and {closed}. Stop rule: "
                f"{each.get_statistic_display()} ≥ {each.threshold:.3f} on every property, judged on "
                f"{each.get_applies_to_display()}: {'met' if results and len(met) == len(results) else 'not met'} "
                f"({len(met)} of {len(results)} properties)."
            ]
        )
        rows += [
            [
                str(each.number),
                Quote(result.field.label),
                each.get_statistic_display(),
                number(result.value) + bounds((result.low, result.high)),
                str(result.items),
                "met" if result.met else "not met",
            ]
            for result in results
        ]
    columns = ["Round", "Property", "Statistic", "Value [95 % CI]", "Items", "Stop rule"]
    table = Table("Agreement per calibration round and property.", columns, rows)
    return Section("rounds", "Calibration rounds", paragraphs, [table])


def agreement(facts: Facts) -> Section:
    labels = {field.key: field.label for field in facts.fields}
    rows, verdicts = [], []
    once = [labels[key] for key, numbers in facts.agreement.items() if not numbers["items"]]
    for key, numbers in facts.agreement.items():
        if not numbers["items"]:
            continue
        intervals = (facts.intervals or {}).get(key, {})
        rows.append(
            [
                Quote(labels[key]),
                numbers["level"],
                str(numbers["items"]),
                str(numbers["annotators"]),
                number(numbers["percent_agreement"]),
                number(numbers["krippendorff_alpha"]) + bounds(intervals.get("krippendorff_alpha")),
                number(numbers["gwet_ac1"]) + bounds(intervals.get("gwet_ac1")),
                number(numbers["fleiss_kappa"]),
            ]
        )
        verdicts.append(_verdict(labels[key], numbers, intervals.get("krippendorff_alpha")))
    if facts.intervals is None:
        how = "The 95 % bootstrap intervals are still being computed."
    else:
        how = f"In brackets, 95 % bootstrap intervals ({REPLICATES:,} resamples, seed {SEED})."
    paragraphs = [
        [
            "Agreement per property, over the issues that at least two annotators rated (submitted answers only). "
            "Krippendorff's α is at the field's level of measurement (the MASI distance for sets of choices). " + how
        ]
    ]
    paragraphs += verdicts
    if once:
        paragraphs.append(["No issue was rated by two annotators on: ", *names(once), "."])
    columns = ["Property", "Level", "Items", "Raters", "% agreement", "α", "AC1", "Fleiss' κ"]
    return Section("agreement", "Agreement", paragraphs, [Table("Inter-rater agreement per property.", columns, rows)])


def _verdict(label: str, numbers: dict, interval) -> list[str]:
    """α against the thresholds, in words: a value below them is never called good."""
    alpha = numbers["krippendorff_alpha"]
    if alpha is None:
        return [
            Quote(label),
            f": α is undefined ({numbers['undefined'].get('krippendorff_alpha', 'no reason given')}).",
        ]
    if below(alpha, RELIABLE) is False:
        words = f"reaches {RELIABLE:.3f}, the threshold for reliable data"
    elif below(alpha, TENTATIVE) is False:
        words = f"is below {RELIABLE:.3f} but reaches {TENTATIVE:.3f}: it supports tentative conclusions only"
    else:
        words = f"is below {TENTATIVE:.3f}: the data of this property are not reliable enough to draw conclusions"
    low = (
        f"; the interval's lower bound {number(interval[0])} is below {RELIABLE:.3f}"
        if interval and interval[0] is not None and not below(alpha, RELIABLE) and below(interval[0], RELIABLE)
        else ""
    )
    return [Quote(label), f": α = {number(alpha)} {words} ({THRESHOLD_SOURCE}){low}."]


def below(value: float | None, threshold: float) -> bool | None:
    """Whether the value is below the threshold as both are written (to three places: 0.667 stands for 2/3)."""
    return None if value is None else round(value, 3) < threshold


def diagnostics(facts: Facts) -> Section:
    """[seam: diag] Per field and pair: prevalence and bias indices, PABAK, the maximum κ, the kappa paradox."""
    return Section(
        "diagnostics",
        "Agreement diagnostics",
        [[NOT_RECORDED + "no prevalence or bias indices, PABAK, or maximum κ; no check for the kappa paradox."]],
        recorded=False,
    )


def example_disagreements(facts: Facts) -> Section:
    found, how = examples(facts.access)
    if not found:
        return Section(
            "examples",
            "Example disagreements",
            [["No decided issue has a disagreement yet."]],
            recorded=False,
        )
    paragraphs = [[f"{plural(len(found), 'example')}, {how}."]]
    for example in found:
        issue = example.study_issue.issue
        text = [Quote(f"{issue.repository.full_name}#{issue.number}"), ", ", Quote(example.field.label), ": "]
        for index, (username, value, note) in enumerate(example.values):
            text += ["; " if index else "", Quote(username), " gave ", Quote(display_value(value, example.field))]
            if note.strip():
                text += [" (note: ", Quote(note.strip()), ")"]
        final = example.final
        if final is not None:
            text += [". Final value: ", Quote(display_value(final.value, example.field))]
            if final.set_by:
                text += [", set by ", Quote(final.set_by.username)]
            rationale = final.rationale.strip() or "none recorded"
            text += [". Rationale: ", Quote(rationale), "" if rationale[-1] in ".!?" else "."]
        else:
            text.append(". No final value.")
        paragraphs.append(text)
    return Section("examples", "Example disagreements", paragraphs)


def effort(facts: Facts) -> Section:
    summary = effort_summary(facts.study)
    rows = [
        [
            pace.stage,
            str(pace.submitted),
            str(pace.measured),
            duration(pace.active_seconds if pace.measured else None),
            duration(pace.median_seconds),
            "—" if pace.issues_per_hour is None else f"{pace.issues_per_hour:.1f}",
        ]
        for pace in summary.stages
    ]
    if not any(pace.measured for pace in summary.stages):
        return Section("effort", "Effort", [["No active time was measured."]], recorded=False)
    text = [
        "Active time on task: the annotation (or reconciliation) page in the foreground and in use; pauses longer "
        f"than {duration(summary.idle_seconds)} without a key, click, scroll or pointer move are not counted."
    ]
    columns = ["Stage", "Submitted", "Measured", "Active time", "Median per issue", "Issues per hour"]
    return Section("effort", "Effort", [text], [Table("Time on task per stage.", columns, rows)])


def codebook_versions(facts: Facts) -> Section:
    study = facts.study
    versions = list(study.codebook_versions.order_by("number").values_list("number", "diff", "meaning_changed"))
    labelling = Annotation.objects.filter(
        assignment__study=study,
        assignment__stage=Stage.LABELLING,
        assignment__status=Assignment.Status.SUBMITTED,
    ).aggregate(first=Min("codebook_version"), last=Max("codebook_version"))
    decided = FinalValue.objects.filter(study_issue__study=study).aggregate(
        first=Min("codebook_version"), last=Max("codebook_version")
    )
    current = versions[-1][0] if versions else 1
    text = [f"The codebook is at version {current}."]
    if labelling["first"] is not None:
        text.append(
            f" Labelling began under version {labelling['first']} and its latest submitted answer was given "
            f"(or re-checked) under version {labelling['last']}."
        )
    if decided["first"] is not None:
        span = (
            f"version {decided['first']}"
            if decided["first"] == decided["last"]
            else f"versions {decided['first']} to {decided['last']}"
        )
        text.append(f" Final values were set under {span}.")
    labels = {field.key: field.label for field in facts.fields}
    rows = []
    for number_, diff, meaning in versions:
        changes = Counter(entry.get("change", "") for entry in diff)
        rows.append(
            [
                str(number_),
                ", ".join(f"{count} {change}" for change, count in sorted(changes.items())) or "first version",
                Quote(", ".join(labels.get(key, key) for key in meaning)) if meaning else "—",
            ]
        )
    table = Table("Codebook versions.", ["Version", "Changes", "Meaning changed"], rows)
    return Section("versions", "Codebook versions", [text], [table] if rows else [])


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def names(labels: list[str]) -> list[str]:
    """Labels as parts of a sentence: "A, B, C"."""
    parts = []
    for index, label in enumerate(labels):
        parts += [", " if index else "", Quote(label)]
    return parts


SECTIONS = [
    properties,
    raters,
    process,
    primary_statistic,
    training,
    rounds,
    agreement,
    diagnostics,
    example_disagreements,
    effort,
    codebook_versions,
]
