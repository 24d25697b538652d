"""Studies: a set of issues that a team labels, who takes part, the codebook
they label with, and who labels which issue."""

import re
from collections import Counter

import pghistory
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import connection, models
from django.db.models import ProtectedError
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from annotator.bidi import isolate
from issues.models import Issue
from studies.versions import version_trigger

# Rows a bulk change must reach before the history tables' statistics are refreshed.
BULK = 1_000


def after_bulk_change(rows: int) -> None:
    """ANALYZE the history tables after a bulk change (30,000 assignments, 10,000 issues added).

    Until autovacuum comes by, PostgreSQL plans for the tables as they were: the first history query after a
    bulk assignment took 82 s instead of 2 s. ANALYZE takes a tenth of a second.
    """
    if rows >= BULK:
        tables = [
            m._meta.db_table for m in apps.get_app_config("studies").get_models() if m.__name__.endswith("Event")
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def tracked():
    """Every insert, update and delete of the model is recorded by PostgreSQL triggers (studies/history.py).

    Statement-level triggers: a bulk insert of 30,000 assignments is one trigger call, not 30,000.
    """
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), level=pghistory.Statement
    )


class StudyQuerySet(models.QuerySet):
    def visible_to(self, user) -> "StudyQuerySet":
        """Admins see every study; researchers only those they are members of."""
        if user.is_staff:
            return self.all()
        # A subquery, not a join: a join on memberships would leave only the user's own rows for annotations
        # that count members.
        return self.filter(models.Exists(Membership.objects.filter(study=models.OuterRef("pk"), user=user)))


