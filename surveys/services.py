"""Building a survey from a study's codebook, and the life of its responses.

Writes live here; views only turn requests into these calls. A survey's items are frozen from a codebook
version (studies/codebook_versions.py), never read from the live codebook again.
"""

import hashlib
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from studies.codebook_versions import codebook_changed
from studies.models import CodebookVersion, Study
from surveys.models import SEVERITY, Survey, SurveyResponse
from surveys.questions import cell, columns


def codebook_version_for_survey(study: Study, *, user=None) -> CodebookVersion:
    """The codebook version a new survey freezes: the latest (recorded first if the codebook has none yet)."""
    codebook_changed(study, user=user, summary="Recorded for a survey")
    return study.codebook_versions.order_by("-number").first()


def survey_create(*, study: Study, user, version: CodebookVersion, spec: dict) -> Survey:
    """A survey of the fields, choices and questions in `spec` (SurveyBuildForm.spec()), frozen from `version`."""
    items = []
    for field in version.snapshot["fields"]:
        asked = spec["fields"].get(field["key"])
        if asked is None:
            continue
        frozen = {"field": field["key"], "field_label": field.get("label", field["key"])}
        frozen["field_definition"] = field.get("definition", "")
        if "choices" in field:
            items += [
                {
                    **frozen,
                    "choice": choice["value"],
                    "label": choice.get("label", choice["value"]),
                    "definition": choice.get("definition", ""),
                    "examples": choice.get("examples", ""),
                    "questions": list(asked["questions"]),
                }
                for choice in field["choices"]
                if choice["value"] in asked["choices"]
            ]
        else:
            items.append(
                {**frozen, "choice": None, "label": frozen["field_label"], "definition": frozen["field_definition"]}
                | {"examples": "", "questions": list(asked["questions"])}
            )
    source = spec["severity_source"]
    scale_field = next((field for field in version.snapshot["fields"] if field["key"] == source), None)
    return Survey.objects.create(
        study=study,
        title=spec["title"],
        intro=spec["intro"],
        consent=spec["consent"],
        codebook_version=version.number,
        items=items,
        severity_source=source if scale_field else "",
        severity_scale=(
            [
                {key: level[key] for key in ("value", "label", "definition") if level.get(key)}
                for level in scale_field["choices"]
            ]
            if scale_field
            else SEVERITY
        ),
        background=spec["background"],
        opens_at=spec["opens_at"],
        closes_at=spec["closes_at"],
        response_limit=spec["response_limit"],
        created_by=user,
    )


def survey_close(survey: Survey) -> None:
    survey.closed = True
    survey.save(update_fields=["closed"])


def survey_reopen(survey: Survey) -> None:
    """Open again now: a closing date already past is dropped (a future one stays)."""
    survey.closed = False
    if survey.closes_at and survey.closes_at <= timezone.now():
        survey.closes_at = None
    survey.save(update_fields=["closed", "closes_at"])


# --- Respondents ---


def respondent_hash(token: str) -> str:
    """What is stored of the respondent's cookie: its SHA-256, so that a copy of the database resumes nobody."""
    return hashlib.sha256(token.encode()).hexdigest()


def response_of(survey: Survey, token: str | None) -> SurveyResponse | None:
    if not token:
        return None
    return survey.responses.filter(respondent=respondent_hash(token)).first()


def may_start_from(address: str | None) -> bool:
    """The rate limit on starting responses, per client address, counted in Django's cache (in memory) only: the
    address is never written to the database. Each call counts one start."""
    limit, window = settings.SURVEY_STARTS_PER_ADDRESS, settings.SURVEY_STARTS_WINDOW_SECONDS
    key = "survey-starts:" + hashlib.sha256((address or "").encode()).hexdigest()
    cache.add(key, 0, window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr: a new window
        cache.set(key, 1, window)
        return True


def response_start(*, survey: Survey, token: str) -> SurveyResponse:
    response, _ = SurveyResponse.objects.get_or_create(survey=survey, respondent=respondent_hash(token))
    return response


def response_save(*, response: SurveyResponse, answers: dict, page: int) -> None:
    """Merge a section's answers into the response, which resumes at `page`; an answer emptied is forgotten.
    Submitted ones stay as sent."""
    with transaction.atomic():
        locked = SurveyResponse.objects.select_for_update().get(pk=response.pk)
        if locked.submitted:
            return
        merged = {**locked.answers, **answers}
        locked.answers = {key: value for key, value in merged.items() if value is not None}
        locked.page = page
        locked.save(update_fields=["answers", "page", "updated_at"])
        response.answers, response.page = locked.answers, page


def response_submit(*, response: SurveyResponse) -> None:
    SurveyResponse.objects.filter(pk=response.pk, submitted_at__isnull=True).update(submitted_at=timezone.now())


def response_discard(response: SurveyResponse | None) -> None:
    """A bot's response (its honeypot filled in): gone, without telling it."""
    if response is not None:
        response.delete()


# --- The owner's download ---

RESPONSE_COLUMNS = ["response", "status", "started_at", "submitted_at"]


def response_rows(survey: Survey) -> tuple[list[str], Iterator[list]]:
    """One row per response: its number in the order started, whether submitted, when, then every answer."""
    asked = columns(survey)
    header = RESPONSE_COLUMNS + [name for _, name in asked]

    def rows():
        for number, response in enumerate(survey.responses.order_by("started_at", "pk").iterator(), 1):
            status = "submitted" if response.submitted else "in progress"
            times = [response.started_at.isoformat(), response.submitted_at and response.submitted_at.isoformat()]
            yield [number, status, *times, *(cell(response.answers.get(key)) for key, _ in asked)]

    return header, rows()
