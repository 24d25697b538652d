"""Lines of a dump unchanged since their issue was imported, known before they are parsed.

A re-import is mostly such lines. An issue's `import_hash` is the digest of
the JSON text it was imported from, so a line whose digest is stored, and
which names the same issue, needs no parsing, checking or writing: a glance at
the few members that say what the line is (`Head`) settles it. The JSON Lines
reader asks `StoredDigests` about each line (issues/importers/formats.py).
"""

import re
from typing import Any

import msgspec
from django.db import connection

from issues.github import InvalidIssueObject
from issues.importers import records
from issues.importers.formats import kind_of
from issues.importers.records import UnchangedIssue
from issues.models import Issue, Repository

# The digests are held in memory, about 290 bytes an issue (86 MB at most): past this many stored issues, lines
# are parsed as any other and found unchanged in the database, a batch at a time.
MAX_STORED = 300_000


class Head(msgspec.Struct):
    """The members of a JSON object that decide its kind (formats.kind_of), its repository and its comment count;
    the rest of the line is skipped without being decoded."""

    type: Any = msgspec.UNSET
    payload: Any = msgspec.UNSET
    issue_url: Any = msgspec.UNSET
    number: Any = msgspec.UNSET
    createdAt: Any = msgspec.UNSET  # noqa: N815 (GitHub CLI's name)
    repository_url: Any = msgspec.UNSET
    html_url: Any = msgspec.UNSET
    comments: Any = msgspec.UNSET


_HEAD = msgspec.json.Decoder(Head).decode
# A JSON escape: only a line with one may hold a NUL, which records.cleaned() removes (a lone surrogate, which it
# replaces, the glance at the line refuses).
ESCAPE = re.compile(rb"\\u")
FIELDS = Head.__struct_fields__


class StoredDigests:
    """`stored(line)`: the UnchangedIssue this JSON Lines line is, or None if it must be parsed."""

    def __init__(self, fallback: tuple[str, str] | None, include_prs: bool):
        self.fallback = fallback
        repositories = Repository.objects.values_list("pk", "owner", "name")
        self.repository_ids = {(owner, name): pk for pk, owner, name in repositories}
        # digest: ((repository id, issue id, number), …): one, unless a text was imported into two repositories.
        self.issues: dict[str, tuple[tuple[int, int, int], ...]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT import_hash, repository_id, id, number FROM issues_issue WHERE import_hash <> ''"
                + ("" if include_prs else " AND NOT is_pull_request")
            )
            for import_hash, *issue in cursor:
                self.issues[import_hash] = (*self.issues.get(import_hash, ()), tuple(issue))

    @classmethod
    def load(cls, *, fallback: tuple[str, str] | None, include_prs: bool) -> "StoredDigests | None":
        """None when there is nothing to find, or too much to hold."""
        stored = Issue.objects.count()
        if not stored or stored > MAX_STORED:
            return None
        return cls(fallback, include_prs)

    def __call__(self, line: bytes) -> UnchangedIssue | None:
        line = line.strip()
        # Between its braces, the line's bytes are the text whose digest was stored (no BOM, no other space).
        if line[:1] != b"{" or line[-1:] != b"}":
            return None
        candidates = self.issues.get(records.digest(line))
        if candidates is None or (ESCAPE.search(line) and b"\\u0000" in line):
            return None  # parsed, its NUL is cleaned and counted so, as it was the first time
        try:
            decoded = _HEAD(line)
        except msgspec.DecodeError:
            return None  # so is a lone surrogate (msgspec refuses it, where it decodes an emoji's pair)
        head = {name: value for name in FIELDS if (value := getattr(decoded, name)) is not msgspec.UNSET}
        if kind_of(head) != "issue":
            return None
        try:
            repository_id = self.repository_ids.get(records.repository_of_issue(head, self.fallback))
        except (InvalidIssueObject, TypeError):
            return None  # parsed, it says what is wrong with it
        for candidate_repository, issue_id, number in candidates:
            if candidate_repository == repository_id:
                count = records.github_comment_count(head.get("comments"))
                return UnchangedIssue("", line, issue_id, repository_id << 64 | number, count)
        return None
