"""The report's sections, each built by one function from the study's data (`Facts`), in the order a methods
section reads. A section whose data the study does not hold says so plainly and is marked `recorded=False`.
"""

from collections import Counter

from django.db.models import Max, Min

from agreement import gold
from agreement.diagnostics import interval_warnings
from agreement.intervals import REPLICATES, SEED
from agreement.methods.examples import examples
from agreement.methods.report import Facts, Quote, Section, Table, bounds, number
from agreement.models import PrimaryStatistic
from agreement.primary import meets
from agreement.rounds import rounds_summary
from studies.effort import duration, effort_summary
from studies.models import (
    Annotation,
    Assignment,
    CodebookField,
    FinalValue,
    GoldAnswer,
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
    """The statistic and threshold declared per field before labelling, any later change with its reason, and the
    value against the threshold."""
    declared = facts.primaries
    if not declared:
        return Section(
            "primary",
            "Primary statistic",
            [
                [
                    NOT_RECORDED + "no primary statistic and threshold were declared per field before labelling. "
                    "Below, Krippendorff's α is reported for every field, against established thresholds "
                    f"({THRESHOLD_SOURCE})."
                ]
            ],
            recorded=False,
        )
    paragraphs = [
        [
            "Per field, the owners declared the statistic to report and the threshold it must reach. Once a field "
            "has answers its declaration is locked: a change needs a reason, is kept in the study's history and is "
            "listed here as made after labelling started. The primary statistic alone is held against the "
            "threshold; every other statistic in this report is secondary."
        ]
    ]
    rows = []
    for field in facts.fields:
        if (primary := declared.get(field.key)) is None:
            continue
        history = primary["declarations"]  # every version, from the history's events
        interval = (facts.intervals or {}).get(field.key, {}).get(primary["statistic"])
        rows.append(
            [
                Quote(field.label),
                statistic_name(primary["statistic"]),
                f"{primary['threshold']:.3f}",
                Quote(primary["source"]),
                _declared(history[-1]) if history else "—",
                against(primary["value"], primary["threshold"]) + bounds(interval),
                "met" if primary["met"] else "not met",
            ]
        )
        if len(history) > 1 or primary["after_labelling_started"]:
            paragraphs.append(_history(field.label, history))
    undeclared = [field.label for field in facts.compared if field.key not in declared]
    if undeclared:
        paragraphs.append(
            [
                "No primary statistic was declared for ",
                *names(undeclared),
                f": their α is held against Krippendorff's thresholds ({RELIABLE:.3f} for reliable data, "
                f"{TENTATIVE:.3f} for tentative conclusions; {THRESHOLD_SOURCE}).",
            ]
        )
    columns = ["Property", "Primary statistic", "Threshold", "Source", "Declared", "Value", "Threshold met"]
    return Section(
        "primary", "Primary statistic", paragraphs, [Table("Primary statistic per property.", columns, rows)]
    )


def statistic_name(statistic: str) -> str:
    return PrimaryStatistic.Statistic(statistic).label


def _declared(declaration: dict) -> str:
    when = "after labelling started" if declaration["after_labelling_started"] else "before labelling"
    return f"{declaration['declared_at'][:10]}, {when}"


def _history(label: str, history: list[dict]) -> list[str]:
    """Every version of a field's declaration, oldest first, with the reason of those made after labelling."""
    text = [Quote(label), ": "]
    for index, declaration in enumerate(history):
        text += [
            "; then " if index else "",
            "declared " if not index else "changed ",
            f"on {declaration['declared_at'][:10]}",
            *([" by ", Quote(declaration["declared_by"])] if declaration["declared_by"] else []),
            ", after labelling started," if declaration["after_labelling_started"] else ", before labelling,",
            f" as {statistic_name(declaration['statistic'])} ≥ {declaration['threshold']:.3f} (",
            Quote(declaration["source"]),
            ")",
        ]
        if declaration["reason"]:
            text += [", because: ", Quote(declaration["reason"])]
    text.append(
        ". A statistic or threshold chosen after labelling started is not pre-registered: it may have been chosen "
        "knowing the data."
    )
    return text


def training(facts: Facts) -> Section:
    """Rater training: gold items, each trainee's accuracy and κ against them, the threshold; gold checks."""
    study = facts.study
    items = list(study.gold_items.values_list("promoted", flat=True))
    if not items:
        return Section(
            "training",
            "Rater training and gold items",
            [[NOT_RECORDED + "no gold items with reference answers, and no training set."]],
            recorded=False,
        )
    promoted = sum(items)
    versions = GoldAnswer.objects.filter(gold_item__study=study).aggregate(
        first=Min("codebook_version"), last=Max("codebook_version")
    )
    paragraphs = [
        [
            f"{plural(len(items), 'issue')} of the study are gold, with a reference answer and its rationale per "
            f"labelling field: {promoted} promoted from decided issues (their final values and rationales), "
            f"{len(items) - promoted} written by an owner. "
            + _versions("The reference answers were set under codebook", versions)
        ],
        [
            (
                f"Training was required: each new annotator labelled the gold issues first, saw the reference answer "
                f"and its rationale beside their own after each one, and began real work only with an accuracy of "
                f"at least {study.training_threshold:.2f} on every required field."
            )
            if study.training_required
            else "Training was not required before real work."
        ],
    ]
    trainees = gold.scores(study, Assignment.Purpose.TRAINING)
    checks = gold.scores(study, Assignment.Purpose.CHECK)
    tables = []
    if not facts.access.may_see_gold_scores:
        passed = sum(bool(score.passed) for score in trainees)
        paragraphs.append(
            [
                f"{plural(len(trainees), 'annotator')} trained on them, {passed} passed; "
                f"{plural(len(checks), 'annotator')} had gold checks in their queue. Each one's scores are for "
                "the owners."
            ]
        )
        return Section("training", "Rater training and gold items", paragraphs)
    if trainees:
        text = ["Accuracy and Cohen's κ against the reference answers, per trainee and field: "]
        for index, score in enumerate(trainees):
            verdict = "passed" if score.passed else "did not pass"
            text += [
                ", " if index else "",
                Quote(score.annotator),
                f" {verdict} ({score.submitted} of {score.assigned} training issues submitted)",
            ]
        paragraphs.append([*text, "."])
        tables.append(_scores_table("Trainees against gold, per property.", "Trainee", trainees))
    else:
        paragraphs.append(["Nobody has trained on the gold issues yet."])
    if study.gold_check_percent or checks:
        paragraphs.append(
            [
                f"Gold issues were mixed into the labelling queues as checks, unmarked, at {study.gold_check_percent} "
                "% of each annotator's queue"
                + (": their accuracy on them follows." if checks else "; none was submitted yet.")
            ]
        )
        if checks:
            tables.append(_scores_table("Gold checks in the queues, per annotator and property.", "Annotator", checks))
    return Section("training", "Rater training and gold items", paragraphs, tables)


def _scores_table(caption: str, who: str, scores: list) -> Table:
    rows = [
        [
            Quote(score.annotator),
            Quote(each.field.label),
            str(each.items),
            number(each.accuracy),
            number(each.kappa.value if each.kappa else None),
        ]
        for score in scores
        for each in score.fields
        if each.items
    ]
    return Table(caption, [who, "Property", "Gold issues", "Accuracy", "κ"], rows)


def _versions(what: str, versions: dict) -> str:
    if versions["first"] is None:
        return ""
    if versions["first"] == versions["last"]:
        return f"{what} version {versions['first']}."
    return f"{what} versions {versions['first']} to {versions['last']}."


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
                _primary_cell(numbers.get("primary")),
            ]
        )
        verdicts.append(_verdict(labels[key], numbers, intervals))
    if facts.intervals is None:
        how = "The 95 % bootstrap intervals are still being computed."
    else:
        how = f"In brackets, 95 % bootstrap intervals ({REPLICATES:,} resamples, seed {SEED})."
    paragraphs = [
        [
            "Agreement per property, over the issues that at least two annotators rated (submitted answers only). "
            "Krippendorff's α is at the field's level of measurement (the MASI distance for sets of choices). "
            + how
            + (
                " Where a field has a primary statistic, its verdict is stated against the declared threshold; the "
                "table's other statistics are secondary."
                if facts.primaries
                else ""
            )
        ]
    ]
    paragraphs += verdicts
    if once:
        paragraphs.append(["No issue was rated by two annotators on: ", *names(once), "."])
    columns = ["Property", "Level", "Items", "Raters", "% agreement", "α", "AC1", "Fleiss' κ", "Primary"]
    return Section("agreement", "Agreement", paragraphs, [Table("Inter-rater agreement per property.", columns, rows)])


