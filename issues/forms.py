from collections.abc import Iterable

from django import forms
from django.utils.text import capfirst

from issues.github import parse_repository
from issues.importers import destinations
from issues.importers.formats import FORMATS
from issues.importers.run import ImportOptions
from issues.importers.selection import STATES, Selection

ACCEPTED_FILES = ".json,.jsonl,.ndjson,.csv,.gz,.zip"
SELECTION_FIELDS = ["labels", "any_labels", "exclude_labels", "state", "since", "until", "include_prs"]
HOW_MANY_FIELDS = ["limit", "sample", "seed"]
SELECTION_ERRORS = {"since must not be after until": ("until", "This date is before “Created on or after”.")}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one <input type=file multiple> (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [
            cleaned for cleaned in (super(MultipleFileField, self).clean(file, initial) for file in files) if cleaned
        ]


def _labels(text: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in text.split(",") if label.strip())


class ImportForm(forms.Form):
    """The upload form of the Imports page: the dump files and the options of `import_issues`."""

    files = MultipleFileField(
        label="Dump files",
        required=False,  # checked in clean_files, after the upload handler's own errors
        help_text="JSON, JSON Lines, CSV, GitHub CLI or GH Archive files; <code>.gz</code> and <code>.zip</code> too.",
    )
    format = forms.ChoiceField(
        choices=[("", "Detect from each file")] + [(name, f"{name}: {text}") for name, text in FORMATS.items()],
        required=False,
    )
    repository = forms.CharField(
        required=False, max_length=201, help_text="owner/name, for dumps that do not say which repository."
    )
    labels = forms.CharField(label="Labels (all of)", required=False, help_text="Comma-separated.")
    any_labels = forms.CharField(label="Labels (any of)", required=False, help_text="Comma-separated.")
    exclude_labels = forms.CharField(label="Labels (none of)", required=False, help_text="Comma-separated.")
    state = forms.ChoiceField(choices=[(state, state) for state in STATES], initial="all")
    since = forms.DateField(
        label="Created on or after", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Created on or before", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    limit = forms.IntegerField(required=False, min_value=1, help_text="Only the first N selected issues.")
    sample = forms.IntegerField(required=False, min_value=1, help_text="N selected issues drawn at random…")
    seed = forms.IntegerField(
        initial=0, required=False, help_text="…with this random seed (the same seed, the same sample)."
    )
    include_prs = forms.BooleanField(label="Include pull requests", label_suffix="", required=False)
    study = forms.ChoiceField(required=False, help_text="Also add the imported issues to this study.")
    share = forms.BooleanField(
        label="Share with every study",
        label_suffix="",
        required=False,
        help_text="Owners of any study may add these issues to theirs (otherwise only admins, and owners of the "
        "study above).",
    )
    strict = forms.BooleanField(
        label="Strict",
        label_suffix="",
        required=False,
        help_text="Any bad record fails the run, and nothing is written.",
    )

    fieldsets = [
        ("Files", ["files", "format", "repository"]),
        ("Selection", SELECTION_FIELDS),
        ("How many", HOW_MANY_FIELDS),
        ("Destination", ["study", "share", "strict"]),
    ]

    def __init__(self, *args, user, upload_errors: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["study"].choices = [("", "None"), *destinations.studies().choices(user)]
        self.upload_errors = list(upload_errors)

    def grouped_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.fieldsets]

    def clean_files(self) -> list:
        if self.upload_errors:
            raise forms.ValidationError(self.upload_errors)
        if not self.cleaned_data["files"]:
            raise forms.ValidationError("Choose one or more dump files.")
        return self.cleaned_data["files"]

    def clean_repository(self) -> tuple[str, str] | None:
        text = self.cleaned_data["repository"].strip()
        if not text:
            return None
        try:
            return parse_repository(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in SELECTION_FIELDS + HOW_MANY_FIELDS):
            return cleaned  # the Selection cannot be built; the fields say why
        try:
            self.selection = Selection(
                labels=_labels(cleaned["labels"]),
                any_labels=_labels(cleaned["any_labels"]),
                exclude_labels=_labels(cleaned["exclude_labels"]),
                state=cleaned["state"],
                since=cleaned["since"],
                until=cleaned["until"],
                include_prs=cleaned["include_prs"],
                limit=cleaned["limit"],
                sample=cleaned["sample"],
                seed=cleaned["seed"] or 0,
            )
        except ValueError as error:
            # The command line's words (since, until) are the form's labels here.
            field, message = SELECTION_ERRORS.get(str(error), (None, capfirst(f"{error}.")))
            self.add_error(field, message)
        return cleaned

    def import_options(self) -> ImportOptions:
        return ImportOptions(
            format=self.cleaned_data["format"] or None,
            repository=self.cleaned_data["repository"],
            selection=self.selection,
            strict=self.cleaned_data["strict"],
            study=self.cleaned_data["study"],
            share=self.cleaned_data["share"],
        )
