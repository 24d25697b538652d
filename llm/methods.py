"""The methods report's section on language models (agreement/methods/), as the guidelines for LLMs in software
engineering research ask: each model's role, identifier and reported version, configuration, how it was validated
against the humans, and where its prompts and responses are logged. A study without model raters has no such
section."""

from django.db.models import Count, Q, Sum

from agreement.intervals import REPLICATES
from agreement.methods.report import Facts, Quote, Section, Table, bounds, number
from llm.agreement import compare
from llm.models import ModelAnswer


def model_raters(facts: Facts) -> Section | None:
    raters = list(facts.study.model_raters.select_related("endpoint").prefetch_related("fields").order_by("name"))
    if not raters:
        return None
    paragraphs = []
    for rater in raters:
        endpoint = rater.endpoint
        answers = ModelAnswer.objects.filter(rater=rater)
        counts = answers.aggregate(
            items=Count("id"), failed=Count("id", filter=~Q(failed="")), cut=Count("id", filter=~Q(cut={}))
        )
        runs = rater.runs.aggregate(
            requests=Sum("requests"), tokens_in=Sum("prompt_tokens"), out=Sum("completion_tokens")
        )
        versions = sorted(set(answers.exclude(model_version="").values_list("model_version", flat=True)))
        fields = [field.label for field in rater.fields.all()]
        parts = [
            f"The model {rater.name} (",
            Quote(endpoint.model),
            ", open weights" if endpoint.open_weights else "",
            "; reported versions "
            if len(versions) > 1
            else "; reported version "
            if versions
            else "; no version reported",
        ]
        for index, version in enumerate(versions):
            parts += [", " if index else "", Quote(version)]
        parts += [
            f") rated {', '.join(fields)} on {rater.issues.count()} issues as an additional rater, never as a "
            "replacement: its values were hidden from the annotators like another annotator's and never became final "
            "values by themselves"
            + (
                "; adjudicators saw them as suggestions once the annotators had submitted. "
                if rater.suggest_in_reconciliation
                else ". "
            ),
            f"Each item was asked {rater.samples} times at temperature {rater.temperature:g} (seeds 0 to "
            f"{rater.samples - 1}); the majority is its value and the share of samples giving it its confidence. "
            "Prompts held the study's guidelines, the field's definition, choices, choice definitions and examples, "
            f"and the issue's title, body and comments within {rater.context_budget:,} characters "
            f"({counts['cut']} of {counts['items']} prompts cut); answers were JSON constrained to the field's values "
            f"and checked as an annotator's are; an invalid answer was asked once more. {counts['failed']} items "
            f"failed. {runs['requests'] or 0} requests, {runs['tokens_in'] or 0} prompt and {runs['out'] or 0} "
            "completion tokens. Every prompt, parameter, raw response, value and confidence is kept and downloadable "
            "as JSON Lines per run.",
        ]
        paragraphs.append(parts)
    if not any(rater.endpoint.open_weights for rater in raters):
        paragraphs.append(["No open model was used as a baseline, as the guidelines for LLMs in SE research advise."])
    rows = []
    for field in {field for rater in raters for field in rater.fields.all()}:
        comparison = compare(facts.access, field, reps=REPLICATES)
        finals = {pair.first: pair for pair in comparison.pairs if pair.kind == "model–final"}
        for model in comparison.models:
            pair = finals[model]
            swaps = [swap for swap in comparison.swaps if swap.model == model]
            swap_text = "; ".join(
                f"{swap.replaced} {number(swap.difference)}" + bounds(_interval(swap.interval)) for swap in swaps
            )
            verdict = comparison.verdict
            rows.append(
                [
                    Quote(field.label),
                    model,
                    str(pair.alpha.n_units),
                    number(pair.alpha.value) + bounds(_interval(pair.interval)),
                    swap_text or "—",
                    "—" if verdict is None else ("met" if verdict.met else "not met"),
                ]
            )
    columns = ["Property", "Model", "Items", "α with the final values [95 % CI]", "Swap: Δα in a human's place"]
    rows.sort(key=lambda row: (str(row[0]), row[1]))
    table = Table("Language models against the humans, per property.", [*columns, "Gate"], rows)
    return Section("models", "Language models as raters", paragraphs, [table])


def _interval(interval) -> tuple:
    return (interval.low, interval.high) if interval else (None, None)