def _primary_cell(primary: dict | None) -> str:
    if primary is None:
        return "—"
    met = "met" if primary["met"] else "not met"
    return f"{statistic_name(primary['statistic'])} ≥ {primary['threshold']:.3f}: {met}"


def _verdict(label: str, numbers: dict, intervals: dict) -> list[str]:
    """The primary statistic against its declared threshold, or else α against Krippendorff's, in words: a value
    below the threshold is never called good."""
    primary = numbers.get("primary")
    if primary is None:
        return _krippendorff_verdict(label, numbers, intervals.get("krippendorff_alpha"))
    name, value, threshold = statistic_name(primary["statistic"]), primary["value"], primary["threshold"]
    late = " It was declared after labelling started: it is not pre-registered." * primary["after_labelling_started"]
    if value is None:
        reason = numbers["undefined"].get(primary["statistic"], "no reason given")
        words = f": {name}, the primary statistic, is undefined ({reason}): its threshold is not met."
        return [Quote(label), words + late]
    interval = intervals.get(primary["statistic"])
    if primary["met"]:
        words = f"reaches the declared threshold {threshold:.3f}"
        if interval and interval[0] is not None and not meets(interval[0], threshold):
            words += f", but the interval's lower bound {number(interval[0])} is below it"
    else:
        words = f"is below the declared threshold {threshold:.3f}: the threshold is not met"
    return [Quote(label), f": {name} = {against(value, threshold)} {words} (", Quote(primary["source"]), f").{late}"]


