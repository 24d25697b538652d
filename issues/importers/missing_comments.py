"""Comments GitHub counted but a dump did not hold (REST issue files carry only `"comments": 14`), fetched from
GitHub's API for the issues that miss them. The command (`import_issues --fetch-comments`) and the Imports page's
button (a task) both run `fetch_missing_comments`."""

from collections.abc import Callable

from django.db.models import QuerySet

from issues.importers import destinations
from issues.importers.github_api import GitHubClient, fetch_comments
from issues.importers.run import ImportOptions, ImportService
from issues.models import ImportRun, Issue


def issues_missing_comments(study: str = "") -> QuerySet[Issue]:
    """Every issue that misses comments; only the study's, given its slug."""
    issues = Issue.objects.missing_comments()
    if study:
        issues = issues.filter(pk__in=destinations.studies().issue_ids(study))
    return issues


def fetch_missing_comments(
    run: ImportRun,
    client: GitHubClient,
    *,
    study: str = "",
    on_progress: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Fetch and store the comments of every issue that misses some (of the study's, given its slug)."""
    issues = list(issues_missing_comments(study).select_related("repository").defer("body", "body_html"))

    def fetch(issue: Issue) -> list[dict]:
        return fetch_comments(client, issue.repository.owner, issue.repository.name, {"number": issue.number})

    options = ImportOptions(study=study, fetch_comments=True)
    with client:
        return ImportService(run, options, on_progress=on_progress).fetch_comments(issues, fetch)
