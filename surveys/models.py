"""Surveys that put a study's codebook before practitioners, and their responses.

A survey freezes what it asks: its items (the codebook's fields and choices, with their definitions and examples
as the codebook version it was built from states them) and its scales are copied into the survey when it is
built, so a later change of the codebook does not change a survey people are answering.

A response belongs to a browser, not to a person: it is found again by the SHA-256 of a random token kept in the
respondent's cookie. Nothing else about the respondent is stored (no address, no account).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from studies.models import Study

AGREEMENT = [
    ("1", "Strongly disagree"),
    ("2", "Disagree"),
    ("3", "Neither agree nor disagree"),
    ("4", "Agree"),
    ("5", "Strongly agree"),
]
SEVERITY = [
    {"value": "1", "label": "1 — not severe"},
    {"value": "2", "label": "2 — slightly severe"},
    {"value": "3", "label": "3 — moderately severe"},
    {"value": "4", "label": "4 — severe"},
    {"value": "5", "label": "5 — very severe"},
]
MET = [("yes", "Yes"), ("no", "No")]


class Question(models.TextChoices):
    """What a survey may ask about each item (a field or one of its choices)."""

    AGREE = "agree", "Do you agree with its definition? (1–5)"
    MET = "met", "Have you encountered this? (yes/no)"
    SEVERITY = "severity", "How severe is it?"
    COMMENT = "comment", "A comment (free text)"


def new_token() -> str:
    """The public link's secret: unguessable, and unrelated to the study."""
    return secrets.token_urlsafe(24)


class Survey(models.Model):
    class State(models.TextChoices):
        NOT_OPEN = "not_open", "not open yet"
        OPEN = "open", "open"
        FULL = "full", "full (response limit reached)"
        CLOSED = "closed", "closed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="Markdown, shown to respondents above the questions.")
    consent = models.TextField(blank=True, help_text="Markdown; respondents agree to it before they start.")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    codebook_version = models.PositiveIntegerField(help_text="The codebook version its items were frozen from.")
    # Frozen when built: [{"field", "field_label", "choice" (None: the field itself), "label", "definition",
    # "examples", "questions": [Question values]}], in the order asked.
    items = models.JSONField(default=list)
    # The severity levels asked: [{"value", "label", "definition"?}], a field's own ordinal scale or SEVERITY.
    severity_scale = models.JSONField(default=list)
    severity_source = models.CharField(max_length=50, blank=True, help_text="The ordinal field whose levels it asks.")
    # Background questions: [{"key", "label", "choices": [...] (empty: free text), "multiple": bool}].
    background = models.JSONField(default=list)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    response_limit = models.PositiveIntegerField(null=True, blank=True)
    closed = models.BooleanField(default=False, help_text="Closed by an owner, whatever its dates.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def state(self, now=None) -> str:
        """Whether a new respondent may start now (OPEN), and if not, why."""
        now = now or timezone.now()
        if self.closed or (self.closes_at and now >= self.closes_at):
            return self.State.CLOSED
        if self.opens_at and now < self.opens_at:
            return self.State.NOT_OPEN
        if self.response_limit is not None and self.responses.count() >= self.response_limit:
            return self.State.FULL
        return self.State.OPEN

    def accepts_answers(self, now=None) -> bool:
        """Whether a respondent who has started may still answer: a full survey lets them finish."""
        return self.state(now) in (self.State.OPEN, self.State.FULL)


class SurveyResponse(models.Model):
    """One browser's answers: {question id: value} (surveys/questions.py names the ids)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    respondent = models.CharField(max_length=64, help_text="SHA-256 of the token in the respondent's cookie.")
    answers = models.JSONField(default=dict)
    # Where coming back resumes: the section last shown after a save (past the last one: the review page).
    page = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "respondent"], name="one_response_per_browser")]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.survey}"

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None