@tracked()
class Study(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown, shown to annotators beside the codebook.")
    screening = models.BooleanField(
        default=True, help_text="Issues are first voted in or out, and only those kept are labelled."
    )
    annotators_per_issue = models.PositiveSmallIntegerField(default=2, help_text="How many people label each issue.")
    # The screening rule, once every vote of an issue is in: at least `accept` include votes (empty: all of
    # them) send it to labelling; at least `discuss` to the discussion queue; fewer exclude it.
    screening_accept_votes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Include votes that send an issue to labelling (empty: every vote)."
    )
    screening_discuss_votes = models.PositiveSmallIntegerField(
        default=1, help_text="Include votes that send an issue to discussion; with fewer it is excluded."
    )
    reveal_after_decision = models.BooleanField(
        default=False,
        help_text="Annotators see the others' values only once an issue is decided (else: from reconciliation).",
    )
    annotators_reconcile = models.BooleanField(
        default=False, help_text="The annotators of an issue may reconcile it together, not only adjudicators."
    )
    annotators_see_agreement = models.BooleanField(
        default=False, help_text="Annotators may open the agreement report (owners and adjudicators always can)."
    )
    # Gold issues (studies/gold.py): training before real work, and checks mixed into the queues.
    training_required = models.BooleanField(
        default=False, help_text="Annotators label the gold issues first; real work opens once they pass."
    )
    training_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Accuracy against gold, on every required field, that passes training (0 to 1).",
    )
    gold_check_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(50)],
        help_text="Gold issues mixed into each annotator's labelling queue, as a percentage of it (0: none).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issues = models.ManyToManyField(
        Issue, through="StudyIssue", through_fields=("study", "issue"), related_name="studies"
    )

    objects = StudyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["name"]
        constraints = [
            # Annotators reconciling together must see each other's values in reconciliation.
            models.CheckConstraint(
                condition=~models.Q(reveal_after_decision=True, annotators_reconcile=True),
                name="reconcile_together_reveals_in_reconciliation",
                violation_error_message="Annotators who reconcile together see each other's values in "
                "reconciliation: they cannot also wait for the decision.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def stage_table(self, per_annotator: bool = False) -> tuple[list[str], list[dict]]:
        """How many issues sit in each stage (decided ones as included and excluded), in the method's order;
        with `per_annotator`, also how many of the issues each annotator is assigned.

        Returns the annotators and the rows: label, the issue list's filter for it (`status`, where there is
        one), count, and the counts per annotator in the annotators' order.
        """

        def key(stage, decision):
            return f"{stage}:{decision}" if stage == IssueStage.DECIDED else stage

        totals = Counter()
        for row in self.study_issues.values("stage", "decision").annotate(n=models.Count("id")):
            totals[key(row["stage"], row["decision"])] += row["n"]
        by_annotator: dict[str, Counter] = {}
        if per_annotator:
            here = StudyIssue.objects.filter(study=self, issue=models.OuterRef("issue"))
            rows = (
                self.assignments.annotate(
                    issue_stage=models.Subquery(here.values("stage")[:1]),
                    issue_decision=models.Subquery(here.values("decision")[:1]),
                )
                .values("annotator__username", "issue_stage", "issue_decision")
                .annotate(n=models.Count("issue", distinct=True))
            )
            for row in rows:
                counts = by_annotator.setdefault(row["annotator__username"], Counter())
                counts[key(row["issue_stage"], row["issue_decision"])] += row["n"]
        annotators = sorted(by_annotator)
        lines = [("screening", "screening", "")] if self.screening else []
        lines += [
            ("screening discussion", IssueStage.DISCUSSION, "discussion"),
            ("labelling", IssueStage.LABELLING, ""),
            ("reconciliation", IssueStage.RECONCILIATION, "reconciliation"),
            ("decided: included", f"decided:{StudyIssue.Decision.INCLUDE}", "included"),
            ("decided: excluded", f"decided:{StudyIssue.Decision.EXCLUDE}", "excluded"),
        ]
        return annotators, [
            {
                "label": label,
                "status": status,
                "count": totals[name],
                "by_annotator": [by_annotator[annotator][name] for annotator in annotators],
            }
            for label, name, status in lines
        ]

    @property
    def first_stage(self) -> str:
        return IssueStage.SCREENING if self.screening else IssueStage.LABELLING

    def add_issues(self, issue_ids) -> list["StudyIssue"]:
        """Add these issues (ids) at the study's first stage; those already in the study stay as they are."""
        added = StudyIssue.objects.bulk_create(
            [StudyIssue(study=self, issue_id=issue_id, stage=self.first_stage) for issue_id in issue_ids],
            ignore_conflicts=True,
        )
        after_bulk_change(len(added))
        return added

    def progress(self, annotator=None, *, gold_apart: bool = False) -> list[dict]:
        """Assignments done and to do, per stage and annotator (one annotator's when given).

        An annotator's own progress counts their training and gold checks with the rest (they are not told which
        issues are checks); the team's, `gold_apart`, counts the study's own work and gives the gold work as `gold`.
        """
        assignments = self.assignments.all()
        if annotator is not None:
            assignments = assignments.filter(annotator=annotator)
        counted = models.Q(purpose="real") if gold_apart else models.Q()
        rows = (
            assignments.values("stage", "annotator__username")
            .annotate(
                total=models.Count("id", filter=counted),
                submitted=models.Count("id", filter=counted & models.Q(status="submitted")),
                started=models.Count("id", filter=counted & models.Q(status="in_progress")),
                gold=models.Count("id", filter=~models.Q(purpose="real")),
            )
            .order_by("-stage", "annotator__username")
        )
        return [{**row, "remaining": row["total"] - row["submitted"]} for row in rows]


@tracked()
class Membership(models.Model):
    """One role of one user in one study; a user may hold several roles."""

    class Role(models.TextChoices):
        OWNER = "owner"
        ADJUDICATOR = "adjudicator"
        ANNOTATOR = "annotator"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role)

    class Meta:
        ordering = ["study", "user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user", "role"], name="unique_membership_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} of {self.study}"


class IssueStage(models.TextChoices):
    """Where an issue is in the study's method (issues/workflow.py moves it)."""

    SCREENING = "screening", "screening"
    DISCUSSION = "discussion", "screening discussion"
    LABELLING = "labelling", "labelling"
    RECONCILIATION = "reconciliation", "reconciliation"
    DECIDED = "decided", "decided"


class StudyIssueQuerySet(models.QuerySet):
    def revealed_to(self, access) -> "StudyIssueQuerySet":
        """The study's issues whose values the viewer sees (studies/access.py: the only place the rule lives)."""
        return self.filter(study=access.study).filter(access.revealed_filter())


@tracked()
class StudyIssue(models.Model):
    """An issue in a study: its stage, and the decision taken on it."""

    class Decision(models.TextChoices):
        INCLUDE = "include", "included"
        EXCLUDE = "exclude", "excluded"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", "duplicate of another issue"
        NOT_A_BUG = "not_a_bug", "not a bug"
        USER_ERROR = "user_error", "user error"
        NOT_REPRODUCIBLE = "not_reproducible", "not reproducible"
        SCREENED_OUT = "screened_out", "voted out in screening"
        OTHER = "other"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_issues")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="study_issues")
    added_at = models.DateTimeField(auto_now_add=True)
    stage = models.CharField(max_length=20, choices=IssueStage, default=IssueStage.LABELLING)
    # The adjudicator's word on a split screening vote.
    screening_note = models.TextField(blank=True)
    decision = models.CharField(max_length=10, choices=Decision, blank=True)
    reason = models.CharField(max_length=20, choices=Reason, blank=True, help_text="Why it was excluded.")
    duplicate_of = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_note = models.TextField(blank=True, help_text="The rationale, in Markdown.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Raised by every change of stage or decision: a form based on an older version is refused (HTTP 409).
    version = models.PositiveIntegerField(default=1)

    objects = StudyIssueQuerySet.as_manager()

    class Meta:
        ordering = ["study", "issue"]
        constraints = [
            models.UniqueConstraint(fields=["study", "issue"], name="unique_study_issue"),
        ]
        indexes = [models.Index(fields=["study", "stage"], name="study_issue_stage")]
        triggers = [version_trigger()]

    def __str__(self) -> str:
        return f"{self.issue} in {self.study}"


class Stage(models.TextChoices):
    SCREENING = "screening"
    LABELLING = "labelling"


@tracked()
class CodebookField(models.Model):
    """One question of a study's codebook. Its key is stable: labels may change, data stays put."""

    class Kind(models.TextChoices):
        SINGLE = "single", "single choice"
        MULTIPLE = "multiple", "multiple choice"
        ORDINAL = "ordinal", "ordinal scale"
        VOTE = "vote", "yes/no vote with comment"
        TEXT = "text", "free text"
        URLS = "urls", "list of URLs"
        VERSION = "version", "version"
        COMMITS = "commits", "list of commit SHAs"

    CHOICE_KINDS = {Kind.SINGLE, Kind.MULTIPLE, Kind.ORDINAL}

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="fields")
    key = models.CharField(
        max_length=50,
        validators=[
            RegexValidator(r"^[a-z][a-z0-9_]*$", "Use lower-case letters, digits and _, starting with a letter.")
        ],
    )
    label = models.CharField(max_length=200)
    definition = models.TextField(blank=True, help_text="Markdown, shown next to the field.")
    kind = models.CharField(max_length=10, choices=Kind)
    stage = models.CharField(max_length=10, choices=Stage, default=Stage.LABELLING)
    required = models.BooleanField(default=False)
    max_choices = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Multiple choice: at most this many."
    )
    allow_other = models.BooleanField(default=False, help_text="Choice fields: allow “Other…” with free text.")
    position = models.PositiveIntegerField(default=0)
    # The codebook version since which the field means what it means now (0: ever since it was made): answers made
    # under an earlier version are queued for their annotators to re-check (studies/codebook_versions.py).
    meaning_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["study", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="unique_field_key")]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def has_choices(self) -> bool:
        return self.kind in self.CHOICE_KINDS

    def clean_value(self, value):
        """The value an annotator gives, checked and normalised for storage (JSON); ValidationError if wrong.

        None (or an empty list or text) means "no answer yet".
        """
        if value in (None, "", []):
            return None
        label = isolate(self.label)  # quoted in the errors below
        match self.kind:
            case self.Kind.SINGLE:
                return self._choice(value)
            case self.Kind.MULTIPLE:
                values = value if isinstance(value, list) else [value]
                if self.max_choices and len(values) > self.max_choices:
                    raise ValidationError(f"At most {self.max_choices} values for {label}.")
                cleaned = [self._choice(item) for item in values]
                if len({repr(item) for item in cleaned}) < len(cleaned):
                    raise ValidationError("A value is given twice.")
                return cleaned
            case self.Kind.ORDINAL:
                level = str(value)
                if level not in self._choice_values():
                    raise ValidationError(
                        f"{label} is a level from {', '.join(sorted(self._choice_values()))}, not {value!r}."
                    )
                return int(level) if level.isdigit() else level
            case self.Kind.VOTE:
                vote = value.get("vote") if isinstance(value, dict) else value
                if vote not in (True, False):
                    raise ValidationError(f"A vote is yes or no; {label} got {vote!r}.")
                comment = value.get("comment", "") if isinstance(value, dict) else ""
                return {
                    "vote": vote,
                    "comment": checked_text(comment, f"The comment on {label}", MAX_TEXT),
                }
            case self.Kind.TEXT | self.Kind.VERSION:
                text = checked_text(value, label, MAX_VERSION if self.kind == self.Kind.VERSION else MAX_TEXT)
                return text or None
            case self.Kind.URLS:
                urls = _lines(value)
                validate = URLValidator(schemes=["http", "https"])
                for url in urls:
                    try:
                        validate(url)
                    except ValidationError:
                        raise ValidationError(f"Enter a valid URL (http or https) in {label}: {url!r}") from None
                return urls or None
            case self.Kind.COMMITS:
                shas = [sha.lower() for sha in _lines(value)]
                bad = [sha for sha in shas if not COMMIT_SHA.fullmatch(sha)]
                if bad:
                    raise ValidationError(f"Not a commit SHA (7 to 40 hex digits): {', '.join(bad)}.")
                return shas or None
        raise ValidationError(f"Unknown field kind {self.kind!r}.")

    def _choice_values(self) -> set[str]:
        return {choice.value for choice in self.choices.all()}

    def _choice(self, value):
        if isinstance(value, dict) and self.allow_other:
            other = checked_text(value.get("other", ""), f"“Other” of {isolate(self.label)}", MAX_CHOICE)
            if not other:
                raise ValidationError("Say what “Other” is.")
            return {"other": other}
        if not isinstance(value, str) or value not in self._choice_values():
            raise ValidationError(f"{value!r} is not a value of {isolate(self.label)}.")
        return value

    def clean(self):
        if self.max_choices is not None and self.kind != self.Kind.MULTIPLE:
            raise ValidationError({"max_choices": "Only a multiple-choice field has a maximum."})
        if self.allow_other and self.kind not in self.CHOICE_KINDS - {self.Kind.ORDINAL}:
            raise ValidationError({"allow_other": "Only single and multiple choice fields take “Other…”."})


