"""Read dump files of every supported format, streaming, into records.

A path may be a file, a directory (read recursively, in name order), a `.zip`
of files, or a `.gz` of one file. The layout inside a file is detected from
its first bytes (`format` overrides):

- JSON: one issue object, an array of them, pages printed back to back
  (`[…][…]`, `gh api --paginate`) or nested (`[[…],[…]]`, `--slurp`);
- JSON Lines: one object per line (also GH Archive's hourly files);
- CSV with a header row.

Each object's kind is recognised by its keys: a REST issue (also with
python-github-backup's `comment_data`), a REST comment (`issue_url`), a GitHub
CLI / GraphQL issue (camelCase), a GH Archive event (`type` + `payload`).

Nothing here is held whole in memory: JSON is parsed with ijson, JSON Lines
and CSV row by row, and no record is read past the limits of limits.py.
"""

import csv
import functools
import gzip
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson
import msgspec

from issues.importers import records
from issues.importers.limits import BoundedLines, DecompressedBudget, JSONGuard, LimitExceeded, Limits, too_deep
from issues.importers.records import FORMAT_HINT, CommentRecord, IssueRecord, Problem, UnchangedIssue

FORMATS = {
    "rest": "GitHub REST API issue objects (JSON or JSON Lines)",
    "jsonl": "JSON Lines of issue objects",
    "comments": "GitHub REST API issue-comment objects (JSON or JSON Lines)",
    "gh": "GitHub CLI / GraphQL JSON (gh issue list --json …)",
    "gharchive": "GH Archive hourly files (IssuesEvent, IssueCommentEvent)",
    "csv": "CSV with a header row",
}
ISSUE_EVENTS = {"IssuesEvent", "IssueCommentEvent"}
PEEK = 64 * 1024
BLANK_LINES = "blank lines skipped"
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}


@dataclass(slots=True)
class Skipped:
    """A record that is not an issue or comment at all (e.g. a GH Archive PushEvent)."""

    where: str
    reason: str


@dataclass(slots=True)
class Tally:
    """Something to count in the run's results that is not a record of its own."""

    where: str
    what: str
    count: int


Record = IssueRecord | UnchangedIssue | CommentRecord | Problem | Skipped | Tally


class ByteProgress:
    """How many bytes of the input files have been read, for progress bars, and how many decompressed."""

    def __init__(self, total: int, limits: Limits | None = None):
        self.total = total
        self.limits = limits or Limits.from_settings()
        self.decompressed = DecompressedBudget(self.limits)
        self._done = 0
        self._current: IO[bytes] | None = None

    @property
    def read(self) -> int:
        current = 0
        if self._current is not None and not self._current.closed:
            current = self._current.tell()
        return min(self.total, self._done + current)

    def open(self, path: Path) -> IO[bytes]:
        # A peek returns no more than the buffer holds (4 KB by default): the layout is told from PEEK bytes.
        self._current = path.open("rb", buffering=PEEK)
        return self._current

    def close(self, path: Path) -> None:
        if self._current is not None:
            self._current.close()
        self._current = None
        self._done += path.stat().st_size


