"""Issue bodies and comments as HTML, rendered once and kept on their rows.

Rendering a long body takes up to a few hundred milliseconds; the annotation
page must answer in tens. So the HTML is stored next to the text, with the
digest of what it was rendered from (text, repository, renderer and library
versions): every server process shares it, it survives restarts, and an edited
body or a new renderer is simply a different digest that renders again.

Issues in a study are rendered ahead in the background after imports and after
issues are added to a study (`render_study_issues`); any other is rendered the
first time it is shown.
"""

from collections.abc import Callable, Iterable

from django.db.models import Model
from django.tasks import task

from issues.markdown import cache_key, render_markdown
from issues.models import Issue, IssueComment

# Bodies above this many characters (logs pasted whole) show their beginning; the rest is a click away.
BODY_SHOWN = 100_000
BATCH = 200


def shown_body(body: str) -> str:
    """The body itself, or its first lines up to BODY_SHOWN characters (with an open code block closed)."""
    if len(body) <= BODY_SHOWN:
        return body
    beginning = body[: body.rfind("\n", 0, BODY_SHOWN) + 1 or BODY_SHOWN]
    fences = sum(1 for line in beginning.splitlines() if line.lstrip().startswith(("```", "~~~")))
    return beginning + ("\n```\n" if fences % 2 else "")


def stored_html(issue: Issue, comments: list[IssueComment]) -> tuple[str, list[str]]:
    """The HTML of the issue's shown body and of each comment; what is missing or stale is rendered and stored."""
    repository = issue.repository.full_name
    _render_stale([(issue, shown_body(issue.body), repository)] + [(c, c.body, repository) for c in comments])
    return issue.body_html, [comment.body_html for comment in comments]


def render_stale_bodies(issue_ids: Iterable[int], on_progress: Callable[[int], None] | None = None) -> int:
    """Render and store every stale body and comment of these issues; returns how many were rendered."""
    ids = sorted(set(issue_ids))
    rendered = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        issues = Issue.objects.filter(id__in=batch).select_related("repository")
        repositories = {}
        rows = []
        for issue in issues.only("body", "body_html_key", "repository__owner", "repository__name"):
            repositories[issue.pk] = issue.repository.full_name
            rows.append((issue, shown_body(issue.body), repositories[issue.pk]))
        comments = IssueComment.objects.filter(issue_id__in=batch).only("body", "body_html_key", "issue_id")
        rows += [(comment, comment.body, repositories[comment.issue_id]) for comment in comments]
        rendered += _render_stale(rows)
        if on_progress:
            on_progress(len(batch))
    return rendered


def issues_in_studies() -> list[int]:
    return list(Issue.objects.filter(studies__isnull=False).distinct().values_list("id", flat=True))


@task
def render_study_issues() -> int:
    """After an import or an "Add issues": the issues annotators will open are ready before they do."""
    return render_stale_bodies(issues_in_studies())


def _render_stale(rows: list[tuple[Model, str, str]]) -> int:
    """Render the (row, shown text, repository) whose stored HTML is missing or stale, in one UPDATE per table."""
    stale = []
    for row, text, repository in rows:
        key = cache_key(text, repository)
        if row.body_html_key != key:
            row.body_html, row.body_html_key = render_markdown(text, repository=repository), key
            stale.append(row)
    for model in {type(row) for row in stale}:
        model.objects.bulk_update(
            [row for row in stale if type(row) is model], ["body_html", "body_html_key"], batch_size=100
        )
    return len(stale)
