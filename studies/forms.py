"""The forms of every studies page that takes input: each checks what was typed and says which field is wrong.

The services (studies/codebook.py, assignment.py, annotation_import.py) keep the real rules; a view turns their
refusal into an error of its form (`refuse`), so that the page shows it next to the field, with what was typed
still in the inputs. The Manage and codebook pages hold several forms, some once per field or choice: each form
has ids of its own (`PageForm.ids`), and a refused POST re-renders the page with the form that failed, bound, in
the place of its fresh twin (`failed_or`).
"""

import csv
import io
from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from annotator.bidi import isolate
from issues.models import Repository
from issues.search import search
from studies.annotation_import import AnnotationImportError
from studies.codebook import CHOICE_EDITABLE, FIELD_EDITABLE, CodebookError, codebook_parse, presets
from studies.effort import MAX_REPORT_SECONDS, read_token
from studies.export_profiles import columns_from_text, columns_text, profile_dict
from studies.models import Choice, CodebookField, ExportProfile, Membership, Round, Stage, Study

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_ANNOTATIONS_BYTES = 20 * 1024 * 1024
MAX_CODEBOOK_BYTES = 1024 * 1024
SHOWN_ERRORS = 50  # of an annotations file; the import_annotations command lists them all

# How the study runs; an owner sets them on the Manage page once the study exists.
SETTINGS = [
    "screening_accept_votes",
    "screening_discuss_votes",
    "reveal_after_decision",
    "annotators_reconcile",
    "annotators_see_agreement",
]


class PageForm:
    """A form that shares its page with others: the ids of its inputs begin with `ids`, so that none clash; its
    labels read as the page's other labels do, without a colon."""

    ids = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.ids}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def failed_or(fresh: forms.BaseForm, failed: forms.BaseForm | None) -> forms.BaseForm:
    """What a page shows where `fresh` goes: the form that failed if it is the same one (same class, same ids),
    bound, with what was typed and its errors; else `fresh`. The cursor goes to its first wrong input."""
    if failed is None or type(failed) is not type(fresh) or failed.auto_id != fresh.auto_id:
        return fresh
    wrong = [name for name in failed.errors if name in failed.fields and not failed[name].is_hidden]
    if wrong:
        failed.fields[wrong[0]].widget.attrs["autofocus"] = True
    return failed


def refuse(form: forms.BaseForm, error: ValueError, field: str | None = None) -> None:
    """A service's refusal (CodebookError, AssignmentError) as an error of the form: at `field`, else at the field
    the error names if the form has it, else above the form; one message a line."""
    field = field or getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(error).splitlines())


# --- The study ---


class StudyForm(forms.ModelForm):
    preset = forms.ChoiceField(
        choices=[("", "none (empty codebook)")] + [(name, name) for name in presets()],
        required=False,
        help_text="Start from this codebook.",
    )

    class Meta:
        model = Study
        fields = ["name", "slug", "description", "guidelines", "screening", "annotators_per_issue"]


class StudySettingsForm(PageForm, forms.ModelForm):
    ids = "settings"

    class Meta:
        model = Study
        fields = ["name", "description", "guidelines", "annotators_per_issue", *SETTINGS]

    def validate_constraints(self):
        """A study's one check constraint (reconciling together reveals in reconciliation) names no field, and
        Django would show its message above the form: it goes next to the second of the two settings instead."""
        try:
            self.instance.validate_constraints()  # both settings are on this form
        except ValidationError as error:
            self.add_error("annotators_reconcile", error.messages)


# --- Members and assignments (the Manage page) ---


class MemberAddForm(PageForm, forms.Form):
    ids = "member"
    username = forms.CharField(max_length=150)
    # Most people added label; making someone an owner by leaving the default would give away the study.
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        self.user = get_user_model().objects.filter(username=username).first()
        if self.user is None:
            raise ValidationError("There is no user “%(username)s”.", params={"username": username})
        return username