COMMIT_SHA = re.compile(r"[0-9a-f]{7,40}")
# Longest answers: a text, a comment or a note; a version; a choice value (an "Other…" text may become one).
MAX_TEXT = 10_000
MAX_VERSION = 100
MAX_CHOICE = 200
# How an "Other…" answer ({"other": text}) reads in exports, reports and agreement, and is read back on import.
OTHER_PREFIX = "Other: "


def checked_text(text, what: str, max_length: int) -> str:
    """The text, stripped; ValidationError naming `what` if it is too long or holds a NUL, which PostgreSQL refuses."""
    text = str(text).strip()
    if "\x00" in text:
        raise ValidationError(f"{what} contains a NUL character (\\x00), which cannot be stored.")
    if len(text) > max_length:
        raise ValidationError(f"{what} is at most {max_length:,} characters, not {len(text):,}.")
    return text


def _lines(value) -> list[str]:
    """A list given as a list, or as text with one item a line (or separated by commas or spaces)."""
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


@tracked()
class Choice(models.Model):
    """A value a choice field offers, in order; for an ordinal scale, one level (its value is the number)."""

    field = models.ForeignKey(CodebookField, on_delete=models.CASCADE, related_name="choices")
    value = models.CharField(max_length=200, help_text="Stored in annotations and exports; stable.")
    label = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    examples = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["field", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["field", "value"], name="unique_choice_value")]

    def __str__(self) -> str:
        return self.label

    def uses(self) -> int:
        """How many annotations, final values and gold answers hold this choice (alone, or in a list)."""
        values = [self.value] + ([int(self.value)] if self.value.isdigit() else [])
        holds = models.Q()
        for value in values:
            holds |= models.Q(value=value) | models.Q(value__contains=[value])
        return sum(
            model.objects.filter(field_id=self.field_id).filter(holds).count()
            for model in (Annotation, FinalValue, GoldAnswer)
        )


