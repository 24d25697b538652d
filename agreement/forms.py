"""The forms of the agreement and methods report pages; like studies/forms.py, each says which field is wrong."""

from django import forms
from django.core.exceptions import ValidationError

from agreement.models import PrimaryStatistic
from annotator.bidi import isolate
from studies.assignment import ISSUE_REFERENCE
from studies.forms import PageForm
from studies.models import CodebookField, Stage, Study, StudyIssue


class PrimaryStatisticForm(PageForm, forms.Form):
    """One field's primary statistic and threshold (agreement/primary.py keeps the lock)."""

    statistic = forms.ChoiceField(choices=PrimaryStatistic.Statistic.choices, label="Statistic")
    threshold = forms.DecimalField(
        min_value=0, max_value=1, max_digits=4, decimal_places=3, help_text="Met when the value is at least this."
    )
    source = forms.CharField(
        max_length=300,
        label="Source of the threshold",
        help_text="E.g. Krippendorff (2004): α ≥ 0.800, tentative conclusions ≥ 0.667; Landis &amp; Koch (1977): "
        "κ &gt; 0.60 substantial.",
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (required once the field has answers)",
    )

    def __init__(self, *args, field: CodebookField, current: PrimaryStatistic | None = None, **kwargs):
        self.ids = f"primary-{field.key}"
        if current is not None and not args:
            kwargs["initial"] = {name: getattr(current, name) for name in ("statistic", "threshold", "source")}
        super().__init__(*args, **kwargs)


class ExampleForm(PageForm, forms.Form):
    """An example disagreement for the methods report: an issue of the study (owner/repo#number) and a field."""

    ids = "example"
    issue = forms.CharField(max_length=250, help_text="As <code>owner/repo#number</code>.")
    field = forms.ChoiceField(label="Field")

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.study = study
        self.fields["field"].choices = [
            (each.key, each.label) for each in study.fields.filter(stage=Stage.LABELLING).order_by("position", "id")
        ]

    def clean_issue(self) -> StudyIssue:
        text = self.cleaned_data["issue"]
        match = ISSUE_REFERENCE.match(text.strip())
        if match is None:
            raise ValidationError("Write the issue as owner/repo#number, e.g. deepflow/deepflow#42.")
        owner, name, number = match.groups()
        study_issue = (
            StudyIssue.objects.filter(
                study=self.study, issue__repository__owner=owner, issue__repository__name=name, issue__number=number
            )
            .select_related("issue__repository")
            .first()
        )
        if study_issue is None:
            raise ValidationError(f"This study has no issue {isolate(text.strip())}.")
        return study_issue

    def clean_field(self) -> CodebookField:
        return self.study.fields.get(key=self.cleaned_data["field"])