class AssignBalancedForm(PageForm, forms.Form):
    """Balanced random assignment: every issue gets `per_issue` annotators, reproducibly for a seed."""

    ids = "assign"
    stage = forms.ChoiceField(choices=Stage.choices)
    per_issue = forms.IntegerField(min_value=1, label="Annotators per issue")
    seed = forms.IntegerField(required=False, initial=0)

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].initial = Stage.SCREENING if study.screening else Stage.LABELLING
        self.fields["per_issue"].initial = study.annotators_per_issue

    def clean_seed(self) -> int:
        return self.cleaned_data["seed"] or 0


class AssignFromCsvForm(PageForm, forms.Form):
    """Assignments from a CSV of issue,annotator rows; `csv` cleans to the rows."""

    ids = "assign-csv"
    stage = forms.ChoiceField(choices=Stage.choices)
    csv = forms.FileField(label="CSV (issue,annotator)", widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].initial = Stage.SCREENING if study.screening else Stage.LABELLING

    def clean_csv(self) -> list[dict]:
        upload = self.cleaned_data["csv"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError("The CSV is larger than 5 MB.")
        try:
            return list(csv.DictReader(io.StringIO(upload.read().decode("utf-8-sig"))))
        except UnicodeDecodeError as error:
            raise ValidationError(f"The file is not UTF-8 text: {error}") from None
        except csv.Error as error:
            raise ValidationError(f"Not a CSV file: {error}") from None


class UnassignForm(PageForm, forms.Form):
    ids = "unassign"
    username = forms.CharField(max_length=150, widget=forms.HiddenInput)


class AnnotationsUploadForm(PageForm, forms.Form):
    """The import_annotations command, for owners; `csv` cleans to the file's text."""

    ids = "upload"
    csv = forms.FileField(label="CSV file", widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))
    create_users = forms.BooleanField(required=False, label="unknown annotators become inactive accounts")
    create_choices = forms.BooleanField(required=False, label="unknown values become new choices")
    dry_run = forms.BooleanField(required=False, initial=True, label="only check the file (dry run)")
    replace = forms.BooleanField(
        required=False, label="also change submitted answers and decided issues (versioned, in the history)"
    )

    def clean_csv(self) -> str:
        upload = self.cleaned_data["csv"]
        if upload.size > MAX_ANNOTATIONS_BYTES:
            raise ValidationError("Choose a CSV file of at most 20 MB.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValidationError(f"The file is not UTF-8 text: {error}") from None

    def refuse_file(self, error: AnnotationImportError) -> None:
        """Every error of the file at the file's input, up to SHOWN_ERRORS of them."""
        shown = [str(error), *error.errors[:SHOWN_ERRORS]]
        if len(error.errors) > SHOWN_ERRORS:
            shown.append(f"… and {len(error.errors) - SHOWN_ERRORS} more (the command lists them all).")
        self.add_error("csv", shown)


class AssignmentChangeForm(PageForm, forms.Form):
    """One issue's assignments by hand. With an `assignment`: move it to `username`, or take it back when no
    username is given; without: give the issue to one more annotator, `username`, at `stage`.

    Whether the username is an annotator of the study is the service's rule (studies/assignment.py).
    """

    username = forms.CharField(max_length=150, required=False, label="Annotator")
    stage = forms.ChoiceField(choices=Stage.choices, required=False)

    def __init__(self, *args, study: Study, annotators: list, assignment=None, **kwargs):
        self.assignment = assignment
        self.ids = f"assignment-{assignment.pk}" if assignment else "assign-one"
        super().__init__(*args, **kwargs)
        others = [user.username for user in annotators if assignment is None or user.pk != assignment.annotator_id]
        username = self.fields["username"]
        username.widget = forms.Select(choices=[("", "annotator…"), *((name, name) for name in others)])
        if assignment is None:
            username.required = self.fields["stage"].required = True
            self.fields["stage"].initial = Stage.SCREENING if study.screening else Stage.LABELLING
        else:
            username.label = "Move to"
            username.widget.attrs["required"] = True  # the Move button; Take back sends no username


# --- The codebook ---


class CodebookLoadForm(PageForm, forms.Form):
    """A codebook JSON file; `codebook` cleans to its data."""

    ids = "load"
    codebook = forms.FileField(
        label="Codebook JSON", widget=forms.FileInput(attrs={"accept": "application/json,.json"})
    )

    def clean_codebook(self):
        upload = self.cleaned_data["codebook"]
        if upload.size > MAX_CODEBOOK_BYTES:
            raise ValidationError("Choose a codebook JSON file of at most 1 MB.")
        try:
            return codebook_parse(upload.read())
        except CodebookError as error:
            raise ValidationError(str(error)) from None


class CodebookPresetForm(PageForm, forms.Form):
    ids = "preset"
    preset = forms.ChoiceField(choices=[(name, name) for name in presets()], label="Preset")


class CodebookCopyForm(PageForm, forms.Form):
    ids = "copy"
    source = forms.ModelChoiceField(
        queryset=Study.objects.none(), to_field_name="slug", empty_label=None, label="Copy from"
    )

    def __init__(self, *args, user, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Study.objects.visible_to(user).exclude(pk=study.pk)


class CodePromoteForm(forms.Form):
    """Make an open code (an "Other…" text) a choice of its field."""

    field = forms.ModelChoiceField(queryset=CodebookField.objects.none(), to_field_name="key")
    text = forms.CharField(strip=False, max_length=200)

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].queryset = study.fields.all()

    @property
    def about(self) -> tuple:
        """(field key, code, whether it is a choice): the row of the page it was sent from."""
        return (self.data.get("field"), self.data.get("text"), False)


class CodeMergeForm(forms.Form):
    """Merge an open code, or a choice (`source_is_choice`), into a choice of the same field."""

    field = forms.ModelChoiceField(queryset=CodebookField.objects.none(), to_field_name="key")
    source = forms.CharField(strip=False, max_length=200)
    target = forms.CharField(strip=False, max_length=200)
    source_is_choice = forms.BooleanField(required=False)

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].queryset = study.fields.all()

    @property
    def about(self) -> tuple:
        """(field key, code or choice value, whether it is a choice): the row of the page it was sent from."""
        return (self.data.get("field"), self.data.get("source"), self.data.get("source_is_choice") == "1")


