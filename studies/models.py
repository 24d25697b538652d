"""Studies: a set of issues that a team labels, and who takes part in it."""

from django.conf import settings
from django.db import models

from issues.models import Issue


class StudyQuerySet(models.QuerySet):
    def visible_to(self, user) -> "StudyQuerySet":
        """Admins see every study; researchers only those they are members of."""
        if user.is_staff:
            return self.all()
        return self.filter(memberships__user=user).distinct()


class Study(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issues = models.ManyToManyField(Issue, through="StudyIssue", related_name="studies")

    objects = StudyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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


class StudyIssue(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_issues")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="study_issues")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "issue"]
        constraints = [
            models.UniqueConstraint(fields=["study", "issue"], name="unique_study_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.issue} in {self.study}"
