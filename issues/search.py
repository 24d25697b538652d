"""Full-text search over issues: title (weight A), body (B) and comments (C), in English.

The documents live in IssueSearch and are (re)built by `index_stale_issues()`:
after every import (as a background task), and by `manage.py index_issues`.
An issue is stale when it has no document yet or was changed by an import
since it was indexed.
"""

import html
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Left
from django.tasks import task

from issues.markdown import render_markdown, text_of
from issues.models import Issue

CONFIG = "english"
BATCH = 500
# PostgreSQL builds the documents (the work is all to_tsvector): one connection a core.
WORKERS = 2

_STALE = """
SELECT i.id FROM issues_issue i LEFT JOIN issues_issuesearch s ON s.issue_id = i.id
WHERE s.issue_id IS NULL OR s.import_hash <> i.import_hash
ORDER BY i.id
"""
_INDEX = """
INSERT INTO issues_issuesearch (issue_id, document, import_hash)
SELECT i.id,
       setweight(to_tsvector(%(config)s, i.title), 'A')
       || setweight(to_tsvector(%(config)s, i.body), 'B')
       || setweight(to_tsvector(%(config)s, coalesce(
              (SELECT string_agg(c.body, ' ') FROM issues_issuecomment c WHERE c.issue_id = i.id), '')), 'C'),
       i.import_hash
FROM issues_issue i WHERE i.id = ANY(%(ids)s)
ON CONFLICT (issue_id) DO UPDATE SET document = EXCLUDED.document, import_hash = EXCLUDED.import_hash
"""


def index_stale_issues() -> int:
    """Index every issue stale when called, a batch a transaction; returns how many were indexed.

    Batches go to WORKERS connections at once, each its own thread; inside a transaction (which other connections
    cannot see into) or for a single batch, they are indexed on this connection.
    """
    with connection.cursor() as cursor:
        cursor.execute(_STALE)
        ids = [row[0] for row in cursor.fetchall()]
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    if len(batches) < 2 or connection.in_atomic_block:
        for batch in batches:
            _index(batch)
    else:
        queue = iter(batches)
        lock = threading.Lock()
        with ThreadPoolExecutor(WORKERS) as pool:
            for worker in [pool.submit(_index_from, queue, lock) for _ in range(WORKERS)]:
                worker.result()
    return len(ids)


def _index_from(batches: Iterator[list[int]], lock: threading.Lock) -> None:
    """Index batches taken from the shared iterator, on this thread's own connection, closed at the end."""
    try:
        while True:
            with lock:
                batch = next(batches, None)
            if batch is None:
                return
            _index(batch)
    finally:
        connection.close()


def _index(ids: list[int]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INDEX, {"config": CONFIG, "ids": ids})


@task
def refresh_search_index() -> int:
    return index_stale_issues()


def search(issues: QuerySet[Issue], text: str) -> QuerySet[Issue]:
    """The issues matching `text` (web-search syntax: words, "phrases", -not, or)."""
    return issues.filter(search__document=SearchQuery(text, config=CONFIG, search_type="websearch"))


# ts_headline parses all the text it gets: the start of each body (and of its HTML) is enough for a snippet.
SNIPPET_SOURCE = 20_000

# Marks around matches that cannot occur in text: the snippet is escaped, then they become <mark>.
_START, _STOP = "\x02", "\x03"


def snippets(issue_ids: list[int], text: str) -> dict[int, str]:
    """For each issue, a short extract of its body as plain text (the rendered HTML's text: no Markdown syntax)
    with the matches highlighted, as safe HTML."""
    if not issue_ids:
        return {}
    issues = (
        Issue.objects.filter(pk__in=issue_ids)
        .select_related("repository")
        .annotate(start_html=Left("body_html", SNIPPET_SOURCE), start=Left("body", SNIPPET_SOURCE))
        .only("repository__owner", "repository__name")
    )
    # The marks are taken out of the text first: a body holding them would mark text of its own choosing.
    texts = {issue.pk: _body_text(issue).translate({ord(_START): None, ord(_STOP): None}) for issue in issues}
    options = f"MaxFragments=2, MaxWords=18, MinWords=6, FragmentDelimiter=' … ', StartSel={_START}, StopSel={_STOP}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ts_headline(%s, body, websearch_to_tsquery(%s, %s), %s) "
            "FROM unnest(%s::bigint[], %s::text[]) AS issue (id, body)",
            [CONFIG, CONFIG, text, options, list(texts), list(texts.values())],
        )
        return {issue_id: _marked(headline) for issue_id, headline in cursor.fetchall()}


def _body_text(issue: Issue) -> str:
    """The text of the body's stored HTML; of its beginning rendered now, if it was never rendered."""
    if issue.start_html:
        return text_of(issue.start_html)
    return text_of(render_markdown(issue.start, repository=issue.repository.full_name))


def _marked(headline: str) -> str:
    escaped = html.escape(re.sub(r"\s+", " ", headline).strip())
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
