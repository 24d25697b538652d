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

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from django.db.models import Model
from django.tasks import task

from issues.markdown import cache_key, render_all
from issues.models import Issue, IssueComment

# Bodies above this many characters (logs pasted whole) show their beginning; the rest is a click away.
BODY_SHOWN = 100_000
BATCH = 200
RENDERERS = min(os.cpu_count() or 1, 4)  # processes rendering at once: one a core


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
    """Render and store every stale body and comment of these issues; returns how many were rendered.

    Rendering is Python's work, one core a process: more than one batch is rendered by a pool of processes
    (RENDERERS), while this one reads the next batches and stores the HTML of those done.
    """
    ids = sorted(set(issue_ids))
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    rendered = 0
    pending: deque[tuple[list[int], list[tuple], Future]] = deque()
    with _renderer(len(batches)) as submit:
        for batch in batches:
            stale = _stale(_rows_of(batch))
            texts = [(text, repository) for _, text, repository, _ in stale]
            pending.append((batch, stale, submit(render_all, texts)))
            if len(pending) > RENDERERS:
                rendered += _store_done(*pending.popleft(), on_progress)
        while pending:
            rendered += _store_done(*pending.popleft(), on_progress)
    return rendered


def _rows_of(batch: list[int]) -> list[tuple[Model, str, str]]:
    issues = Issue.objects.filter(id__in=batch).select_related("repository")
    repositories = {}
    rows = []
    for issue in issues.only("body", "body_html_key", "repository__owner", "repository__name"):
        repositories[issue.pk] = issue.repository.full_name
        rows.append((issue, shown_body(issue.body), repositories[issue.pk]))
    comments = IssueComment.objects.filter(issue_id__in=batch).only("body", "body_html_key", "issue_id")
    return rows + [(comment, comment.body, repositories[comment.issue_id]) for comment in comments]


def _store_done(batch: list[int], stale: list[tuple], rendering: Future, on_progress) -> int:
    _store(stale, rendering.result())
    if on_progress:
        on_progress(len(batch))
    return len(stale)


@contextlib.contextmanager
def _renderer(batches: int) -> Iterator[Callable[..., Future]]:
    """`submit(function, *args)`: in a pool of processes for more than one batch, else here and now."""
    if batches < 2 or RENDERERS < 2:
        yield _here
        return
    # spawn: the task worker's process holds a database connection and maybe threads, which a fork would copy.
    with ProcessPoolExecutor(RENDERERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool.submit


def _here(function: Callable, *args) -> Future:
    future = Future()
    future.set_result(function(*args))
    return future


def issues_in_studies() -> list[int]:
    return list(Issue.objects.filter(studies__isnull=False).distinct().values_list("id", flat=True))


@task
def render_study_issues() -> int:
    """After an import or an "Add issues": the issues annotators will open are ready before they do."""
    return render_stale_bodies(issues_in_studies())


def _render_stale(rows: list[tuple[Model, str, str]]) -> int:
    """Render the (row, shown text, repository) whose stored HTML is missing or stale, and store it."""
    stale = _stale(rows)
    _store(stale, render_all([(text, repository) for _, text, repository, _ in stale]))
    return len(stale)


def _stale(rows: list[tuple[Model, str, str]]) -> list[tuple[Model, str, str, str]]:
    """The rows whose stored HTML was not rendered from this text, with the key of this text."""
    stale = []
    for row, text, repository in rows:
        key = cache_key(text, repository)
        if row.body_html_key != key:
            stale.append((row, text, repository, key))
    return stale


def _store(stale: list[tuple[Model, str, str, str]], html: list[str]) -> None:
    """Store each stale row's HTML, in one UPDATE per table."""
    for (row, _, _, key), rendered in zip(stale, html, strict=True):
        row.body_html, row.body_html_key = rendered, key
    for model in {type(row) for row, *_ in stale}:
        model.objects.bulk_update(
            [row for row, *_ in stale if type(row) is model], ["body_html", "body_html_key"], batch_size=100
        )
