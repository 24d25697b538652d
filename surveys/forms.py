"""The forms of the survey pages: building a survey (owners) and answering one section (respondents).

Both check what was typed and say, at the field, what is wrong: a refused POST comes back with status 422, the
errors beside their inputs and what was typed still there (studies/forms.py's PageForm and failed_or).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator

from studies.forms import PageForm
from studies.models import CodebookField
from surveys.models import Question, Survey
from surveys.questions import Section

CHOICE_KINDS = CodebookField.CHOICE_KINDS
MAX_BACKGROUND_CHOICES = 30
MAX_COMMENT = 5000
MAX_TEXT = 200
# The optional background questions: key, the question, whether several choices may be ticked.
BACKGROUND = [
    ("role", "Your role", False),
    ("experience", "Years of experience", False),
    ("frameworks", "Frameworks you use", True),
]
HONEYPOT = "website"  # a name bots fill in; hidden from people by CSS (templates/surveys/public/honeypot.html)


def filled_honeypot(data) -> bool:
    """Whether a POST filled in the input no person sees: a bot's."""
    return bool(data.get(HONEYPOT))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class SurveyBuildForm(PageForm, forms.Form):
    """A new survey from a codebook snapshot: per field, whether to ask about it, which of its choices (or levels),
    and which questions about each; the background questions; when it is open and how many may answer."""

    ids = "survey"
    title = forms.CharField(max_length=200, help_text="Respondents see it; the study's name is not shown to them.")
    intro = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Introduction (Markdown)")
    consent = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Consent text (Markdown)",
        help_text="If given, respondents tick that they agree before they start.",
    )
    severity_scale = forms.ChoiceField(required=False, label="Severity asked on")
    opens_at = forms.DateTimeField(
        required=False, label="Opens (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        required=False, label="Closes (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    response_limit = forms.IntegerField(
        required=False, min_value=1, help_text="At most this many respondents may start (empty: no limit)."
    )

    def __init__(self, *args, snapshot: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.codebook = snapshot["fields"]
        ordinal = [item for item in self.codebook if item["kind"] == "ordinal"]
        self.fields["severity_scale"].choices = [
            ("", "a 1–5 severity scale"),
            *((item["key"], f"the levels of “{item.get('label', item['key'])}”") for item in ordinal),
        ]
        self.fields["severity_scale"].initial = ordinal[0]["key"] if ordinal else ""
        for item in self.codebook:
            key, label = item["key"], item.get("label", item["key"])
            self.fields[f"field_{key}"] = forms.BooleanField(required=False, label=f"ask about “{label}”")
            if item["kind"] in CHOICE_KINDS:
                choices = [(choice["value"], choice.get("label", choice["value"])) for choice in item["choices"]]
                self.fields[f"choices_{key}"] = forms.MultipleChoiceField(
                    required=False,
                    choices=choices,
                    initial=[value for value, _ in choices],
                    widget=forms.CheckboxSelectMultiple,
                    label="levels" if item["kind"] == "ordinal" else "choices",
                )
            self.fields[f"questions_{key}"] = forms.MultipleChoiceField(
                required=False,
                choices=Question.choices,
                initial=[Question.AGREE],
                widget=forms.CheckboxSelectMultiple,
                label="questions about each" if item["kind"] in CHOICE_KINDS else "questions",
            )
        for key, label, _ in BACKGROUND:
            self.fields[f"bg_{key}"] = forms.BooleanField(required=False, label=f"ask “{label}”")
            self.fields[f"bg_{key}_choices"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                label="choices, one a line",
                help_text="Empty: the respondent types the answer.",
            )

    def groups(self) -> list[dict]:
        """The codebook's fields with their inputs, for the template."""
        return [
            {
                "item": item,
                "pick": self[f"field_{item['key']}"],
                "choices": self[f"choices_{item['key']}"] if f"choices_{item['key']}" in self.fields else None,
                "questions": self[f"questions_{item['key']}"],
            }
            for item in self.codebook
        ]

    def background_inputs(self) -> list[tuple]:
        return [(self[f"bg_{key}"], self[f"bg_{key}_choices"]) for key, _, _ in BACKGROUND]

    def clean(self):
        data = super().clean()
        picked = [item for item in self.codebook if data.get(f"field_{item['key']}")]
        if not picked:
            first = f"field_{self.codebook[0]['key']}" if self.codebook else None
            self.add_error(first, "Pick at least one field to ask about.")
        for item in picked:
            key, label = item["key"], item.get("label", item["key"])
            if f"choices_{key}" in self.fields and not data.get(f"choices_{key}"):
                self.add_error(f"choices_{key}", f"Pick at least one of the choices of “{label}” to ask about.")
            if not data.get(f"questions_{key}"):
                self.add_error(f"questions_{key}", f"Pick at least one question to ask about “{label}”.")
        for key, _, _ in BACKGROUND:
            if len(_lines(data.get(f"bg_{key}_choices", ""))) > MAX_BACKGROUND_CHOICES:
                self.add_error(f"bg_{key}_choices", f"At most {MAX_BACKGROUND_CHOICES} choices.")
        _check_dates(self, data)
        return data

    def spec(self) -> dict:
        """What the service builds the survey from (cleaned)."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "intro": data["intro"],
            "consent": data["consent"],
            "severity_source": data["severity_scale"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "response_limit": data["response_limit"],
            "fields": {
                item["key"]: {
                    "choices": data.get(f"choices_{item['key']}"),
                    "questions": data[f"questions_{item['key']}"],
                }
                for item in self.codebook
                if data.get(f"field_{item['key']}")
            },
            "background": [
                {"key": key, "label": label, "choices": _lines(data[f"bg_{key}_choices"]), "multiple": multiple}
                for key, label, multiple in BACKGROUND
                if data.get(f"bg_{key}")
            ],
        }


def _check_dates(form: forms.Form, data: dict) -> None:
    opens, closes = data.get("opens_at"), data.get("closes_at")
    if opens and closes and closes <= opens:
        form.add_error("closes_at", "The survey must close after it opens.")


class SurveyScheduleForm(PageForm, forms.ModelForm):
    """When a built survey is open and how many may answer: what an owner may still change (its questions are
    frozen)."""

    ids = "schedule"

    class Meta:
        model = Survey
        fields = ["opens_at", "closes_at", "response_limit"]
        labels = {"opens_at": "Opens (UTC)", "closes_at": "Closes (UTC)"}
        help_texts = {"response_limit": "At most this many respondents may start (empty: no limit)."}
        widgets = {
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "response_limit": forms.NumberInput(attrs={"min": 1}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["response_limit"].validators.append(MinValueValidator(1))

    def clean(self):
        data = super().clean()
        _check_dates(self, data)
        return data


class StartForm(forms.Form):
    """The first page: the consent, if the survey asks for it (the honeypot is checked apart: filled_honeypot)."""

    agree = forms.BooleanField(required=False, label="I have read the above and agree to take part.")

    def __init__(self, *args, consent: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not consent:
            del self.fields["agree"]

    def clean_agree(self) -> bool:
        if not self.cleaned_data["agree"]:
            raise ValidationError("Tick that you agree to take part before you start.")
        return True


class SectionForm(forms.Form):
    """One section's answers; every question may be left unanswered. Saved answers fill it in again."""

    def __init__(self, *args, section: Section, **kwargs):
        super().__init__(*args, **kwargs)
        for asked in section.questions:
            self.fields[asked.id] = self._input(asked)

    @staticmethod
    def _input(asked) -> forms.Field:
        if asked.kind == Question.COMMENT:
            widget = forms.Textarea(attrs={"rows": 3})
            return forms.CharField(required=False, max_length=MAX_COMMENT, label=asked.label, widget=widget)
        if asked.kind == "text":
            return forms.CharField(required=False, max_length=MAX_TEXT, label=asked.label)
        if asked.kind == "choices":
            return forms.MultipleChoiceField(
                required=False, choices=asked.choices, label=asked.label, widget=forms.CheckboxSelectMultiple
            )
        return forms.ChoiceField(required=False, choices=asked.choices, label=asked.label, widget=forms.RadioSelect)

    def answers(self) -> dict:
        """The answers given ({question id: value}); an emptied answer as None, so that saving forgets it."""
        return {name: value or None for name, value in self.cleaned_data.items()}
