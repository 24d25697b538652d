"""The ACM SIGSOFT Empirical Standards' supplement "Inter-Rater Reliability and Agreement", item by item: each
marked as met from the study's data, or missing with what would meet it. Antipatterns are met when avoided."""

from dataclasses import dataclass
from itertools import pairwise

from agreement.methods.report import Facts, Quote, Section
from agreement.methods.sections import TENTATIVE, below, names, plural
from studies.models import Assignment, CodebookField, FinalValue, Round

ESSENTIAL, DESIRABLE, EXTRAORDINARY, ANTIPATTERN = "essential", "desirable", "extraordinary", "antipattern"
# The fields whose diagnostics are computed (agreement/report.py): nominal, with categories (not sets of choices).
NOMINAL_WITH_CATEGORIES = (CodebookField.Kind.SINGLE, CodebookField.Kind.VOTE)


@dataclass
class Item:
    level: str
    text: str  # the standard's words, short
    met: bool
    detail: list[str]  # what shows it is met, or what would meet it: our words (str) and the study's (Quote)


def checklist(facts: Facts, sections: list[Section]) -> list[Item]:
    recorded = {section.key: section.recorded for section in sections}
    rated = [field for field in facts.fields if field.key in facts.rated]
    twice = [key for key, numbers in facts.agreement.items() if numbers["items"]]
    undefined = [
        key for key, numbers in facts.agreement.items() if numbers["items"] and numbers["krippendorff_alpha"] is None
    ]
    undefined_text = [field.label for field in facts.fields if field.key in undefined]
    no_definition = [field.label for field in rated if not field.definition.strip()]
    finals = facts.finals
    adjudicated = finals[FinalValue.Source.ADJUDICATED]
    without_rationale = adjudicated - finals["with_rationale"]
    unreliable = [field.label for field in facts.fields if field.key in twice and _below_threshold(facts, field.key)]
    undeclared = [field.label for field in facts.compared if field.key not in facts.primaries]
    late = [
        (field.label, facts.primaries[field.key])
        for field in facts.compared
        if field.key in facts.primaries and facts.primaries[field.key]["after_labelling_started"]
    ]
    pre_registered = bool(facts.compared) and not undeclared and not late
    nominal = [field for field in facts.fields if field.key in twice and field.kind in NOMINAL_WITH_CATEGORIES]
    undiagnosed = [field.label for field in nominal if not facts.agreement[field.key]["diagnostics"]]
    paradoxes = [
        field.label
        for field in nominal
        if any(warning["kind"] == "kappa_paradox" for warning in facts.agreement[field.key]["warnings"])
    ]
    trainees = (
        Assignment.objects.filter(
            study=facts.study, purpose=Assignment.Purpose.TRAINING, status=Assignment.Status.SUBMITTED
        )
        .values("annotator")
        .distinct()
        .count()
    )

    rounds = list(facts.study.rounds.order_by("number"))
    # A round records the codebook version it started under: a higher one at the next start means the scheme was
    # updated between the two (a version made after round N started and by the time round N + 1 did).
    updated = [
        (earlier, later)
        for earlier, later in pairwise(rounds)
        if later.codebook_version_start > earlier.codebook_version_start
    ]

    def item(level: str, text: str, met: bool, yes, no) -> Item:
        detail = yes if met else no
        return Item(level, text, met, detail if isinstance(detail, list) else [detail])

    return [
        item(
            ESSENTIAL,
            "Which properties were rated",
            bool(rated),
            f"{len(rated)} properties, from the codebook.",
            "No property has a submitted answer: label issues.",
        ),
        item(
            ESSENTIAL,
            "How many raters rated each property and item",
            bool(twice),
            f"Raters per property and per item, counted for {len(rated)} properties.",
            "No issue was rated by two annotators: assign each issue to at least two.",
        ),
        item(
            ESSENTIAL,
            "The independent rating process",
            bool(rated),
            "Labelling is blind; the reveal rule is the study's setting.",
            "Nothing was rated yet.",
        ),
        item(
            ESSENTIAL,
            "How disagreements were resolved",
            bool(finals[FinalValue.Source.AGREED] or adjudicated),
            f"{finals[FinalValue.Source.AGREED]} values agreed, {adjudicated} adjudicated.",
            "No final value yet: reconcile the issues rated.",
        ),
        item(
            ESSENTIAL,
            "Each variable's type",
            bool(facts.fields),
            "From each field's kind in the codebook.",
            "The codebook has no field.",
        ),
        item(
            ESSENTIAL,
            "An appropriate statistic for each type",
            bool(twice) and not undefined,
            "Krippendorff's α at each field's level (MASI for sets).",
            ["α is undefined for ", *names(undefined_text), ": the agreement page says why."]
            if undefined
            else "No field with choices rated twice: agreement needs two ratings of an issue.",
        ),
        item(
            DESIRABLE,
            "The rating scheme and decision rules",
            bool(rated) and not no_definition,
            "Every rated field has a definition in the codebook.",
            ["Write a definition for ", *names(no_definition), " in the codebook."]
            if no_definition
            else "No field was rated yet.",
        ),
        item(
            DESIRABLE,
            "Example disagreements",
            recorded["examples"],
            "Examples with both values and the decision's rationale.",
            "Decide an issue whose annotators differed; choose it as an example on the Methods report page.",
        ),
        item(
            DESIRABLE,
            "IRR broken down by property",
            bool(twice),
            f"Agreement for {len(twice)} properties.",
            "Rate issues twice to measure agreement per property.",
        ),
        item(
            DESIRABLE,
            "IRR broken down by wave",
            recorded["rounds"],
            "Agreement per calibration round.",
            "Run calibration rounds.",
        ),
        item(
            DESIRABLE,
            "A justified statistic with established thresholds",
            pre_registered,
            "A primary statistic and its threshold, with the threshold's source, declared per field before labelling.",
            _undeclared(undeclared, late, facts),
        ),
        item(
            DESIRABLE,
            "Analysis of anomalies such as the kappa paradox",
            bool(nominal) and not undiagnosed,
            [
                "Prevalence and bias indices, PABAK and the maximum κ for every nominal property rated twice "
                f"({len(nominal)})",
                *([", and the kappa paradox explained for ", *names(paradoxes), "."] if paradoxes else ["."]),
            ],
            ["No diagnostics for ", *names(undiagnosed), ": they need two annotators' ratings on common items."]
            if undiagnosed
            else "No nominal property was rated by two annotators: the diagnostics need two ratings of an issue.",
        ),
        item(
            DESIRABLE,
            "A description of rater training",
            recorded["training"] and bool(trainees),
            f"Gold issues with reference answers; accuracy and κ against them for {plural(trainees, 'trainee')}.",
            "Annotators trained on gold issues: nobody has submitted a training issue yet."
            if recorded["training"]
            else "Train annotators on gold items.",
        ),
        item(
            DESIRABLE,
            "Disagreements resolved by discussion",
            bool(adjudicated) and not without_rationale,
            "Every adjudicated value has a written rationale.",
            f"{without_rationale} adjudicated values have no rationale: write it on the reconciliation page."
            if without_rationale
            else "No value was adjudicated yet: reconcile the disagreements.",
        ),
        item(
            EXTRAORDINARY,
            "Iterative cycles (rate a subset, resolve, update the scheme), IRR for each cycle",
            recorded["rounds"] and bool(updated),
            _cycles(rounds, updated),
            _no_cycles(rounds),
        ),
        item(
            ANTIPATTERN,
            "Avoided: computing several statistics and reporting the most favourable",
            pre_registered,
            "The primary statistic of every rated property was declared before labelling; the others are secondary.",
            _undeclared(undeclared, late, facts),
        ),
        item(
            ANTIPATTERN,
            "Avoided: presenting a below-threshold value as good",
            True,
            [
                "Each primary statistic (or else α) is stated against its threshold",
                *([" (below it: ", *names(unreliable), ")."] if unreliable else ["; none is below it."]),
            ],
            "",
        ),
    ]


