"""The forms of the model pages: an admin's endpoint, an owner's model rater."""

from django import forms

from llm.models import Endpoint, ModelGate, ModelRater
from llm.raters import rated_fields
from studies.forms import PageForm


class EndpointForm(PageForm, forms.ModelForm):
    ids = "endpoint"

    class Meta:
        model = Endpoint
        fields = [
            "name",
            "base_url",
            "model",
            "api_key_env",
            "open_weights",
            "max_in_flight",
            "timeout_seconds",
            "request_budget",
        ]
        labels = {
            "base_url": "Base URL",
            "api_key_env": "Key's environment variable",
            "open_weights": "Open model",
            "max_in_flight": "Requests at once",
            "timeout_seconds": "Timeout (s)",
        }


class RaterForm(PageForm, forms.Form):
    ids = "rater"
    SCOPES = [("all", "every issue of the study"), ("round", "a calibration round"), ("sample", "a random sample")]

    endpoint = forms.ModelChoiceField(queryset=Endpoint.objects.all(), empty_label=None)
    name = forms.SlugField(max_length=50, help_text="How the reports name it, e.g. qwen-7b.")
    fields = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple, label="Fields")
    scope = forms.ChoiceField(choices=SCOPES, label="Issues", widget=forms.RadioSelect, initial="all")
    round_number = forms.IntegerField(min_value=1, required=False, label="Round")
    size = forms.IntegerField(min_value=1, required=False, label="Sample size")
    seed = forms.IntegerField(initial=0, label="Seed")
    samples = forms.IntegerField(
        min_value=1,
        max_value=20,
        initial=5,
        label="Samples per item (k)",
        help_text=ModelRater.samples.field.help_text,
    )
    temperature = forms.FloatField(min_value=0, max_value=2, initial=0.7)
    context_budget = forms.IntegerField(
        min_value=2_000,
        max_value=1_000_000,
        initial=24_000,
        label="Context budget (characters)",
        help_text=ModelRater.context_budget.field.help_text,
    )
    suggest_in_reconciliation = forms.BooleanField(
        required=False,
        label="Suggest its values in reconciliation",
        help_text=ModelRater.suggest_in_reconciliation.field.help_text,
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].queryset = rated_fields(study)
        self.fields["fields"].label_from_instance = lambda field: field.label

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "round" and not cleaned.get("round_number"):
            self.add_error("round_number", "Which round?")
        if cleaned.get("scope") == "sample" and not cleaned.get("size"):
            self.add_error("size", "How many issues?")
        return cleaned


class GateForm(PageForm, forms.ModelForm):
    ids = "gate"

    class Meta:
        model = ModelGate
        fields = ["min_model_alpha", "swap_margin", "confidence_threshold"]
        labels = {
            "min_model_alpha": "Model–model α at least",
            "swap_margin": "Swap difference within ±",
            "confidence_threshold": "Sure from a confidence of",
        }


class QueueForm(PageForm, forms.Form):
    ids = "queue"

    annotators = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, label="Give them to", help_text="Each to every one chosen."
    )

    def __init__(self, *args, usernames: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annotators"].choices = [(name, name) for name in usernames]
