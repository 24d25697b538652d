"""Language models as extra raters of a study: the endpoints an admin configured, the model raters an owner added,
their runs, and every answer with the prompt and the raw response it came from (llm/runs.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from studies.models import CodebookField, Study, StudyIssue, tracked


class Endpoint(models.Model):
    """An OpenAI-compatible chat-completions API: the only host the app sends prompts to (llm/client.py)."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(
        max_length=500, help_text="Up to /v1, e.g. http://127.0.0.1:8080/v1 for a local llama.cpp server."
    )
    model = models.CharField(max_length=200, help_text="The model's name as the API takes it.")
    api_key_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[A-Z_][A-Z0-9_]*$", "An environment variable's name: A-Z, 0-9 and _.")],
        help_text="The environment variable of the server and task worker that holds the key (empty: no key).",
    )
    open_weights = models.BooleanField(
        default=False, help_text="An open model: the LLM guidelines for SE ask for one as a baseline."
    )
    max_in_flight = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
        help_text="Requests sent at once: what the endpoint allows.",
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    request_budget = models.PositiveIntegerField(help_text="Requests the app may send to it in all.")
    requests_sent = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    @property
    def requests_left(self) -> int:
        return max(0, self.request_budget - self.requests_sent)


class ModelRater(models.Model):
    """A model rating some fields of some issues of a study, k times each at a temperature."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="model_raters")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="raters")
    name = models.SlugField(max_length=50, help_text="How the reports name it, e.g. qwen-7b.")
    fields = models.ManyToManyField(CodebookField, related_name="model_raters")
    issues = models.ManyToManyField(StudyIssue, related_name="model_raters")
    samples = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Answers asked per issue and field (k): their majority is its value, their agreement its "
        "confidence.",
    )
    temperature = models.FloatField(default=0.7, validators=[MinValueValidator(0), MaxValueValidator(2)])
    context_budget = models.PositiveIntegerField(
        default=24_000,
        validators=[MinValueValidator(2_000), MaxValueValidator(1_000_000)],
        help_text="Characters of the issue (title, body, comments) a prompt may hold; what is cut is recorded.",
    )
    suggest_in_reconciliation = models.BooleanField(
        default=False,
        help_text="Those who reconcile an issue see its values, marked as model suggestions, once the humans "
        "have submitted.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="unique_model_rater_name")]

    def __str__(self) -> str:
        return f"{self.name} in {self.study}"


class ModelRun(models.Model):
    """One pass of a model rater over its issues and fields, run by the task worker."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PAUSED = "paused"
        DONE = "done"
        FAILED = "failed"

    rater = models.ForeignKey(ModelRater, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    pause_requested = models.BooleanField(default=False)
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0, help_text="Answered (or failed) in this run.")
    items_reused = models.PositiveIntegerField(default=0, help_text="Unchanged since an earlier run: not asked.")
    items_failed = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.rater}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ModelAnswer(models.Model):
    """A model's answer on one field of one issue in one run: its k samples (each with its raw response), their
    majority value and confidence, and the prompt they answered, for the paper's log."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="answers")
    rater = models.ForeignKey(ModelRater, on_delete=models.CASCADE, related_name="answers")
    study_issue = models.ForeignKey(StudyIssue, on_delete=models.CASCADE, related_name="model_answers")
    field = models.ForeignKey(CodebookField, on_delete=models.CASCADE, related_name="model_answers")
    # What the answer depends on: model, prompt, parameters and codebook version; an unchanged item is reused.
    prompt_hash = models.CharField(max_length=64)
    codebook_version = models.PositiveIntegerField()
    messages = models.JSONField(help_text="The prompt, as sent.")
    cut = models.JSONField(default=dict, help_text="What of the issue did not fit the context budget.")
    parameters = models.JSONField(default=dict)
    samples = models.JSONField(default=list, help_text="Each request: raw response, parsed value or why not.")
    value = models.JSONField(null=True, blank=True, help_text="The majority of the valid samples.")
    confidence = models.FloatField(null=True, blank=True, help_text="Share of the k samples giving that value.")
    failed = models.TextField(blank=True, help_text="Why no sample gave a valid value.")
    model_version = models.CharField(max_length=300, blank=True, help_text="The model and version it reported.")
    reused_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "study_issue", "field"], name="unique_model_answer"),
        ]
        indexes = [models.Index(fields=["rater", "prompt_hash"])]

    def __str__(self) -> str:
        return f"{self.rater.name} on {self.field.key} of {self.study_issue}"


@tracked()
class ModelGate(models.Model):
    """What an owner requires before a field's labelling may lean on models (llm/agreement.py checks it). Every
    setting and change is kept by the history triggers: a gate loosened after seeing the results shows."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="model_gates")
    field = models.OneToOneField(CodebookField, on_delete=models.CASCADE, related_name="model_gate")
    min_model_alpha = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Krippendorff's α every two models must reach on the field.",
    )
    swap_margin = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Putting a model in the place of any human may change α by at most this much (95 % interval).",
    )
    confidence_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="A model's answer counts as sure when this share of its samples or more agree.",
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Model gate of {self.field}"