def _krippendorff_verdict(label: str, numbers: dict, interval) -> list[str]:
    """α against Krippendorff's thresholds, for a field without a primary statistic of its own."""
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
    return [
        Quote(label),
        f": α = {number(alpha)} {words} ({THRESHOLD_SOURCE}; no primary statistic was declared for it){low}.",
    ]


def against(value: float | None, threshold: float) -> str:
    """The value to as many places as it takes to differ from the threshold it misses (0.6667 < 0.667, never
    "0.667 is below 0.667"), three at least."""
    places = 3
    while value is not None and places < 6 and f"{value:.{places}f}" == f"{threshold:.{places}f}":
        places += 1
    return number(value) if places == 3 else f"{value:.{places}f}"


def below(value: float | None, threshold: float) -> bool | None:
    """Whether the value is below the threshold as both are written (to three places: 0.667 stands for 2/3)."""
    return None if value is None else round(value, 3) < threshold


def diagnostics(facts: Facts) -> Section:
    """Per field and pair: prevalence and bias indices, PABAK, the maximum κ; the warnings, the kappa paradox first."""
    labels = {field.key: field.label for field in facts.fields}
    rows, warned, quiet = [], [], []
    for key, numbers in facts.agreement.items():
        if not numbers["items"]:
            continue
        for pair, found in numbers["diagnostics"].items():
            rows.append(
                [
                    Quote(labels[key]),
                    Quote(pair.replace("|", " & ")),
                    str(found["n"]),
                    number(found["observed"]),
                    number(found["kappa"]),
                    number(found["prevalence_index"]),
                    number(found["bias_index"]),
                    number(found["pabak"]),
                    number(found["kappa_max"]),
                ]
            )
        warnings = numbers["warnings"] + [
            warning.as_dict() for warning in interval_warnings((facts.intervals or {}).get(key, {}))
        ]
        for warning in warnings:
            warned.append([Quote(labels[key]), ": ", warning["message"]])
        if not warnings:
            quiet.append(labels[key])
    if not rows:
        return Section(
            "diagnostics",
            "Agreement diagnostics",
            [
                [
                    NOT_RECORDED + "no field with categories was rated by two annotators: no prevalence or bias "
                    "indices, PABAK, or maximum κ; no check for the kappa paradox."
                ]
            ],
            recorded=False,
        )
    paragraphs = [
        [
            "For each field with categories (not sets of choices) and each pair of annotators, over the items both "
            "rated: the prevalence index (how unevenly the items they agreed on fall on the categories) and the bias "
            "index (how differently the two use the categories; Byrt, Bishop & Carlin, 1993), PABAK (κ adjusted "
            "for both) and κ_max, the largest κ their marginals allow (Sim & Wright, 2005). A κ far below the "
            "observed agreement while one category dominates is the kappa paradox: κ is pulled down by the "
            "prevalence, not by disagreement."
        ],
        *warned,
    ]
    if quiet:
        paragraphs.append(["No warning for ", *names(quiet), "."])
    columns = [
        "Property",
        "Pair",
        "Items",
        "Observed",
        "Cohen's κ",
        "Prevalence index",
        "Bias index",
        "PABAK",
        "κ max",
    ]
    table = Table("Diagnostics per property and pair.", columns, rows)
    return Section("diagnostics", "Agreement diagnostics", paragraphs, [table])


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
        f"than {duration(summary.idle_seconds)} without a key, click, scroll or pointer move are not counted. "
        "Training and gold checks, answers on gold issues, are counted apart from the study's own labelling."
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
        assignment__purpose=Assignment.Purpose.REAL,
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


# The apps built on this one (llm/'s language models) append theirs from AppConfig.ready(); a builder returns None
# for a study that has nothing of the kind, and the report leaves the section out.
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