@receiver(pre_delete, sender=Choice)
def keep_choices_in_use(sender, instance: Choice, origin=None, **kwargs) -> None:
    """Whatever deletes it (the codebook page, the admin, a script), a choice in use stays until merged away;
    unless its whole study is being deleted, answers and all."""
    deleting_a_study = isinstance(origin, Study) or getattr(origin, "model", None) is Study
    if not deleting_a_study and (uses := instance.uses()):
        raise ProtectedError(
            f"“{instance.label}” is held by {uses} recorded value{'s' if uses != 1 else ''}; merge it into another "
            "choice first.",
            {instance},
        )


class AssignmentQuerySet(models.QuerySet):
    def real(self) -> "AssignmentQuerySet":
        """The study's own labelling: what agreement, reconciliation, the workflow and exports count; never the
        training and check answers on gold issues (studies/gold.py)."""
        return self.filter(purpose=Assignment.Purpose.REAL)


@tracked()
class Assignment(models.Model):
    """One annotator's task: label one issue of a study at one stage."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned"
        IN_PROGRESS = "in_progress", "in progress"
        SUBMITTED = "submitted"

    class Purpose(models.TextChoices):
        REAL = "real", "labelling"
        TRAINING = "training"
        # A gold issue mixed into the queue: labelled like any other, scored against gold, counted nowhere else.
        CHECK = "check"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="assignments")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    stage = models.CharField(max_length=10, choices=Stage)
    status = models.CharField(max_length=12, choices=Status, default=Status.ASSIGNED)
    assigned_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(max_length=8, choices=Purpose, default=Purpose.REAL)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["study", "stage", "issue", "annotator"]
        constraints = [
            models.UniqueConstraint(fields=["study", "issue", "annotator", "stage"], name="unique_assignment"),
        ]
        indexes = [
            models.Index(fields=["study", "annotator", "stage", "status"], name="assignment_queue"),
            # The annotator's previous and next issue (j / k) in one index step each.
            models.Index(fields=["study", "annotator", "stage", "issue"], name="assignment_queue_order"),
        ]

    def __str__(self) -> str:
        return f"{self.issue} → {self.annotator} ({self.stage})"


class ActiveTime(models.Model):
    """How long an annotator worked on an assignment: the annotation page in the foreground and in use, as its page
    reports it and studies/effort.py credits it.

    Not in the history: the page reports every half minute, and those rows would bury the changes that matter.
    """

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="active_time")
    seconds = models.FloatField(default=0)
    # The page's opening plus the seconds credited since: a report may claim no more than the wall time after it
    # (studies/effort.py), so that however often reports come, they never add up to more than the time that passed.
    credited_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.seconds:.0f} s on {self.assignment}"


class ReconciliationTime(models.Model):
    """How long a member worked on an issue's screening discussion or reconciliation (which have no assignments),
    measured as ActiveTime is, on the issue's reconciliation page."""

    study_issue = models.ForeignKey(StudyIssue, on_delete=models.CASCADE, related_name="reconciliation_times")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=20, choices=IssueStage)
    seconds = models.FloatField(default=0)
    credited_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study_issue", "user", "stage"], name="unique_reconciliation_time")
        ]

    def __str__(self) -> str:
        return f"{self.seconds:.0f} s of {self.user} on {self.study_issue} ({self.stage})"


