"""One record of a dump, whatever its format, as the writer stores it.

Every reader turns what it parses into `IssueRecord`s and `CommentRecord`s
through the functions here, or into a `Problem` saying what was wrong and
where. Nothing here touches the database.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from issues import github
from issues.github import InvalidIssueObject

# Column limits of the Issue and IssueComment tables: a longer value would
# make a whole batch fail in the database, so it fails its record here.
MAX_LOGIN = 100
MAX_URL = 500
STATE_REASONS = {"completed", "not_planned", "reopened", "duplicate"}
# The option that fixes a problem, as the command names it; the Imports page words it for its own form (run.py).
REPOSITORY_HINT = "use --repo owner/name"
FORMAT_HINT = "use --format to say which it is"
WEB_URL = re.compile(r"https?://[^\s\x00-\x1f]+\Z", re.IGNORECASE)

_GITHUB_ISSUE_URL = re.compile(
    r"^https?://[^/]+/(?:api/v3/)?(?:repos/)?(?P<owner>[^/\s]+)/(?P<name>[^/\s]+)/(?:issues|pull)/(?P<number>\d+)"
)
_COMMENT_ID_IN_URL = re.compile(r"#issuecomment-(\d+)$")


@dataclass(slots=True)
class Problem:
    """A record (or the rest of a file) that could not be imported."""

    where: str
    reason: str


@dataclass(slots=True)
class CommentRecord:
    where: str
    repository: tuple[str, str]
    issue_number: int
    github_id: int | None
    author_login: str
    body: str
    created_at: datetime | None
    payload_json: str


@dataclass(slots=True)
class IssueRecord:
    where: str
    repository: tuple[str, str]
    number: int
    title: str
    body: str
    author_login: str
    state: str
    state_reason: str
    labels: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None
    html_url: str
    is_pull_request: bool
    payload_json: str
    import_hash: str
    # None: the record says nothing about comments; a list: all of them.
    comments: list[CommentRecord] | None = None
    cleaned_up: bool = field(default=False)
    # The comments GitHub counted, as its payload says (Issue.objects.with_github_comment_count); None: not an
    # integer, left for the database to read.
    github_comment_count: int | None = 0

    @property
    def key(self) -> tuple[tuple[str, str], int]:
        return self.repository, self.number


@dataclass(slots=True)
class UnchangedIssue:
    """A line byte for byte the record its stored issue was imported from."""

    where: str
    line: bytes  # parsed after all should the run meet its issue twice (formats.parsed)
    issue_id: int
    key: int  # IssueWriter.key() of the issue
    github_comment_count: int | None  # as IssueRecord.github_comment_count


# A JSON escape of a UTF-16 surrogate: valid in pairs (emoji), unstorable alone.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class Cleaner:
    """PostgreSQL cannot store NUL characters nor lone UTF-16 surrogates (a `\\ud800` escape
    without its pair): NUL is removed, a lone surrogate becomes U+FFFD, and the record says so."""

    @staticmethod
    def bytes(raw: bytes) -> tuple[bytes, bool]:
        if b"\x00" in raw:
            return raw.replace(b"\x00", b""), True
        return raw, False

    @classmethod
    def json_value(cls, value: Any) -> Any:
        if isinstance(value, str):
            return cls.text(value)
        if isinstance(value, dict):
            return {cls.text(key): cls.json_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [cls.json_value(item) for item in value]
        return value

    @staticmethod
    def text(value: str) -> str:
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # Pairs become the character they encode; what is left alone becomes U+FFFD.
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value


def digest(text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def cleaned(obj: Any, text: str) -> tuple[Any, str, bool]:
    """The object and its JSON text, both free of what PostgreSQL cannot store."""
    # A literal backslash before "u0000" only costs a needless walk.
    if "\\u0000" not in text and "\x00" not in text and not _SURROGATE_ESCAPE.search(text) and _encodable(text):
        return obj, text, False
    clean = Cleaner.json_value(obj)
    if clean == obj:
        return obj, text, False
    return clean, dumps(clean), True


# --- GitHub REST API objects (also python-github-backup, GH Archive payloads, "datasets") ---


def rest_issue(obj: Any, where: str, *, raw: str | None = None, repository: tuple[str, str] | None = None):
    """An IssueRecord from a REST issue object; `raw` is its JSON text when the reader has it."""
    if not isinstance(obj, dict):
        return Problem(where, f"expected a JSON object, found {_json_type(obj)}")
    if raw is None:
        raw = dumps(obj)
    import_hash = digest(raw)
    obj, raw, cleaned_up = cleaned(obj, raw)
    try:
        repository = repository_of_issue(obj, repository)
        fields = github.issue_fields({**obj, "html_url": obj.get("html_url") or _html_url(repository, obj)})
        comments = _embedded_comments(obj, repository, fields["number"], where)
    except InvalidIssueObject as error:
        return Problem(where, str(error))
    if isinstance(comments, Problem):
        return comments
    if "comment_data" in obj:
        # Its comments are stored as comments; the issue's payload is the issue itself.
        payload = {key: value for key, value in obj.items() if key != "comment_data"}
        raw = dumps(payload)
    record = _issue_record(where, repository, fields, raw, import_hash, comments, cleaned_up)
    if isinstance(record, IssueRecord):
        record.github_comment_count = github_comment_count(obj.get("comments"))
    return record


def github_comment_count(value: Any) -> int | None:
    """IssueRecord.github_comment_count of a REST issue's "comments" member."""
    return None if isinstance(value, float) else value if type(value) is int else 0


