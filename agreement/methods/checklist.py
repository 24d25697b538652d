"""The ACM SIGSOFT Empirical Standards' supplement "Inter-Rater Reliability and Agreement", item by item: each
marked as met from the study's data, or missing with what would meet it. Antipatterns are met when avoided."""

from dataclasses import dataclass

from agreement.methods.report import Facts, Section
from agreement.methods.sections import TENTATIVE, below, names
from studies.models import FinalValue

ESSENTIAL, DESIRABLE, EXTRAORDINARY, ANTIPATTERN = "essential", "desirable", "extraordinary", "antipattern"


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
    unreliable = [
        field.label
        for field in facts.fields
        if field.key in twice and below(facts.agreement[field.key]["krippendorff_alpha"], TENTATIVE)
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
            recorded["primary"],
            "A primary statistic and threshold declared per field before labelling.",
            "Declare a primary statistic and threshold per field before labelling.",
        ),
        item(
            DESIRABLE,
            "Analysis of anomalies such as the kappa paradox",
            recorded["diagnostics"],
            "Prevalence and bias indices, PABAK and the maximum κ per field.",
            "Agreement diagnostics: prevalence and bias indices, PABAK, the maximum κ.",
        ),
        item(
            DESIRABLE,
            "A description of rater training",
            recorded["training"],
            "Trainees' accuracy and κ against gold items.",
            "Train annotators on gold items.",
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
            recorded["rounds"],
            "IRR reported for each calibration round.",
            "Run calibration rounds, updating the codebook between them.",
        ),
        item(
            ANTIPATTERN,
            "Avoided: computing several statistics and reporting the most favourable",
            recorded["primary"],
            "The primary statistic was declared before labelling; others are secondary.",
            "Only a statistic declared before labelling rules this out: pre-register one per field.",
        ),
        item(
            ANTIPATTERN,
            "Avoided: presenting a below-threshold value as good",
            True,
            [
                "Each α is stated against its threshold",
                *([" (below it: ", *names(unreliable), ")."] if unreliable else ["; none is below it."]),
            ],
            "",
        ),
    ]
