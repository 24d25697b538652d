"""Suggested final values shown where an issue is reconciled, from the apps built on this one (llm/'s model
raters). They register a provider from their AppConfig.ready(), as studies imports none of them; who may see
suggestions is studies/access.py's rule (`may_see_model_suggestions`)."""

from collections.abc import Callable
from dataclasses import dataclass

from studies.access import StudyAccess
from studies.models import StudyIssue


@dataclass
class Suggestion:
    source: str  # who suggests it, as the page names it
    value: object  # as an annotation stores it
    note: str = ""  # e.g. how sure


# provider(study_issue) -> {field id: [Suggestion, …]}
SUGGESTION_PROVIDERS: list[Callable[[StudyIssue], dict[int, list[Suggestion]]]] = []


def suggestions(access: StudyAccess, study_issue: StudyIssue) -> dict[int, list[Suggestion]]:
    if not SUGGESTION_PROVIDERS or not access.may_see_model_suggestions(study_issue):
        return {}
    found: dict[int, list[Suggestion]] = {}
    for provider in SUGGESTION_PROVIDERS:
        for field_id, items in provider(study_issue).items():
            found.setdefault(field_id, []).extend(items)
    return found