def input_files(paths: list[Path]) -> list[Path]:
    """Every file named, directories expanded (in name order, hidden files left out)."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                child
                for child in path.rglob("*")
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts)
            )
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def read_file(
    path: Path,
    progress: ByteProgress,
    *,
    format: str | None = None,
    repository: tuple[str, str] | None = None,
    unchanged: Callable[[bytes], Record | None] | None = None,
) -> Iterator[Record]:
    """Every record of one file (a zip's members one after the other). `unchanged(line)` may tell a line of JSON
    Lines unchanged since it was imported (issues/importers/unchanged.py): it is then not parsed."""
    raw = progress.open(path)
    try:
        if zipfile.is_zipfile(raw):
            raw.seek(0)
            with zipfile.ZipFile(raw) as archive:
                for member in sorted(archive.infolist(), key=lambda info: info.filename):
                    if member.is_dir() or Path(member.filename).name.startswith("."):
                        continue
                    with archive.open(member) as stream:
                        name = f"{path.name}:{member.filename}"
                        counted = progress.decompressed.reader(stream, member.compress_size)
                        yield from _read_stream(counted, name, progress, format, repository, unchanged)
        else:
            raw.seek(0)
            yield from _read_stream(raw, path.name, progress, format, repository, unchanged)
    finally:
        progress.close(path)


def _read_stream(
    stream: IO[bytes], name: str, progress: ByteProgress, format, repository, unchanged
) -> Iterator[Record]:
    try:
        stream = _decompressed(stream, progress.decompressed)
        head = _peek(stream)
        layout = _layout(name, head, format)
        if layout is None:
            yield Problem(f"{name}, the whole file", _unknown_layout(head))
            return
        kind = {"comments": "comment", "gh": "gh", "gharchive": "event"}.get(format)
        if layout == "jsonl":
            # Only a line read as a REST issue has the digest of its text for import_hash.
            read = functools.partial(_read_json_lines, unchanged=None if kind else unchanged)
        else:
            read = {"json": _read_json, "csv": _read_csv}[layout]
        for record in read(stream, progress.limits, kind=kind, repository=repository):
            record.where = f"{name}, {record.where}"
            if isinstance(record, IssueRecord):
                for comment in getattr(record, "comments", None) or ():
                    comment.where = record.where
            yield record
    except LimitExceeded as error:
        yield Problem(f"{name}, at the limit", str(error))
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        # A truncated .gz or zip member: what came before it is kept.
        yield Problem(f"{name}, at the end", f"the file is damaged or truncated: {error}")


def _decompressed(stream: IO[bytes], budget: DecompressedBudget) -> IO[bytes]:
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        compressed_size = _size(buffered)
        return budget.reader(gzip.GzipFile(fileobj=buffered, mode="rb"), compressed_size)
    return buffered


def _size(stream: IO[bytes]) -> int | None:
    """The bytes of a file from here to its end; None in a zip (whose member's own ratio was checked)."""
    if not stream.seekable():
        return None
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


def _peek(stream: IO[bytes]) -> bytes:
    return stream.peek(PEEK)[:PEEK]


def _layout(name: str, head: bytes, format: str | None) -> str | None:
    if format == "csv":
        return "csv"
    if format in {"jsonl", "gharchive"}:
        return "jsonl"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"[":
        return "json"
    if start == b"{":
        first_line, newline, _ = head.lstrip(b"\xef\xbb\xbf \t\r\n").partition(b"\n")
        if not newline and len(head) == PEEK:
            return "jsonl"  # an object on one line longer than the peek: compact, one a line
        try:
            json.loads(first_line)
        except ValueError:
            return "json"  # a pretty-printed object spans many lines
        return "jsonl"
    suffix = Path(name.lower().removesuffix(".gz")).suffix
    if format is None and suffix not in JSON_SUFFIXES and (suffix == ".csv" or start.isalpha() or start == b'"'):
        return "csv"
    return None


def _unknown_layout(head: bytes) -> str:
    if not head.strip():
        return "the file is empty"
    return f"not a JSON dump of objects or arrays, nor a CSV file with a header ({FORMAT_HINT})"


# --- JSON: objects, arrays, pages back to back, nested pages ---

# Escapes, read left to right so that an escaped backslash is never taken for the start of one:
# a surrogate pair (kept), a lone surrogate (which ijson's C parser turns into bytes that are not
# UTF-8, giving up on the rest of the file: replaced by \\ufffd), or any other escape (kept).
_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})|\\.",
    re.DOTALL,
)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# Where a window must not end: inside an escape, after a high surrogate, after a backslash.
_UNSAFE_END = re.compile(rb"(?:\\u[0-9a-fA-F]{0,3}|\\u[dD][89abAB][0-9a-fA-F]{2}|\\)$")


