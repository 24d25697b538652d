"""Adding a model rater to a study: its endpoint, the fields it rates and the issues it rates them on."""

from django.db import transaction

from agreement.rounds import draw_sample
from llm.models import Endpoint, ModelRater
from llm.prompts import RATED_KINDS
from studies.models import CodebookField, Study


class RaterError(ValueError):
    """A rater that cannot be added as asked; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def rated_fields(study: Study):
    """The fields a model can rate: those with choices, levels or a vote."""
    return study.fields.filter(kind__in=list(RATED_KINDS)).order_by("position", "id")


@transaction.atomic
def rater_add(
    *,
    study: Study,
    user,
    endpoint: Endpoint,
    name: str,
    fields: list[CodebookField],
    scope: str,
    round_number: int | None = None,
    size: int | None = None,
    seed: int = 0,
    samples: int = 5,
    temperature: float = 0.7,
    context_budget: int = 24_000,
    suggest_in_reconciliation: bool = False,
) -> ModelRater:
    """scope: "all" the study's issues, a calibration "round", or a random "sample" of `size` drawn with `seed`."""
    if name == "add":  # the address of the form that adds raters
        raise RaterError("“add” is taken by the page itself: choose another name.", field="name")
    if study.model_raters.filter(name=name).exists():
        raise RaterError(f"This study has a model rater named {name} already.", field="name")
    if not fields:
        raise RaterError("Choose at least one field with choices, levels or a vote.", field="fields")
    issues = list(study.study_issues.order_by("id"))
    if scope == "round":
        chosen = study.rounds.filter(number=round_number).first()
        if chosen is None:
            raise RaterError(f"This study has no calibration round {round_number}.", field="round_number")
        issues = list(chosen.issues.order_by("id"))
    elif scope == "sample":
        if not size or size > len(issues):
            raise RaterError(f"Draw between 1 and {len(issues)} issues: the study has {len(issues)}.", field="size")
        chosen = set(draw_sample({"": [study_issue.pk for study_issue in issues]}, size, seed))
        issues = [study_issue for study_issue in issues if study_issue.pk in chosen]
    if not issues:
        raise RaterError("The study has no issue to rate yet.", field="scope")
    rater = ModelRater.objects.create(
        study=study,
        endpoint=endpoint,
        name=name,
        samples=samples,
        temperature=temperature,
        context_budget=context_budget,
        suggest_in_reconciliation=suggest_in_reconciliation,
        created_by=user,
    )
    rater.fields.set(fields)
    rater.issues.set(issues)
    return rater