def rest_comment(obj: Any, where: str, *, repository: tuple[str, str] | None = None):
    """A CommentRecord from a REST issue-comment object, joined to its issue through issue_url."""
    if not isinstance(obj, dict):
        return Problem(where, f"expected a JSON object, found {_json_type(obj)}")
    raw = dumps(obj)
    obj, raw, _ = cleaned(obj, raw)
    try:
        issue_repository, number = github.issue_of_comment(obj)
        fields = github.comment_fields(obj)
    except InvalidIssueObject as error:
        return Problem(where, str(error))
    return _comment_record(where, issue_repository, number, fields, raw)


def _embedded_comments(obj: dict, repository: tuple[str, str], number: int, where: str):
    if isinstance(obj.get("comment_data"), list):  # python-github-backup
        comments = []
        for index, comment in enumerate(obj["comment_data"]):
            if not isinstance(comment, dict):
                return Problem(where, f"comment_data[{index}] is not an object")
            fields = github.comment_fields(comment)
            comments.append(_comment_record(where, repository, number, fields, dumps(comment)))
        return comments
    if isinstance(obj.get("comments"), list):  # "datasets" layout: bare comment bodies
        return [
            _comment_record(where, repository, number, _bare_comment(body), dumps(body))
            for body in obj["comments"]
            if isinstance(body, str)
        ]
    return None


def _bare_comment(body: str) -> dict:
    return {"github_id": None, "author_login": "", "body": body, "created_at": None}


# --- GitHub CLI (`gh issue list --json …`) and GraphQL ---


def cli_issue(obj: Any, where: str, *, repository: tuple[str, str] | None = None):
    if not isinstance(obj, dict):
        return Problem(where, f"expected a JSON object, found {_json_type(obj)}")
    raw = dumps(obj)
    import_hash = digest(raw)
    obj, raw, cleaned_up = cleaned(obj, raw)
    try:
        number = _positive_int(obj.get("number"), "number")
        url = obj.get("url") or ""
        repository = _repository_from_url(url) or repository
        if repository is None:
            raise InvalidIssueObject(f"issue {number}: no url to tell its repository ({REPOSITORY_HINT})")
        closed_at = _time(obj.get("closedAt"), "closedAt")
        fields = {
            "number": number,
            "title": _title(obj.get("title"), number),
            "body": obj.get("body") or "",
            "author_login": ((obj.get("author") or {}).get("login") or ""),
            "state": _state(obj.get("state"), closed_at),
            "state_reason": _state_reason(obj.get("stateReason")),
            "labels": _label_names(obj.get("labels")),
            "created_at": _time(obj.get("createdAt"), "createdAt"),
            "updated_at": _time(obj.get("updatedAt"), "updatedAt"),
            "closed_at": closed_at,
            "html_url": url or _html_url(repository, obj),
            "is_pull_request": "/pull/" in url,
        }
        comments = None
        if isinstance(obj.get("comments"), list):
            comments = [_cli_comment(comment, repository, number, where) for comment in obj["comments"]]
    except InvalidIssueObject as error:
        return Problem(where, str(error))
    return _issue_record(where, repository, fields, raw, import_hash, comments, cleaned_up)


def _cli_comment(obj: Any, repository: tuple[str, str], number: int, where: str) -> CommentRecord:
    if not isinstance(obj, dict):
        raise InvalidIssueObject(f"issue {number}: a comment is not an object")
    match = _COMMENT_ID_IN_URL.search(obj.get("url") or "")
    fields = {
        "github_id": int(match[1]) if match else None,
        "author_login": ((obj.get("author") or {}).get("login") or ""),
        "body": obj.get("body") or "",
        "created_at": _time(obj.get("createdAt"), "createdAt"),
    }
    return _comment_record(where, repository, number, fields, dumps(obj))


# --- CSV rows ---