@tracked()
class Annotation(models.Model):
    """One annotator's answer to one codebook field, for the issue and stage of their assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="annotations")
    # RESTRICT, not PROTECT: a field with answers stays, but a study goes with its fields and answers together.
    field = models.ForeignKey(CodebookField, on_delete=models.RESTRICT, related_name="annotations")
    # As CodebookField.clean_value gives it: a choice value, a list, a level, {"vote", "comment"}, text.
    value = models.JSONField(null=True, blank=True)
    uncertain = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised by every save: a save from a page showing an older version is refused (HTTP 409).
    version = models.PositiveIntegerField(default=1)
    # The number of the codebook version it was made (or last confirmed) under (CodebookVersion.number).
    codebook_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["assignment", "field__position"]
        constraints = [models.UniqueConstraint(fields=["assignment", "field"], name="unique_annotation")]
        triggers = [version_trigger()]

    def __str__(self) -> str:
        return f"{self.field.key} = {self.value!r} ({self.assignment})"

    @property
    def is_answered(self) -> bool:
        return self.value is not None


class CodebookChange(models.Model):
    """A change to a codebook: who, when, what; a promoted or merged code also says how many annotations it rewrote."""

    class Action(models.TextChoices):
        PROMOTE = "promote", "promoted a code to a choice"
        MERGE = "merge", "merged into a choice"
        ADD = "add", "added"
        RENAME = "rename", "renamed"
        DELETE = "delete", "deleted"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_changes")
    field = models.ForeignKey(CodebookField, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=10, choices=Action)
    source = models.CharField(max_length=200, blank=True, help_text="The code, choice or label before.")
    target = models.CharField(max_length=200, blank=True, help_text="The choice or label after.")
    annotations_changed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field.key}: {self.source} → {self.target}"


class CodebookVersion(models.Model):
    """One numbered state of a study's codebook (1, 2, 3…): a snapshot as the codebook export writes it, and what
    changed since the version before, in studies/codebook_versions.py's words."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField(help_text="The codebook's fields and choices, as its JSON export writes them.")
    # [{"change": "added|removed|renamed|redefined|changed|merged|reordered", "field": key, "choice": value, …}]
    diff = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=200, blank=True, help_text="How the change was made.")
    # Keys of the fields whose meaning the owner said this version changed: their earlier answers are re-checked.
    meaning_changed = models.JSONField(default=list, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "-number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="unique_codebook_version")]

    def __str__(self) -> str:
        return f"{self.study} codebook v{self.number}"


@tracked()
class FinalValue(models.Model):
    """The value a field takes for an issue once its annotators' values are reconciled.

    Agreed: every annotator gave this value, so it was final as soon as the issue reached reconciliation
    (studies/workflow.py); `agreed_by` names them, by username as the study transfer matches users, so that the
    history and an exported study say who without a join that later assignments could change. Adjudicated: an
    adjudicator chose it (`set_by`).
    """

    class Source(models.TextChoices):
        AGREED = "agreed"
        ADJUDICATED = "adjudicated"

    study_issue = models.ForeignKey(StudyIssue, on_delete=models.CASCADE, related_name="final_values")
    field = models.ForeignKey(CodebookField, on_delete=models.RESTRICT, related_name="final_values")
    value = models.JSONField(null=True, blank=True)  # as Annotation.value
    rationale = models.TextField(blank=True, help_text="Why this value, where the annotators differed.")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=12, choices=Source, default=Source.ADJUDICATED)
    agreed_by = models.JSONField(default=list, blank=True, help_text="The usernames of the annotators who agreed.")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    codebook_version = models.PositiveIntegerField(default=1)  # as Annotation.codebook_version

    class Meta:
        ordering = ["study_issue", "field__position"]
        constraints = [models.UniqueConstraint(fields=["study_issue", "field"], name="unique_final_value")]
        triggers = [version_trigger()]

    def __str__(self) -> str:
        return f"{self.field.key} = {self.value!r} (final, {self.study_issue})"