class SurrogateEscapeFilter(io.RawIOBase):
    """Reads JSON bytes with every lone surrogate escape replaced by \\ufffd (the replacement character)."""

    window = 256 * 1024

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.pending = b""
        self.ready = b""
        self.replaced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.ready:
            chunk = self.stream.read(self.window)
            data = self.pending + chunk
            if not chunk:
                self.ready, self.pending = self._replace(data), b""
                break
            # Keep back enough to see a whole pair, and cut where what is kept back needs
            # nothing before it to be read right.
            cut = max(0, len(data) - 12)
            while cut > 0 and (unsafe := _UNSAFE_END.search(data, 0, cut)):
                cut = unsafe.start()
            self.ready, self.pending = self._replace(data[:cut]), data[cut:]
        size = min(len(buffer), len(self.ready))
        buffer[:size] = self.ready[:size]
        self.ready = self.ready[size:]
        return size

    def _replace(self, data: bytes) -> bytes:
        if not _SURROGATE.search(data):  # the usual case, at C speed
            return data
        return _ESCAPE.sub(self._replacement, data)

    def _replacement(self, match: re.Match) -> bytes:
        if match[1]:
            self.replaced += 1
            return b"\\ufffd"
        return match[0]


def _read_json(stream: IO[bytes], limits: Limits, *, kind, repository) -> Iterator[Record]:
    if stream.peek(3)[:3] == b"\xef\xbb\xbf":
        stream.read(3)
    head = stream.peek(PEEK).lstrip(b" \t\r\n")
    prefix = "item"
    if head[:1] == b"[" and head[1:].lstrip(b" \t\r\n")[:1] == b"[":
        prefix = "item.item"  # gh api --paginate --slurp: [[…],[…]]
    elif head[:1] == b"{":
        prefix = ""  # one object, or several back to back
    index = replaced = 0
    # ijson keeps a path per level, so its memory grows with the square of the depth: the guard stops first.
    guard = JSONGuard(stream, limits, item_level=len(prefix.split(".")) if prefix else 0)
    guarded = io.BufferedReader(guard, buffer_size=256 * 1024)  # one for the whole file: it closes the guard
    while True:
        escapes = SurrogateEscapeFilter(guarded)
        filtered = io.BufferedReader(escapes, buffer_size=256 * 1024)
        try:
            for obj in ijson.items(filtered, prefix, multiple_values=True, use_float=True):
                index += 1
                yield from _records_of(obj, f"item {index}", None, kind, repository)
            break
        except ijson.JSONError as error:
            if not guard.refused:
                where = f"after item {index}" if index else "at the start"
                yield Problem(where, f"not valid JSON ({_short(error)}); the rest of the file could not be read")
                break
            index += 1
            yield Problem(f"item {index}", guard.refused)
            if not guard.skip_refused():
                break
        except UnicodeDecodeError as error:
            yield Problem(
                f"after item {index}", f"invalid UTF-8 ({error.reason}); the rest of the file could not be read"
            )
            break
        finally:
            replaced += escapes.replaced
    if replaced:
        yield Tally("the whole file", "lone surrogate escapes replaced", replaced)


# --- JSON Lines ---


def _read_json_lines(stream: IO[bytes], limits: Limits, *, kind, repository, unchanged=None) -> Iterator[Record]:
    lines = BoundedLines(stream, limits.record_bytes)
    for number, raw in lines:
        where = f"line {number}"
        if raw is None:
            yield Problem(where, limits.too_large())
            continue
        line, cleaned_up = records.Cleaner.bytes(raw)
        if not line.strip():
            continue
        if too_deep(line, limits.depth):
            yield Problem(where, limits.too_deep())
            continue
        if unchanged is not None and not cleaned_up and (record := unchanged(line)) is not None:
            record.where = where
            yield record
            continue
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError as error:
            yield Problem(where, f"invalid UTF-8 at byte {error.start + 1} of the line")
            continue
        try:
            obj = _loads(text)
        except ValueError as error:
            reason = "truncated JSON" if not line.endswith(b"\n") else f"not valid JSON ({error})"
            yield Problem(where, reason)
            continue
        if isinstance(obj, list):  # a page of objects on one line
            for index, item in enumerate(obj, 1):
                yield from _records_of(item, f"{where}, item {index}", None, kind, repository)
        else:
            for record in _records_of(obj, where, text, kind, repository):
                if cleaned_up and isinstance(record, IssueRecord):
                    record.cleaned_up = True
                yield record
    if lines.blank:
        yield Tally("the whole file", BLANK_LINES, lines.blank)


_DECODE = msgspec.json.Decoder().decode


