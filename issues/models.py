"""GitHub repositories, issues and comments, as GitHub describes them.

Each issue and comment keeps the complete JSON object it came from, so a
field we do not model yet is never lost from a dump.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Repository(models.Model):
    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "repositories"
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_repository"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class Issue(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="issues")
    number = models.PositiveIntegerField()
    title = models.TextField()
    body = models.TextField(blank=True)
    author_login = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State)
    # GitHub's state_reason: completed, not_planned, reopened, duplicate; empty in old dumps.
    state_reason = models.CharField(max_length=20, blank=True)
    labels = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    html_url = models.URLField(max_length=500)
    is_pull_request = models.BooleanField(default=False)
    payload = models.JSONField(help_text="The original JSON object, verbatim.")

    class Meta:
        ordering = ["repository", "number"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "number"], name="unique_issue_number"),
        ]
        indexes = [GinIndex(fields=["labels"], name="issue_labels_gin")]

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}: {self.title}"


class IssueComment(models.Model):
    github_id = models.BigIntegerField(unique=True)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    author_login = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    payload = models.JSONField(help_text="The original JSON object, verbatim.")

    class Meta:
        ordering = ["created_at", "github_id"]

    def __str__(self) -> str:
        return f"Comment {self.github_id} on {self.issue}"