# Not tracked by the history: its events would name the issue, and the history shows an issue's events to its
# annotators; gold answers are shown by studies/gold.py alone, as studies/access.py allows.
class GoldItem(models.Model):
    """An issue of the study whose reference answers are known: for training annotators and checking them."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="gold_items")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    promoted = models.BooleanField(default=False, help_text="Its answers are the final values of a decided issue.")

    class Meta:
        ordering = ["study", "issue"]
        constraints = [models.UniqueConstraint(fields=["study", "issue"], name="unique_gold_item")]

    def __str__(self) -> str:
        return f"gold: {self.issue} ({self.study})"


class GoldAnswer(models.Model):
    """The reference answer to one labelling field of a gold issue, and why it is the right one."""

    gold_item = models.ForeignKey(GoldItem, on_delete=models.CASCADE, related_name="answers")
    field = models.ForeignKey(CodebookField, on_delete=models.CASCADE, related_name="gold_answers")
    value = models.JSONField(null=True, blank=True)  # as Annotation.value
    rationale = models.TextField(blank=True)
    codebook_version = models.PositiveIntegerField(default=1)  # as Annotation.codebook_version

    class Meta:
        ordering = ["gold_item", "field__position"]
        constraints = [models.UniqueConstraint(fields=["gold_item", "field"], name="unique_gold_answer")]

    def __str__(self) -> str:
        return f"{self.field.key} = {self.value!r} (gold, {self.gold_item.issue})"


class ExportProfile(models.Model):
    """A saved layout of the labelled dataset as a journal or a paper wants it: which columns in which order under
    which headers, the separator, what an empty cell says, how a list joins, which issues. The rules and the rows
    are in studies/export_profiles.py."""

    class Order(models.TextChoices):
        ISSUE = "issue", "by repository and issue number"
        ADDED = "added", "in the order the issues were added to the study"

    class LineEnd(models.TextChoices):
        CRLF = "crlf", "CR LF (RFC 4180, Windows)"
        LF = "lf", "LF (Unix, pandas on Linux)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="export_profiles")
    name = models.CharField(max_length=100)
    # [{"value": "final:component:1", "header": "Final Component 1"}, …]: what each column holds, in order.
    columns = models.JSONField(default=list)
    separator = models.CharField(max_length=1, default=",")
    empty = models.CharField(max_length=20, blank=True, help_text="What an empty cell says (e.g. None).")
    joiner = models.CharField(max_length=10, default=", ", help_text="Between the values of a list in one cell.")
    included_only = models.BooleanField(default=False, help_text="Only the issues decided as included.")
    bom = models.BooleanField(default=False, help_text="Begin with a UTF-8 byte order mark (for Excel).")
    order = models.CharField(max_length=10, choices=Order, default=Order.ISSUE)
    line_end = models.CharField(max_length=4, choices=LineEnd, default=LineEnd.CRLF)

    class Meta:
        ordering = ["study", "name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="unique_export_profile_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.study})"


@tracked()
class DiscussionComment(models.Model):
    """A comment in the discussion of an issue's votes or values (Markdown; @name notifies that member)."""

    study_issue = models.ForeignKey(StudyIssue, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study_issue", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.study_issue}"


class Notification(models.Model):
    """Someone mentioned the user in a discussion."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    comment = models.ForeignKey(DiscussionComment, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.user}: {self.comment}"


class Round(models.Model):
    """A calibration round (agreement/rounds.py): a sample of the study's issues labelled by some annotators on some
    fields, whose agreement is measured against a stop rule before the codebook is sharpened for the next round."""

    class Sampling(models.TextChoices):
        RANDOM = "random", "random"
        LABEL = "label", "stratified by GitHub label"
        VALUE = "value", "stratified by a field's final value"

    class Statistic(models.TextChoices):
        KRIPPENDORFF_ALPHA = "krippendorff_alpha", "Krippendorff's α"
        GWET_AC1 = "gwet_ac1", "Gwet's AC1"
        FLEISS_KAPPA = "fleiss_kappa", "Fleiss' κ"
        PERCENT_AGREEMENT = "percent_agreement", "percent agreement"

    class AppliesTo(models.TextChoices):
        ESTIMATE = "estimate", "the point estimate"
        LOWER = "lower", "the lower bound of the 95 % interval"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    sampling = models.CharField(max_length=10, choices=Sampling, default=Sampling.RANDOM)
    # The label prefix (LABEL) or the field key (VALUE) the sample is stratified by.
    stratify_by = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField()
    seed = models.IntegerField(default=0)
    issues = models.ManyToManyField(StudyIssue, related_name="rounds")
    annotators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    fields = models.ManyToManyField(CodebookField, related_name="rounds")
    statistic = models.CharField(max_length=20, choices=Statistic, default=Statistic.KRIPPENDORFF_ALPHA)
    threshold = models.FloatField(default=0.8)
    applies_to = models.CharField(max_length=10, choices=AppliesTo, default=AppliesTo.ESTIMATE)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    codebook_version_start = models.PositiveIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True)
    codebook_version_end = models.PositiveIntegerField(null=True, blank=True)
    # Its figures and the key of the ratings they came from, computed again when the ratings change
    # (agreement/rounds.py round_results).
    cached_results = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="unique_round_number")]

    def __str__(self) -> str:
        return f"{self.study} round {self.number}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ExampleDisagreement(models.Model):
    """A decided issue's disagreement on one field that an owner chose to show in the methods report
    (agreement/methods/): both values, the final value and the decision's rationale."""

    study_issue = models.ForeignKey(StudyIssue, on_delete=models.CASCADE, related_name="example_disagreements")
    field = models.ForeignKey(CodebookField, on_delete=models.CASCADE, related_name="example_disagreements")
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    chosen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study_issue", "field__position"]
        constraints = [models.UniqueConstraint(fields=["study_issue", "field"], name="unique_example_disagreement")]

    def __str__(self) -> str:
        return f"{self.field.key} on {self.study_issue} (example)"