class NewFieldForm(PageForm, forms.ModelForm):
    ids = "new-field"

    class Meta:
        model = CodebookField
        fields = ("key", "label", "kind", "stage", "definition", "required", "max_choices", "allow_other")
        labels = {
            "definition": "Definition (Markdown)",
            "required": "required",
            "max_choices": "At most (multiple choice)",
            "allow_other": "takes “Other…” (single and multiple choice)",
        }
        help_texts = {
            "key": "Letters, digits and _; used in exports; cannot change later.",
            "definition": "",
            "max_choices": "",
            "allow_other": "",
        }
        widgets = {
            "key": forms.TextInput(attrs={"pattern": "[a-z][a-z0-9_]*"}),
            "definition": forms.Textarea(attrs={"rows": 3}),
            "max_choices": forms.NumberInput(attrs={"min": 1}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = CodebookField.Kind.choices  # no empty choice: every field has a kind


def _changes_meaning() -> forms.BooleanField:
    """The owner's word that an edit changes what a field means (studies/codebook_versions.py: re-checks)."""
    return forms.BooleanField(
        required=False,
        label="this changes what the field means",
        help_text="Answers given under the earlier definition go back to their annotators to re-check.",
    )


class FieldForm(PageForm, forms.ModelForm):
    """A field's label, definition and flags; a maximum only for multiple choice, "Other…" only for choices."""

    changes_meaning = _changes_meaning()

    class Meta:
        model = CodebookField
        fields = FIELD_EDITABLE
        labels = {
            "definition": "Definition (Markdown)",
            "required": "required",
            "max_choices": "At most (choices; empty: no limit)",
            "allow_other": "takes “Other…” with free text",
            "position": "Order",
        }
        help_texts = {"definition": "", "max_choices": "", "allow_other": ""}
        widgets = {"definition": forms.Textarea(attrs={"rows": 4}), "max_choices": forms.NumberInput(attrs={"min": 1})}

    def __init__(self, *args, instance: CodebookField, **kwargs):
        self.ids = f"field-{instance.key}"
        super().__init__(*args, instance=instance, **kwargs)
        if instance.kind != CodebookField.Kind.MULTIPLE:
            del self.fields["max_choices"]
        if instance.kind not in (CodebookField.Kind.SINGLE, CodebookField.Kind.MULTIPLE):
            del self.fields["allow_other"]


class ChoiceForm(PageForm, forms.ModelForm):
    changes_meaning = _changes_meaning()

    class Meta:
        model = Choice
        fields = CHOICE_EDITABLE
        labels = {"position": "Order"}
        widgets = {"definition": forms.Textarea(attrs={"rows": 3}), "examples": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, instance: Choice, **kwargs):
        self.ids = f"choice-{instance.pk}"
        super().__init__(*args, instance=instance, **kwargs)


class NewChoiceForm(PageForm, forms.ModelForm):
    label = forms.CharField(max_length=200, required=False, help_text="Empty: the value.")

    class Meta:
        model = Choice
        fields = ("value", "label", "definition", "examples")
        help_texts = {"value": "Stored in annotations; cannot change later."}
        widgets = {"definition": forms.Textarea(attrs={"rows": 3}), "examples": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, field: CodebookField, **kwargs):
        self.ids = f"new-choice-{field.key}"
        super().__init__(*args, instance=Choice(field=field), **kwargs)
        if field.kind == CodebookField.Kind.ORDINAL:
            self.fields["value"].help_text = "A number; stored in annotations; cannot change later."


# --- Adding issues ---


class AddIssuesForm(forms.Form):
    """Filters over the imported issues the owner may reach (studies/access.py `reachable_issues`)."""

    repository = forms.ModelChoiceField(queryset=Repository.objects.none())
    labels = forms.CharField(required=False, help_text="Comma-separated; every one must be on the issue.")
    state = forms.ChoiceField(choices=[("all", "all"), ("open", "open"), ("closed", "closed")], initial="all")
    since = forms.DateField(
        required=False, label="Created on or after", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Created on or before", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(required=False, label="Text", help_text="Words in the title, body or comments.")
    include_prs = forms.BooleanField(required=False, label="Include pull requests")

    def __init__(self, *args, reachable, **kwargs):
        super().__init__(*args, **kwargs)
        self.reachable = reachable
        self.fields["repository"].queryset = Repository.objects.filter(
            Exists(reachable.filter(repository=OuterRef("pk")))
        ).order_by("owner", "name")

    def issues(self):
        data = self.cleaned_data
        issues = self.reachable.filter(repository=data["repository"])
        if not data["include_prs"]:
            issues = issues.filter(is_pull_request=False)
        labels = [label.strip() for label in data["labels"].split(",") if label.strip()]
        if labels:
            issues = issues.filter(labels__contains=labels)
        if data["state"] != "all":
            issues = issues.filter(state=data["state"])
        if data["since"]:
            issues = issues.filter(created_at__date__gte=data["since"])
        if data["until"]:
            issues = issues.filter(created_at__date__lte=data["until"])
        if data["q"]:
            issues = search(issues, data["q"])
        return issues


# --- People (admins only) ---


class PersonForm(forms.ModelForm):
    """A new researcher's account; they choose their password through the link shown once it is created."""

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = "Optional: the app sends no mail; it is for you to reach them."

    def clean_username(self) -> str:
        """Usernames differing only in case are one person to a reader, and a trap at the login form."""
        username = self.cleaned_data["username"]
        taken = get_user_model().objects.filter(username__iexact=username).first()
        if taken is not None:
            raise ValidationError("The username “%(taken)s” is taken already.", params={"taken": taken.username})
        return username


# --- Export profiles ---


class ExportProfileForm(PageForm, forms.Form):
    """A profile's settings; its columns one a line, `what it holds = header` (studies/export_profiles.py checks
    them all and says which line is wrong)."""

    name = forms.CharField(required=False, max_length=100)
    columns = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One column a line: what it holds = its header, e.g. <code>final:component:1 = Component 1</code>.",
    )
    separator = forms.CharField(
        required=False, strip=False, max_length=5, initial=",", help_text="One character; <code>tab</code> for a tab."
    )
    empty = forms.CharField(required=False, strip=False, label="Empty cells say", max_length=40)
    joiner = forms.CharField(required=False, strip=False, label="Values of a list joined by", initial=", ")
    included_only = forms.BooleanField(required=False, label="only the issues decided as included")
    bom = forms.BooleanField(required=False, label="with a byte order mark (Excel reads the file as UTF-8)")
    order = forms.ChoiceField(choices=ExportProfile.Order.choices, label="Rows")
    line_end = forms.ChoiceField(choices=ExportProfile.LineEnd.choices, label="Lines end with")

    def __init__(self, *args, profile: ExportProfile | None = None, **kwargs):
        self.ids = f"profile-{profile.pk}" if profile else "profile-new"
        if profile is not None and not args:
            kwargs["initial"] = {
                **profile_dict(profile),
                "columns": columns_text(profile.columns),
                "separator": "tab" if profile.separator == "\t" else profile.separator,
            }
        super().__init__(*args, **kwargs)

    def clean_separator(self) -> str:
        # A tab cannot be typed into a text box: Tab moves on to the next one.
        separator = self.cleaned_data["separator"]
        return "\t" if separator.strip().lower() == "tab" else separator

    def clean_columns(self) -> list[dict]:
        return columns_from_text(self.cleaned_data["columns"])


class ActiveTimeForm(forms.Form):
    """A report of a page's active time (static/js/active-time.js): the seconds measured since its last report, and
    the token the page was given, which names the work it times and when the page was opened."""

    seconds = forms.FloatField(min_value=0, max_value=MAX_REPORT_SECONDS)  # refuses NaN and infinities too
    token = forms.CharField(max_length=500)

    def clean_token(self) -> tuple[dict, datetime]:
        try:
            return read_token(self.cleaned_data["token"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise ValidationError(
                "This is not the token of an annotation or reconciliation page; reload the page."
            ) from None


# --- Gold issues and training (the Gold page, studies/gold.py) ---


class TrainingForm(PageForm, forms.ModelForm):
    ids = "training"

    class Meta:
        model = Study
        fields = ["training_required", "training_threshold", "gold_check_percent"]
        labels = {
            "training_required": "Annotators train on the gold issues before real work",
            "training_threshold": "Accuracy that passes",
            "gold_check_percent": "Gold checks in each labelling queue (%)",
        }

    def clean(self):
        cleaned = super().clean()
        has_gold = self.instance.gold_items.exists()
        if cleaned.get("training_required") and not has_gold:
            self.add_error("training_required", "Mark at least one issue as gold first: training is labelling them.")
        if cleaned.get("gold_check_percent") and not has_gold:
            self.add_error("gold_check_percent", "Mark at least one issue as gold first: checks are gold issues.")
        return cleaned


class GoldItemForm(PageForm, forms.Form):
    """A gold issue's reference answer and rationale for each labelling field. The form only gathers what was
    typed, a value as the annotation form posts it; studies/gold.py checks it against the field and refuses it
    (ValidationError by field key), and the view puts the refusal at the field (`refuse`)."""

    ids = "gold"

    def __init__(self, *args, fields: list[CodebookField], answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.codebook = fields
        answers = answers or {}
        for field in fields:
            answer = answers.get(field.pk)
            self.fields[field.key] = self._value_field(field, answer.value if answer else None)
            self.fields[f"{field.key}__rationale"] = forms.CharField(
                required=False,
                label=f"Why ({isolate(field.label)})",
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=answer.rationale if answer else "",
            )

    @staticmethod
    def _value_field(field: CodebookField, value) -> forms.Field:
        label, required = field.label, False  # a missing required answer is the service's to refuse, by name
        choices = [(choice.value, choice.label) for choice in field.choices.all()]
        match field.kind:
            case CodebookField.Kind.SINGLE | CodebookField.Kind.ORDINAL:
                return forms.ChoiceField(
                    label=label, required=required, choices=[("", "no answer"), *choices], initial=value
                )
            case CodebookField.Kind.MULTIPLE:
                return forms.MultipleChoiceField(
                    label=label,
                    required=required,
                    choices=choices,
                    initial=value,
                    widget=forms.CheckboxSelectMultiple,
                )
            case CodebookField.Kind.VOTE:
                vote = {True: "yes", False: "no"}.get(value.get("vote")) if isinstance(value, dict) else None
                return forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=[("", "no answer"), ("yes", "yes"), ("no", "no")],
                    initial=vote,
                )
            case CodebookField.Kind.URLS | CodebookField.Kind.COMMITS:
                text = "\n".join(value) if isinstance(value, list) else ""
                return forms.CharField(
                    label=label, required=required, initial=text, widget=forms.Textarea(attrs={"rows": 2})
                )
        return forms.CharField(label=label, required=required, initial=value if isinstance(value, str) else "")

    def answers(self) -> dict[str, tuple[object, str]]:
        """{field key: (value, rationale)} as typed, for studies/gold.py to check."""
        answers = {}
        for field in self.codebook:
            value = self.cleaned_data.get(field.key)
            if field.kind == CodebookField.Kind.VOTE:
                value = {"vote": value == "yes", "comment": ""} if value else None
            answers[field.key] = (
                value if value not in ("", []) else None,
                self.cleaned_data.get(f"{field.key}__rationale", ""),
            )
        return answers

    def rows(self) -> list[tuple]:
        """(value input, rationale input) per field, for the template."""
        return [(self[field.key], self[f"{field.key}__rationale"]) for field in self.codebook]


class RoundStartForm(PageForm, forms.Form):
    """A calibration round: its sample, its annotators and fields, its stop rule (agreement/rounds.py checks the rest:
    a sample larger than the issues that can join is refused at `size`)."""

    ids = "round"
    size = forms.IntegerField(min_value=1, max_value=2**31 - 1, label="Issues in the sample")
    sampling = forms.ChoiceField(choices=Round.Sampling.choices, initial=Round.Sampling.RANDOM)
    stratify_by = forms.CharField(
        required=False,
        max_length=200,
        label="Stratify by",
        help_text="By label: the label, or the beginning of the labels (type:); by value: a field's key.",
    )
    seed = forms.IntegerField(
        required=False, initial=0, min_value=0, max_value=2**31 - 1, help_text="The same seed draws the same sample."
    )
    annotators = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    fields = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Fields")
    statistic = forms.ChoiceField(choices=Round.Statistic.choices, label="Stop rule: statistic")
    threshold = forms.FloatField(min_value=0, max_value=1, initial=0.8, label="at least")
    applies_to = forms.ChoiceField(choices=Round.AppliesTo.choices, label="judged on")

    def __init__(self, *args, annotators: list, fields: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annotators"].choices = [(user.username, user.username) for user in annotators]
        self.fields["fields"].choices = [(field.key, field.label) for field in fields]
        self.initial.setdefault("annotators", [user.username for user in annotators])
        self.initial.setdefault("fields", [field.key for field in fields])

    def clean_seed(self) -> int:
        return self.cleaned_data["seed"] or 0
