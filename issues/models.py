"""GitHub repositories, issues and comments, as GitHub describes them.

Each issue and comment keeps the complete JSON object it came from, so a
field we do not model yet is never lost from a dump.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse


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


class IssueQuerySet(models.QuerySet):
    def without_texts(self) -> "IssueQuerySet":
        """For lists: leaves out the body, its HTML and the verbatim payload, each as large as a log."""
        return self.defer("body", "body_html", "payload")

    def with_github_comment_count(self) -> "IssueQuerySet":
        """Annotated with `github_comment_count`: how many comments GitHub counted when the issue was exported,
        0 when its record does not say (the payload itself stays deferred)."""
        return self.annotate(
            # "comments" is a count in REST objects, a list of bodies in the "datasets" layout.
            github_comment_count=RawSQL(
                "CASE WHEN jsonb_typeof(issues_issue.payload -> 'comments') = 'number' "
                "THEN (issues_issue.payload ->> 'comments')::numeric::integer ELSE 0 END",
                [],
            )
        )

    def missing_comments(self) -> "IssueQuerySet":
        """Issues GitHub counts more comments on than are stored: a dump that held only the count (REST issue
        files do) left them out. Annotated with `github_comment_count` and `stored_comment_count`."""
        stored = (
            IssueComment.objects.filter(issue=OuterRef("pk"))
            .order_by()
            .values("issue")
            .annotate(count=Count("*"))
            .values("count")
        )
        return (
            self.with_github_comment_count()
            .annotate(stored_comment_count=Coalesce(Subquery(stored), 0))
            .filter(github_comment_count__gt=F("stored_comment_count"))
        )

    def count_missing_comments(self, github_comment_counts: dict[int, int | None]) -> int:
        """How many of these issues (id: the comments GitHub counted, as an import read them from each record)
        miss comments, as `missing_comments()` tells; without reading the payloads, each as large as its body.
        Only issues counted with comments are looked at; a count of None is read from the payload."""
        unknown = [pk for pk, count in github_comment_counts.items() if count is None]
        counted = {pk: count for pk, count in github_comment_counts.items() if count}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM unnest(%s::bigint[], %s::integer[]) AS counted (issue_id, comments) "
                "WHERE comments > (SELECT count(*) FROM issues_issuecomment c WHERE c.issue_id = counted.issue_id)",
                [list(counted), list(counted.values())],
            )
            missing = cursor.fetchone()[0]
        return missing + self.filter(pk__in=unknown).missing_comments().count()


class Issue(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    # No index of its own: unique_issue_number's, which starts with it, serves (and an import writes one less).
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="issues", db_index=False)
    number = models.PositiveIntegerField()
    title = models.TextField()
    body = models.TextField(blank=True)
    author_login = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State)
    # GitHub's state_reason: completed, not_planned, reopened, duplicate; empty in old dumps.
    state_reason = models.CharField(max_length=20, blank=True)
    labels = ArrayField(models.TextField(), default=list, blank=True)
    # Unknown in some CSV dumps.
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    html_url = models.URLField(max_length=500)
    is_pull_request = models.BooleanField(default=False)
    payload = models.JSONField(help_text="The original JSON object, verbatim.")
    # Digest of the record as last imported: an identical record in a later
    # dump is recognised without being written again.
    import_hash = models.CharField(max_length=32, blank=True, editable=False)
    # The body as HTML and the digest of what it was rendered from (issues/rendering.py).
    # Database defaults: the importer inserts rows with SQL of its own.
    body_html = models.TextField(blank=True, db_default="", editable=False)
    body_html_key = models.CharField(max_length=64, blank=True, db_default="", editable=False)
    # Owners of any study may add it to theirs (studies/access.py); else only admins, and owners of a study it is in.
    shared = models.BooleanField(
        default=False, db_default=False, help_text="Every study's owners may add it to their study."
    )

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["repository", "number"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "number"], name="unique_issue_number"),
        ]
        indexes = [GinIndex(fields=["labels"], name="issue_labels_gin")]

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}: {self.title}"


class IssueComment(models.Model):
    # Null for comments that came as bare bodies (the "datasets" layout of dumps).
    github_id = models.BigIntegerField(unique=True, null=True, blank=True)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    author_login = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(help_text="The original JSON object, verbatim.")
    body_html = models.TextField(blank=True, db_default="", editable=False)
    body_html_key = models.CharField(max_length=64, blank=True, db_default="", editable=False)

    class Meta:
        ordering = ["created_at", "github_id", "id"]

    def __str__(self) -> str:
        return f"Comment {self.github_id} on {self.issue}"


class IssueSearch(models.Model):
    """The full-text search document of an issue: title, body and comments.

    Kept apart from Issue and filled in the background after imports (see
    issues/search.py): computing it while importing would double the time an
    import takes.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, primary_key=True, related_name="search")
    document = SearchVectorField()
    # The issue's import_hash when it was indexed: a different one means the issue changed since.
    import_hash = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [GinIndex(fields=["document"], name="issue_search_gin")]

    def __str__(self) -> str:
        return f"Search document of {self.issue_id}"


class ImportRun(models.Model):
    """One import of dump files or of a GitHub repository: what, by whom, with what result."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Source(models.TextChoices):
        UPLOAD = "upload", "web upload"
        COMMAND = "command", "command line"
        GITHUB = "github", "GitHub API"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    # [{"name", "size", "sha256"}] for files; the repository for a GitHub import.
    files = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="Format, filters, study, strict mode.")
    bytes_total = models.BigIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    records_read = models.PositiveIntegerField(default=0)
    # {"created": …, "updated": …, "unchanged": …, "skipped": {reason: n}, "failed": …, …}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why the run stopped, if it did not finish.")
    # Where an interrupted GitHub import goes on from (the next page's URL).
    resume_url = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_source_display()}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("issues:import_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    def result_rows(self) -> list[tuple[str, int]]:
        """The counts as a results table shows them: created, updated, unchanged, skips, comments, failed."""
        counts = self.counts
        rows = [(name, counts.get(name, 0)) for name in ("created", "updated", "unchanged")]
        rows += [(name, value) for name, value in counts.items() if name.startswith("skipped")]
        rows += [
            (name, value)
            for name, value in counts.items()
            if not name.startswith("skipped") and name not in {"created", "updated", "unchanged", "failed"}
        ]
        rows.append(("failed", counts.get("failed", 0)))
        return rows

    @property
    def percent_done(self) -> int:
        if self.is_finished:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_read / self.bytes_total))


class ImportProblem(models.Model):
    """A record that could not be imported, or a file that could not be read to its end."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    source = models.CharField(max_length=500, help_text="The file (and archive member) it came from.")
    location = models.CharField(max_length=100, help_text="Line, item or byte offset in the file.")
    reason = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.source}, {self.location}: {self.reason}"
