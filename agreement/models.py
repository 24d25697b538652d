from django.db import models

from studies.models import Study


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
