"""Write issue and comment records to PostgreSQL in batches, idempotently.

Each batch is one transaction: its issues, their comments and their study
links are written together or not at all, so a crash or a kill leaves only
whole batches behind and a rerun completes the job.

Rows go through `COPY` into a temporary staging table, then one
`INSERT … ON CONFLICT DO UPDATE` merges them on (repository, number),
updating only rows whose content changed and never replacing an issue with
an older snapshot of itself. An issue whose record is byte for byte the one
imported last time (same digest) is not sent at all: each batch first looks
up what is stored for its issues, so memory does not grow with the dump.
A line of JSON Lines found so before it was even parsed (unchanged.py)
reaches the writer as an issue id only (`add_unchanged`).
"""

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator

import psycopg
from django.db import DatabaseError, connection, transaction
from psycopg.types.json import Jsonb

from issues.importers.records import CommentRecord, IssueRecord, Problem
from issues.models import Repository

ISSUE_COLUMNS = (
    "repository_id",
    "number",
    "title",
    "body",
    "author_login",
    "state",
    "state_reason",
    "labels",
    "created_at",
    "updated_at",
    "closed_at",
    "html_url",
    "is_pull_request",
    "payload",
    "import_hash",
)
UPDATED_COLUMNS = ISSUE_COLUMNS[2:]
COMMENT_COLUMNS = ("github_id", "issue_id", "author_login", "body", "created_at", "payload")
# Rows go in COPY's binary format: text would escape every body and payload here and unescape it in PostgreSQL.
# Binary values must be of the column's exact type.
ISSUE_TYPES = (
    "bigint",
    "integer",
    "text",
    "text",
    "varchar",
    "varchar",
    "varchar",
    "text[]",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "varchar",
    "boolean",
    "jsonb",
    "varchar",
)
COMMENT_TYPES = ("bigint", "bigint", "varchar", "text", "timestamptz", "jsonb")
BATCH_ISSUES = 1000
BATCH_BYTES = 16 * 1024 * 1024

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS import_issue (LIKE issues_issue INCLUDING DEFAULTS);
ALTER TABLE import_issue DROP COLUMN IF EXISTS id;
CREATE TEMP TABLE IF NOT EXISTS import_comment (LIKE issues_issuecomment INCLUDING DEFAULTS);
ALTER TABLE import_comment DROP COLUMN IF EXISTS id;
TRUNCATE import_issue, import_comment;
"""
_MERGE_ISSUES = f"""
INSERT INTO issues_issue ({", ".join(ISSUE_COLUMNS)})
SELECT {", ".join(ISSUE_COLUMNS)} FROM import_issue
ON CONFLICT (repository_id, number) DO UPDATE SET
    {", ".join(f"{column} = EXCLUDED.{column}" for column in UPDATED_COLUMNS)}
WHERE NOT coalesce(issues_issue.updated_at > EXCLUDED.updated_at, false)
  AND ({", ".join(f"issues_issue.{column}" for column in UPDATED_COLUMNS[:-1])})
      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{column}" for column in UPDATED_COLUMNS[:-1])})
RETURNING id, repository_id, number, xmax = 0
"""
_MERGE_COMMENTS = f"""
INSERT INTO issues_issuecomment ({", ".join(COMMENT_COLUMNS)})
SELECT {", ".join(COMMENT_COLUMNS)} FROM import_comment WHERE github_id IS NOT NULL
ON CONFLICT (github_id) DO UPDATE SET
    {", ".join(f"{column} = EXCLUDED.{column}" for column in COMMENT_COLUMNS[1:])}
WHERE ({", ".join(f"issues_issuecomment.{column}" for column in COMMENT_COLUMNS[1:])})
      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{column}" for column in COMMENT_COLUMNS[1:])})
RETURNING xmax = 0
"""
# An issue's full list of comments replaces what was stored: deleted comments go,
# and bare comment bodies (no GitHub id to merge on) are written anew.
_REMOVE_STALE_COMMENTS = """
DELETE FROM issues_issuecomment stored
WHERE stored.issue_id = ANY(%s)
  AND (stored.github_id IS NULL
       OR NOT EXISTS (SELECT FROM import_comment new WHERE new.github_id = stored.github_id))