def _cycles(rounds: list[Round], updated: list[tuple[Round, Round]]) -> str:
    between = ", ".join(
        f"rounds {earlier.number} and {later.number} (v{earlier.codebook_version_start} → "
        f"v{later.codebook_version_start})"
        for earlier, later in updated
    )
    return f"IRR reported for each of {len(rounds)} calibration rounds; the codebook was updated between {between}."


def _no_cycles(rounds: list[Round]) -> str:
    if not rounds:
        return "Run calibration rounds, updating the codebook between them."
    if len(rounds) == 1:
        return (
            "Only one calibration round: a cycle needs a second, after its disagreements are resolved and the "
            "codebook updated."
        )
    return (
        f"{len(rounds)} calibration rounds, but the codebook did not change between any two of them: update it "
        "after a round's discussion, before the next round starts."
    )


def _below_threshold(facts: Facts, key: str) -> bool:
    """Below the field's declared threshold (its primary statistic), or else below Krippendorff's 0.667 (α)."""
    primary = facts.primaries.get(key)
    if primary is not None:
        return not primary["met"]
    return bool(below(facts.agreement[key]["krippendorff_alpha"], TENTATIVE))


def _undeclared(undeclared: list[str], late: list[tuple[str, dict]], facts: Facts) -> list[str]:
    """What keeps the statistic from being pre-registered: fields without a declaration, declarations made late."""
    if not facts.compared:
        return ["No property was rated yet: declare a primary statistic and threshold per field before labelling."]
    sentences = []
    if undeclared:
        sentences.append(
            ["No primary statistic was declared for ", *names(undeclared), ": pre-register one per field."]
        )
    for label, primary in late:
        reasons = [d["reason"] for d in primary["declarations"] if d["after_labelling_started"] and d["reason"]]
        sentences.append(
            [
                "The primary statistic of ",
                Quote(label),
                " was declared or changed after labelling started",
                *([" (", Quote(reasons[-1]), ")"] if reasons else []),
                ": chosen knowing the data, it may be the most favourable.",
            ]
        )
    return [part for index, sentence in enumerate(sentences) for part in ([" "] if index else []) + sentence]