def _loads(text: str) -> Any:
    """`json.loads()` at twice its speed: msgspec decodes every ordinary record; what it refuses (NaN, a lone
    surrogate, a number past a float's range, bad JSON) json.loads decodes or explains, as before."""
    try:
        return _DECODE(text)
    except msgspec.DecodeError:
        return json.loads(text)


# --- one decoded object, whatever its kind ---


def parsed(line: UnchangedIssue, repository: tuple[str, str] | None) -> Record:
    """The record of a line found unchanged, parsed after all: the run met its issue before, and which of the two
    is kept depends on what both say."""
    text = line.line.decode()
    (record,) = _records_of(_loads(text), line.where, text, None, repository)
    return record


def _records_of(obj: Any, where: str, raw: str | None, kind: str | None, repository) -> Iterator[Record]:
    kind = kind or kind_of(obj)
    if kind == "comment":
        yield records.rest_comment(obj, where, repository=repository)
    elif kind == "gh":
        yield records.cli_issue(obj, where, repository=repository)
    elif kind == "event":
        yield from _event_records(obj, where)
    else:
        yield records.rest_issue(obj, where, raw=raw, repository=repository)


def kind_of(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "issue"  # and the issue reader says what is wrong with it
    if "type" in obj and "payload" in obj:
        return "event"
    if "issue_url" in obj and "number" not in obj:
        return "comment"
    if "number" in obj and "html_url" not in obj and "repository_url" not in obj and "createdAt" in obj:
        return "gh"
    return "issue"


def _event_records(event: Any, where: str) -> Iterator[Record]:
    if not isinstance(event, dict) or event.get("type") not in ISSUE_EVENTS:
        yield Skipped(where, "not an issue event")
        return
    payload = event.get("payload") or {}
    repository = None
    owner, _, name = ((event.get("repo") or {}).get("name") or "").partition("/")
    if owner and name:
        repository = (owner, name)
    if "issue" not in payload:
        yield Problem(where, f"{event['type']} without an issue in its payload")
        return
    yield records.rest_issue(payload["issue"], where, repository=repository)
    if event["type"] == "IssueCommentEvent" and isinstance(payload.get("comment"), dict):
        comment = dict(payload["comment"])
        comment.setdefault("issue_url", (payload["issue"] or {}).get("url"))
        yield records.rest_comment(comment, where, repository=repository)


# --- CSV ---


def _read_csv(stream: IO[bytes], limits: Limits, *, kind, repository) -> Iterator[Record]:
    # Bodies of a megabyte and more are normal (the csv module's default limit is 128 KB); a record's limit holds.
    csv.field_size_limit(limits.record_bytes)
    too_long: list[int] = []
    text = _csv_lines(BoundedLines(stream, limits.record_bytes, skip_blank=False), too_long)
    for record in _csv_rows(text, repository):
        yield from (Problem(f"line {number}", limits.too_large()) for number in too_long)
        too_long.clear()
        yield record
    yield from (Problem(f"line {number}", limits.too_large()) for number in too_long)


def _csv_lines(lines: BoundedLines, too_long: list[int]) -> Iterator[str]:
    """The decoded lines; one over the limit is read as an empty line, and its number noted."""
    for number, line in lines:
        if line is None:
            too_long.append(number)
            yield "\n"
        else:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8", "surrogateescape")


def _csv_rows(text: Iterator[str], repository) -> Iterator[Record]:
    header_line = next(text, "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    columns = [column.strip().lower() for column in header]
    has_key = (
        {"url", "html_url"} & set(columns)
        or {"repository", "number"} <= set(columns)
        or ("number" in columns and repository)
    )
    if not has_key or "title" not in columns:
        yield Problem("line 1", f"the header needs url (or repository and number) and title columns; it has {header}")
        return
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 2
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Problem(f"line {start}", f"malformed CSV ({error}); the rest of the file could not be read")
            return
        where = f"line {start}"
        if not any(cell.strip() for cell in row):
            continue
        if any(_has_surrogates(cell) for cell in row):
            yield Problem(where, "invalid UTF-8")
            continue
        if len(row) != len(columns):
            yield Problem(where, f"{len(row)} fields where the header has {len(columns)}")
            continue
        yield records.csv_issue(dict(zip(columns, row, strict=True)), where, repository=repository)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200]