def csv_issue(row: dict[str, str], where: str, *, repository: tuple[str, str] | None = None):
    """A CSV row: url/html_url (or repository + number) and title at least; other columns kept in the payload."""
    raw = dumps(row)
    import_hash = digest(raw)
    row, raw, cleaned_up = cleaned(row, raw)
    try:
        url = (row.get("html_url") or row.get("url") or "").strip()
        match = _GITHUB_ISSUE_URL.match(url)
        if match:
            repository, number = (match["owner"], match["name"]), int(match["number"])
        else:
            if row.get("repository"):
                try:
                    repository = github.parse_repository(row["repository"])
                except ValueError as error:
                    raise InvalidIssueObject(str(error)) from None
            if repository is None:
                raise InvalidIssueObject(f"no url/html_url column and no repository column ({REPOSITORY_HINT})")
            number = _positive_int((row.get("number") or "").strip(), "number")
        closed_at = _time(row.get("closed_at"), "closed_at")
        labels = row.get("labels") or ""
        fields = {
            "number": number,
            "title": _title(row.get("title"), number),
            "body": row.get("body") or "",
            "author_login": (row.get("author") or row.get("user") or "").strip(),
            "state": _state(row.get("state"), closed_at),
            "state_reason": _state_reason(row.get("state_reason")),
            "labels": [label.strip() for label in labels.split(";") if label.strip()],
            "created_at": _time(row.get("created_at"), "created_at"),
            "updated_at": _time(row.get("updated_at"), "updated_at"),
            "closed_at": closed_at,
            "html_url": url if url.startswith("https://github.com/") else _html_url(repository, {"number": number}),
            "is_pull_request": "/pull/" in url,
        }
    except InvalidIssueObject as error:
        return Problem(where, str(error))
    return _issue_record(where, repository, fields, raw, import_hash, None, cleaned_up)


# --- shared checks ---


def _issue_record(where, repository, fields, raw, import_hash, comments, cleaned_up) -> IssueRecord | Problem:
    number = fields["number"]
    if not 0 < number < 2**31:  # GitHub's issue numbers are 32-bit, as are ours
        return Problem(where, f"bad number: {number}")
    if not isinstance(fields["title"], str) or not fields["title"].strip():
        return Problem(where, f"issue {number}: missing title")
    if not isinstance(fields["body"], str):
        return Problem(where, f"issue {number}: body is not text")
    if not all(isinstance(label, str) for label in fields["labels"]):
        return Problem(where, f"issue {number}: a label is not text")
    if len(fields["author_login"]) > MAX_LOGIN:
        return Problem(where, f"issue {number}: author login longer than {MAX_LOGIN} characters")
    if not isinstance(fields["html_url"], str) or not WEB_URL.match(fields["html_url"]):
        # Our pages link to it: a javascript: or data: URL would run in them.
        return Problem(where, f"issue {number}: html_url must be an http(s) URL, not {fields['html_url']!r:.100}")
    if len(fields["html_url"]) > MAX_URL:
        return Problem(where, f"issue {number}: html_url longer than {MAX_URL} characters")
    if fields["state"] not in {"open", "closed"}:
        return Problem(where, f"issue {number}: state must be open or closed, not {fields['state']!r}")
    return IssueRecord(
        where=where,
        repository=repository,
        number=number,
        title=fields["title"],
        body=fields["body"],
        author_login=fields["author_login"],
        state=fields["state"],
        state_reason=fields["state_reason"] if fields["state_reason"] in STATE_REASONS else "",
        labels=fields["labels"],
        created_at=fields["created_at"],
        updated_at=fields["updated_at"],
        closed_at=fields["closed_at"],
        html_url=fields["html_url"],
        is_pull_request=fields["is_pull_request"],
        payload_json=raw,
        import_hash=import_hash,
        comments=comments,
        cleaned_up=cleaned_up,
    )


def _comment_record(where, repository, number, fields, raw) -> CommentRecord:
    login = fields["author_login"]
    return CommentRecord(
        where=where,
        repository=repository,
        issue_number=number,
        github_id=fields["github_id"],
        author_login=login if len(login) <= MAX_LOGIN else "",
        body=fields["body"],
        created_at=fields["created_at"],
        payload_json=raw,
    )


def repository_of_issue(obj: dict, fallback: tuple[str, str] | None) -> tuple[str, str]:
    """The repository a REST issue object names, or the one the import was told (--repo)."""
    try:
        return github.repository_of(obj)
    except InvalidIssueObject:
        if fallback:
            return fallback
        raise InvalidIssueObject(
            f"issue {obj.get('number', '?')}: neither repository_url nor html_url tells its repository "
            f"({REPOSITORY_HINT})"
        ) from None


def _repository_from_url(url: str) -> tuple[str, str] | None:
    match = _GITHUB_ISSUE_URL.match(url)
    return (match["owner"], match["name"]) if match else None


def _html_url(repository: tuple[str, str], obj: dict) -> str:
    return f"https://github.com/{repository[0]}/{repository[1]}/issues/{obj.get('number')}"


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidIssueObject(f"missing or bad {name}: {value!r}") from None
    if number <= 0 or isinstance(value, bool):
        raise InvalidIssueObject(f"bad {name}: {value!r}")
    return number


def _title(value: Any, number: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidIssueObject(f"issue {number}: missing title")
    return value


def _state(value: Any, closed_at: datetime | None) -> str:
    if not value:
        return "closed" if closed_at else "open"
    return str(value).strip().lower()


def _state_reason(value: Any) -> str:
    return str(value).strip().lower() if value else ""


def _label_names(labels: Any) -> list[str]:
    if not isinstance(labels, list):
        return []
    return [label["name"] if isinstance(label, dict) else str(label) for label in labels]


def _time(value: Any, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidIssueObject(f"{name} is not a date and time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
