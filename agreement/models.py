from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from studies.models import CodebookField, Study, tracked
from studies.versions import version_trigger


class Intervals(models.Model):
    """Bootstrap intervals of a study's agreement report, kept until the annotations change (agreement/intervals.py).

    `data` is None while the task worker computes them.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="agreement_intervals")
    filters = models.CharField(max_length=500, help_text="The report's restrictions, as in its URL.")
    fingerprint = models.CharField(max_length=200, help_text="The state of the annotations they were computed on.")
    data = models.JSONField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "filters"], name="unique_intervals")]

    def __str__(self) -> str:
        return f"Intervals of {self.study} ({self.filters or 'all'})"


@tracked()
class PrimaryStatistic(models.Model):
    """The statistic a study reports for a field, and the threshold it must reach, declared before labelling.

    Every declaration and change is kept by the history triggers (studies/history.py); the report lists them and
    says which came after labelling had started (agreement/primary.py).
    """

    class Statistic(models.TextChoices):
        KRIPPENDORFF_ALPHA = "krippendorff_alpha", "Krippendorff's α"
        FLEISS_KAPPA = "fleiss_kappa", "Fleiss' κ"
        GWET_AC1 = "gwet_ac1", "Gwet's AC1"
        PAIRWISE_AGREEMENT = "pairwise_agreement", "Pairwise agreement"
        PERCENT_AGREEMENT = "percent_agreement", "Percent agreement"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="primary_statistics")
    field = models.OneToOneField(CodebookField, on_delete=models.CASCADE, related_name="primary_statistic")
    statistic = models.CharField(max_length=30, choices=Statistic)
    threshold = models.DecimalField(
        max_digits=4, decimal_places=3, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    source = models.CharField(max_length=300, help_text="Where the threshold comes from.")
    reason = models.TextField(blank=True, help_text="Why it was declared or changed after labelling started.")
    after_labelling_started = models.BooleanField(
        default=False, help_text="This declaration was made once the field had answers."
    )
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField()
    # Raised by every change: a form showing an older declaration is refused (HTTP 409).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        triggers = [version_trigger()]

    def __str__(self) -> str:
        return f"{self.field.key}: {self.get_statistic_display()} ≥ {self.threshold}"