"""
_INSERT_BARE_COMMENTS = f"""
INSERT INTO issues_issuecomment ({", ".join(COMMENT_COLUMNS)})
SELECT {", ".join(COMMENT_COLUMNS)} FROM import_comment WHERE github_id IS NULL
"""


_STORED_ISSUES = """
SELECT i.repository_id, i.number, i.id, i.import_hash, i.updated_at
FROM issues_issue i JOIN unnest(%s::bigint[], %s::bigint[]) AS wanted (repository_id, number)
  ON i.repository_id = wanted.repository_id AND i.number = wanted.number
"""


class IssueWriter:
    """Collects records into batches and merges them into the database.

    `counts` gets created / updated / unchanged and the comment counts;
    `on_problem` hears about every record the database refused or that
    could not be joined; `on_issue_ids` gets the ids of every issue written
    or found unchanged (to add them to a study), each with the comments its
    record says GitHub counted (IssueRecord.github_comment_count).
    """

    def __init__(self, counts: Counter, on_problem: Callable[[Problem], None], on_issue_ids=None):
        self.counts = counts
        self.on_problem = on_problem
        self.on_issue_ids = on_issue_ids or (lambda issues: None)
        self._repository_ids: dict[tuple[str, str], int] = {}
        self._issues: dict[tuple[int, int], IssueRecord] = {}
        self._repeats: set[tuple[int, int]] = set()
        self._issue_bytes = 0
        self._comments: list[CommentRecord] = []
        self._orphans: list[CommentRecord] = []
        self._unchanged: dict[int, int | None] = {}

    def key(self, repository: tuple[str, str], number: int) -> int:
        """A compact key for an issue, for callers that remember many of them."""
        return self._repository_id(repository) << 64 | number

    # --- issues ---

    def add_issue(self, record: IssueRecord, *, repeat: bool = False) -> None:
        """Queue an issue; `repeat` says the run has met this issue before."""
        key = (self._repository_id(record.repository), record.number)
        earlier = self._issues.get(key)
        if earlier is not None:
            if earlier.import_hash == record.import_hash:
                self.counts["skipped: duplicate"] += 1
                return
            # Two snapshots of one issue in a batch (GH Archive, overlapping pages): the latest wins.
            self.counts["skipped: older snapshot"] += 1
            if _newer(earlier, record):
                return
            self._issue_bytes -= len(earlier.payload_json)
        if repeat:
            self._repeats.add(key)
        self._issues[key] = record
        self._issue_bytes += len(record.payload_json)
        if len(self._issues) >= BATCH_ISSUES or self._issue_bytes >= BATCH_BYTES:
            self.flush()

    def add_unchanged(self, issue_id: int, github_comment_count: int | None) -> None:
        """An issue the reader found unchanged (issues/importers/unchanged.py): nothing to write, but the caller
        hears of it with the batch's issues."""
        self._unchanged[issue_id] = github_comment_count
        if len(self._unchanged) >= BATCH_ISSUES:
            self.flush()

    def add_comment(self, record: CommentRecord) -> None:
        self._comments.append(record)
        if len(self._comments) >= BATCH_ISSUES:
            self.flush()

    def flush(self) -> None:
        """Write what is pending: issues first, so that comments find them."""
        if self._issues:
            batch, self._issues, self._issue_bytes = list(self._issues.values()), {}, 0
            self._write_safely(batch, self._write_issues)
            self._repeats.clear()
        if self._comments:
            batch, self._comments = self._comments, []
            self._write_safely(batch, self._write_comments)
        if self._unchanged:
            unchanged, self._unchanged = self._unchanged, {}
            self.on_issue_ids(unchanged)

    def finish(self) -> None:
        """Flush, then retry comments whose issue came later in the dump."""
        self.flush()
        orphans, self._orphans = self._orphans, []
        for comment in orphans:
            self.add_comment(comment)
        self.flush()
        for comment in self._orphans:
            owner, name = comment.repository
            self.on_problem(
                Problem(
                    comment.where,
                    f"comment {comment.github_id}: issue {owner}/{name}#{comment.issue_number} "
                    "is neither in this dump nor in the database",
                )
            )
        self._orphans = []

    def _write_safely(self, batch: list, write: Callable[[list], None]) -> None:
        """Write a batch in one transaction; should the database refuse it, find the culprits one by one."""
        if self._attempt(batch, write) is None:
            return
        for record in batch:
            error = self._attempt([record], write)
            if error is not None:
                reason = "a number too large for its column" if isinstance(error, OverflowError) else str(error)
                reason = reason.splitlines()[0]
                self.on_problem(Problem(record.where, f"the database refused it: {reason}"))

    def _attempt(self, batch: list, write: Callable[[list], None]) -> Exception | None:
        """Write in one transaction; on failure, forget what the attempt counted too."""
        counts_before, orphans_before = self.counts.copy(), len(self._orphans)
        try:
            with transaction.atomic():
                write(batch)
        # COPY errors come straight from psycopg; a number past its column's binary type fails before it is sent.
        except (DatabaseError, psycopg.Error, OverflowError) as error:
            self.counts.clear()
            self.counts.update(counts_before)
            del self._orphans[orphans_before:]
            return error
        return None

    def _write_issues(self, batch: list[IssueRecord]) -> None:
        ids, changed = {}, []
        stored = self._stored(batch)
        github_comment_counts = {}
        for record in batch:
            key = (self._repository_ids[record.repository], record.number)
            issue_id, import_hash, updated_at = stored.get(key, (None, None, None))
            if import_hash == record.import_hash:
                self.counts["skipped: duplicate" if key in self._repeats else "unchanged"] += 1
                ids[key] = issue_id
            elif updated_at and record.updated_at and updated_at > record.updated_at:
                self.counts["skipped: older snapshot"] += 1
                ids[key] = issue_id
                github_comment_counts[key] = None  # what the newer snapshot stored says
                continue
            else:
                changed.append(record)
            github_comment_counts[key] = record.github_comment_count
        if changed:
            new, stored_changed = [], []
            for record in changed:
                key = (self._repository_ids[record.repository], record.number)
                (stored_changed if key in stored else new).append(record)
            with connection.cursor() as cursor:
                if new:
                    ids |= self._insert_issues(cursor, new)
                if stored_changed:
                    ids |= self._merge_issues(cursor, stored_changed)
                self._write_embedded_comments(cursor, changed, ids)
        self.on_issue_ids({issue_id: github_comment_counts[key] for key, issue_id in ids.items()})

    def _stored(self, batch: list[IssueRecord]) -> dict[tuple[int, int], tuple]:
        """What is stored already for the batch's issues: id, digest and update time."""
        keys = [(self._repository_ids[record.repository], record.number) for record in batch]
        with connection.cursor() as cursor:
            cursor.execute(_STORED_ISSUES, [[key[0] for key in keys], [key[1] for key in keys]])
            return {(row[0], row[1]): row[2:] for row in cursor.fetchall()}

    def _insert_issues(self, cursor, batch: list[IssueRecord]) -> dict[tuple[int, int], int]:
        """Issues not stored yet (the batch's transaction holds none of them) go straight into the table, as a
        plain COPY: no staging, no merge."""
        self._copy_issues(cursor, "issues_issue", batch)
        self.counts["created"] += len(batch)
        keys = [(self._repository_ids[record.repository], record.number) for record in batch]
        cursor.execute(_STORED_ISSUES, [[key[0] for key in keys], [key[1] for key in keys]])
        return {(row[0], row[1]): row[2] for row in cursor.fetchall()}

    def _copy_issues(self, cursor, table: str, batch: list[IssueRecord]) -> None:
        with _copy(cursor, table, ISSUE_COLUMNS, ISSUE_TYPES) as copy:
            for record in batch:
                copy.write_row(
                    (
                        self._repository_ids[record.repository],
                        record.number,
                        record.title,
                        record.body,
                        record.author_login,
                        record.state,
                        record.state_reason,
                        record.labels,
                        record.created_at,
                        record.updated_at,
                        record.closed_at,
                        record.html_url,
                        record.is_pull_request,
                        _json(record.payload_json),
                        record.import_hash,
                    )
                )

    def _merge_issues(self, cursor, batch: list[IssueRecord]) -> dict[tuple[int, int], int]:
        cursor.execute(_STAGING)
        self._copy_issues(cursor, "import_issue", batch)
        cursor.execute(_MERGE_ISSUES)
        written = cursor.fetchall()
        ids = {}
        for issue_id, repository_id, number, created in written:
            self.counts["created" if created else "updated"] += 1
            ids[(repository_id, number)] = issue_id
        if len(written) < len(batch):
            # Same content under another digest (another format), or changed since we looked.
            self.counts["unchanged"] += len(batch) - len(written)
            cursor.execute(
                "SELECT i.id, i.repository_id, i.number FROM import_issue s "
                "JOIN issues_issue i USING (repository_id, number)"
            )
            for issue_id, repository_id, number in cursor.fetchall():
                ids.setdefault((repository_id, number), issue_id)
        return ids

    def _write_embedded_comments(self, cursor, batch: list[IssueRecord], ids: dict) -> None:
        with_comments = [record for record in batch if record.comments is not None]
        if not with_comments:
            return
        cursor.execute(_STAGING)
        with _copy(cursor, "import_comment", COMMENT_COLUMNS, COMMENT_TYPES) as copy:
            for record in with_comments:
                issue_id = ids[(self._repository_ids[record.repository], record.number)]
                for comment in record.comments:
                    copy.write_row(self._comment_row(comment, issue_id))
        issue_ids = [ids[(self._repository_ids[record.repository], record.number)] for record in with_comments]
        cursor.execute(_REMOVE_STALE_COMMENTS, [issue_ids])
        removed = cursor.rowcount
        cursor.execute(_INSERT_BARE_COMMENTS)
        bare = cursor.rowcount
        self._merge_comments(cursor)
        # Bare bodies are deleted and written anew each time; count only the difference.
        self.counts["comments removed"] += max(0, removed - bare)

    # --- comments from their own files ---

    def _write_comments(self, batch: list[CommentRecord]) -> None:
        keys = [(self._repository_id(comment.repository), comment.issue_number) for comment in batch]
        with connection.cursor() as cursor:
            cursor.execute(_STORED_ISSUES, [[key[0] for key in keys], [key[1] for key in keys]])
            issue_ids = {(row[0], row[1]): row[2] for row in cursor.fetchall()}
        rows = {}
        for comment, key in zip(batch, keys, strict=True):
            if key in issue_ids:
                rows[comment.github_id] = self._comment_row(comment, issue_ids[key])  # the last copy wins
            else:
                self._orphans.append(comment)
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.execute(_STAGING)
            with _copy(cursor, "import_comment", COMMENT_COLUMNS, COMMENT_TYPES) as copy:
                for row in rows.values():
                    copy.write_row(row)
            self._merge_comments(cursor)

    def _merge_comments(self, cursor) -> None:
        cursor.execute(_MERGE_COMMENTS)
        for (created,) in cursor.fetchall():
            self.counts["comments created" if created else "comments updated"] += 1

    @staticmethod
    def _comment_row(comment: CommentRecord, issue_id: int) -> tuple:
        return (
            comment.github_id,
            issue_id,
            comment.author_login,
            comment.body,
            comment.created_at,
            _json(comment.payload_json),
        )

    # --- what is already stored ---

    def _repository_id(self, repository: tuple[str, str]) -> int:
        if repository not in self._repository_ids:
            owner, name = repository
            self._repository_ids[repository] = Repository.objects.get_or_create(owner=owner, name=name)[0].pk
        return self._repository_ids[repository]


def _newer(a: IssueRecord, b: IssueRecord) -> bool:
    return bool(a.updated_at and b.updated_at and a.updated_at > b.updated_at)


@contextlib.contextmanager
def _copy(cursor, table: str, columns: tuple[str, ...], types: tuple[str, ...]) -> Iterator[psycopg.Copy]:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        yield copy


def _json(text: str) -> Jsonb:
    """A JSON text, sent as it is (it was parsed, checked and cleaned by the reader)."""
    return Jsonb(text, dumps=_as_is)


def _as_is(text: str) -> str:
    return text
