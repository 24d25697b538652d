"""An import run: read every record, select, write, count, report.

The command line, the web upload's background task and the GitHub importer
all go through `ImportService`, which keeps the run's row in `ImportRun`
up to date (progress, counts, problems) as it goes.
"""

import contextlib
import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import connection
from django.utils import timezone

from annotator.csv_writer import write_csv
from issues.importers import destinations, records
from issues.importers.formats import ByteProgress, Record, Skipped, Tally, input_files, parsed, read_file
from issues.importers.github_api import GitHubAPIError
from issues.importers.limits import Limits
from issues.importers.read_ahead import ReadAhead
from issues.importers.records import FORMAT_HINT, REPOSITORY_HINT, CommentRecord, IssueRecord, Problem, UnchangedIssue
from issues.importers.selection import Selection
from issues.importers.unchanged import StoredDigests
from issues.importers.writer import IssueWriter
from issues.models import ImportProblem, ImportRun, Issue, IssueSearch
from issues.rendering import render_study_issues
from issues.search import refresh_search_index

PROGRESS_EVERY = 0.5  # seconds between progress updates
# The count, in a run's results, of issues whose comments GitHub counted but the run did not store.
MISSING_COMMENTS = "issues with comments on GitHub not imported"
IMPORT_LOCK = 0x1550E5  # one import at a time: pg_advisory_lock key


# The importers' hints name the command's options; the Imports page names its own controls instead.
PAGE_HINTS = {
    FORMAT_HINT: "choose its format in the Format option",
    REPOSITORY_HINT: "give the Repository option, owner/name",
    "import without --strict": "import with Strict unticked",
}


def hints_for(source: str, text: str) -> str:
    """A reason or an error as a run of this source shows it: an upload's page never speaks of flags."""
    if source == ImportRun.Source.UPLOAD:
        for command, page in PAGE_HINTS.items():
            text = text.replace(command, page)
    return text


class StrictModeFailure(Exception):
    pass


class TimeLimitExceeded(Exception):
    pass


@dataclass
class ImportOptions:
    format: str | None = None
    repository: tuple[str, str] | None = None  # for dumps that do not say
    selection: Selection = field(default_factory=Selection)
    strict: bool = False
    study: str = ""  # the slug of a study to add the imported issues to (issues/importers/destinations.py)
    share: bool = False  # every study's owners may add the imported issues to their study
    fetch_comments: bool = False  # a run that fetches the comments dumps left out (of the study's issues, if any)

    @classmethod
    def from_dict(cls, options: dict) -> "ImportOptions":
        """The inverse of `as_dict()` (task arguments are JSON). A study that is gone raises LookupError."""
        selection = dict(options.get("selection", {}))
        for name in ("since", "until"):
            if name in selection:
                selection[name] = date.fromisoformat(selection[name])
        for name in ("labels", "any_labels", "exclude_labels"):
            if name in selection:
                selection[name] = tuple(selection[name])
        study = options.get("study", "")
        if study:
            try:
                destinations.studies().check(study)
            except LookupError:
                raise LookupError(f"The study {study!r} no longer exists; nothing was imported.") from None
        repository = options.get("repository")
        return cls(
            format=options.get("format"),
            repository=tuple(repository.split("/", 1)) if repository else None,
            selection=Selection(**selection),
            strict=options.get("strict", False),
            study=study,
            share=options.get("share", False),
            fetch_comments=options.get("fetch_comments", False),
        )

    def as_dict(self) -> dict:
        options = {"selection": self.selection.as_dict()}
        if self.format:
            options["format"] = self.format
        if self.repository:
            options["repository"] = "/".join(self.repository)
        if self.strict:
            options["strict"] = True
        if self.study:
            options["study"] = self.study
        if self.share:
            options["share"] = True
        if self.fetch_comments:
            options["fetch_comments"] = True
        return options


def file_descriptions(paths: list[Path]) -> list[dict]:
    descriptions = []
    for path in input_files(paths):
        with path.open("rb") as file:
            sha256 = hashlib.file_digest(file, "sha256").hexdigest()
        descriptions.append({"name": path.name, "size": path.stat().st_size, "sha256": sha256})
    return descriptions


def github_records(issues: Iterable[dict], repository: str) -> Iterable[Record]:
    """Records of the issue objects the GitHub API returns (comments embedded)."""
    for index, obj in enumerate(issues, 1):
        where = f"{repository}, issue {obj.get('number', index) if isinstance(obj, dict) else index}"
        yield records.rest_issue(obj, where)


def resume_url_for(run: ImportRun, options: ImportOptions) -> str:
    """Where the last interrupted import of the same repository, with the same options, stopped."""
    interrupted = (
        ImportRun.objects.filter(source=ImportRun.Source.GITHUB, files=run.files, options=options.as_dict())
        .exclude(pk=run.pk)
        .exclude(status=ImportRun.Status.DONE)
        .exclude(resume_url="")
        .first()
    )
    return interrupted.resume_url if interrupted else ""


def write_problems_csv(run: ImportRun, file) -> None:
    rows = ([problem.source, problem.location, problem.reason] for problem in run.problems.iterator())
    write_csv(file, ["file", "where", "reason"], rows)


class ImportService:
    """Runs one ImportRun. `on_progress(run)` is called a few times a second (for a progress bar)."""

    def __init__(self, run: ImportRun, options: ImportOptions, on_progress: Callable[[ImportRun], None] | None = None):
        self.run = run
        self.options = options
        self.on_progress = on_progress or (lambda run: None)
        self.counts: Counter = Counter()
        self._problems: list[ImportProblem] = []
        # Compact keys (IssueWriter.key) of the issues met so far: an int each, not the records.
        self._selected: set[int] = set()
        self._unselected: set[int] = set()
        self._sample: set[tuple] | None = None
        self._last_progress = 0.0
        self.limits = Limits.from_settings()
        self._deadline = 0.0
        self._bytes: ByteProgress | None = None
        self._bytes_before = 0
        self._reader: ReadAhead | None = None  # the files' records, read in a thread of their own
        self._writer: IssueWriter | None = None
        # Every issue the run wrote or found unchanged, with the comments GitHub counted (as its record says):
        # which of them miss comments is counted at the end.
        self._issue_ids: dict[int, int | None] = {}

    # --- entry points ---

    def import_files(self, paths: list[Path]) -> ImportRun:
        try:
            files = input_files(paths)
        except FileNotFoundError as error:
            self.run.status, self.run.error, self.run.finished_at = ImportRun.Status.FAILED, str(error), timezone.now()
            self.run.save()
            return self.run
        size = sum(path.stat().st_size for path in files)
        passes = 2 if self.options.strict or self.options.selection.sample else 1
        return self._run(lambda: self._passes(files, size, passes), bytes_total=size * passes)

    def import_records(self, records: Iterable[Record]) -> ImportRun:
        """Records from elsewhere (the GitHub API): one pass, no strict pre-check, no sampling."""
        return self._run(lambda: self._import(records), bytes_total=0)

    def fetch_comments(self, issues: list[Issue], fetch: Callable[[Issue], list[dict]]) -> ImportRun:
        """For issues of `Issue.objects.missing_comments()`, store the comments `fetch(issue)` returns (REST
        comment objects from GitHub) as an import stores comments: merged on their GitHub id, so fetching again
        duplicates none. The progress is counted in issues (bytes_total, bytes_read)."""

        def work() -> None:
            counted = {}
            self._import(self._fetched(issues, fetch, counted))
            for issue in issues:
                # GitHub now holds fewer than it once counted (some were deleted): the issue misses none.
                if issue.pk in counted and counted[issue.pk] < issue.github_comment_count:
                    issue.payload["comments"] = self._issue_ids[issue.pk] = counted[issue.pk]
                    issue.save(update_fields=["payload"])
            self._count_missing_comments()

        return self._run(work, bytes_total=len(issues))

    def _fetched(self, issues: list[Issue], fetch, counted: dict[int, int]) -> Iterable[Record]:
        for issue in issues:
            where = f"{issue.repository.full_name}#{issue.number}"
            try:
                comments = fetch(issue)
            except GitHubAPIError as error:
                if error.status not in {404, 410}:  # the issue alone is gone; anything else stops the run
                    raise
                yield Problem(f"{where}, the issue", str(error))
            else:
                # Its search document lacks these comments: stale, it is indexed again after this run or, should
                # this one stop, after the next.
                IssueSearch.objects.filter(issue_id=issue.pk).update(import_hash="")
                for index, obj in enumerate(comments, 1):
                    yield records.rest_comment(obj, f"{where}, comment {index}")
                counted[issue.pk] = len(comments)
            self._issue_ids[issue.pk] = issue.github_comment_count
            self.run.bytes_read += 1

    # --- the run ---

    def _run(self, work: Callable[[], None], bytes_total: int) -> ImportRun:
        run = self.run
        run.status, run.started_at, run.bytes_total, run.options = (
            ImportRun.Status.RUNNING,
            timezone.now(),
            bytes_total,
            self.options.as_dict(),
        )
        run.save()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
            self._deadline = time.monotonic() + self.limits.seconds
            # Holding the lock, we know no other import is running: one still marked so was killed.
            ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exclude(pk=run.pk).update(
                status=ImportRun.Status.FAILED,
                error="Interrupted: the process stopped before the end.",
                finished_at=timezone.now(),
            )
            try:
                work()
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])
            run.status = ImportRun.Status.DONE
            refresh_search_index.enqueue()  # the new and changed issues become searchable in the background
            render_study_issues.enqueue()  # and those in studies ready to be shown
        except StrictModeFailure as error:
            run.status, run.error = ImportRun.Status.FAILED, hints_for(run.source, str(error))
        except TimeLimitExceeded as error:
            run.status, run.error = ImportRun.Status.FAILED, str(error)
            refresh_search_index.enqueue()  # what was written is searchable and shown like any import's
            render_study_issues.enqueue()
        except Exception as error:
            run.status, run.error = ImportRun.Status.FAILED, f"{type(error).__name__}: {error}"
            raise
        finally:
            run.finished_at = timezone.now()
            self._save_progress(force=True)
        return run

    def _passes(self, files: list[Path], size: int, passes: int) -> None:
        unchanged = self._stored_digests()  # once for both passes
        if passes == 2:
            self._bytes = ByteProgress(size, self.limits)
            with contextlib.closing(self._read(files, unchanged)) as records:
                self._survey(records)
            self._bytes_before = size
        self._bytes = ByteProgress(size, self.limits)
        with contextlib.closing(self._read(files, unchanged)) as records:
            self._import(records)
        if self.options.strict and self.counts["failed"]:
            raise StrictModeFailure(
                f"The database refused {self.counts['failed']} record(s) that passed the check; the others were "
                "written (strict mode could not keep them all out). See the bad records."
            )

    def _stored_digests(self) -> StoredDigests | None:
        """What tells unchanged lines before they are parsed; none with a filter, a limit or a sample, where each
        issue's fields decide whether it is taken."""
        selection = self.options.selection
        if not selection.takes_every_issue:
            return None
        return StoredDigests.load(fallback=self.options.repository, include_prs=selection.include_prs)

    def _read(self, files: list[Path], unchanged: StoredDigests | None) -> ReadAhead:
        options = self.options

        def records(progress: ByteProgress) -> Iterator[Record]:
            for path in files:
                yield from read_file(
                    path, progress, format=options.format, repository=options.repository, unchanged=unchanged
                )

        self._reader = ReadAhead(records(self._bytes), position=lambda progress=self._bytes: progress.read)
        return self._reader

    def _survey(self, records: Iterable[Record]) -> None:
        """A first pass that writes nothing: finds bad records (strict mode) and the sample's candidates."""
        candidates = set()
        bad = 0
        for record in records:
            if isinstance(record, Problem):
                bad += 1
                if self.options.strict:  # otherwise the import pass reports it
                    self._problem(record)
            elif isinstance(record, IssueRecord) and self.options.selection.skip_reason(record) is None:
                candidates.add(record.key)
            self.run.records_read += 1
            self._save_progress()
            self._check_time()
        if self.options.strict and bad:
            self.counts["failed"] = bad
            raise StrictModeFailure(
                f"{bad} bad record{'s' if bad != 1 else ''}: nothing was imported (strict mode). "
                "Fix them, or import without --strict to take the good records."
            )
        self.run.records_read = 0
        sample = self.options.selection.sample
        if sample:
            self._sample = set(
                random.Random(self.options.selection.seed).sample(sorted(candidates), min(sample, len(candidates)))
            )

    def _import(self, records: Iterable[Record]) -> None:
        self._writer = writer = IssueWriter(self.counts, self._problem, self._after_batch)
        try:
            for record in records:
                self.run.records_read += not isinstance(record, Tally)
                if isinstance(record, UnchangedIssue) and record.key in self._selected:
                    record = parsed(record, self.options.repository)
                if isinstance(record, IssueRecord):
                    self._issue(record, writer)
                elif isinstance(record, UnchangedIssue):
                    self._unchanged(record, writer)
                elif isinstance(record, CommentRecord):
                    if writer.key(record.repository, record.issue_number) in self._unselected:
                        self.counts["skipped: comment of an issue left out"] += 1
                    else:
                        writer.add_comment(record)
                elif isinstance(record, Skipped):
                    self.counts[f"skipped: {record.reason}"] += 1
                elif isinstance(record, Tally):
                    self.counts[record.what] += record.count
                else:
                    self._problem(record)
                self._save_progress()
                self._check_time()
        except BaseException:
            # The source failed (GitHub went away, Ctrl-C): keep what was read before.
            with contextlib.suppress(Exception):
                writer.flush()
            raise
        writer.finish()
        if not self.options.fetch_comments:
            self._count_missing_comments()

    def _check_time(self) -> None:
        if time.monotonic() > self._deadline:
            # Raised inside the loop so that the writer keeps every record read so far.
            raise TimeLimitExceeded(
                f"Stopped after {self.limits.seconds:,} seconds, the time limit of one import (IMPORT_MAX_SECONDS); "
                "what was written before it is kept."
            )

    def _count_missing_comments(self) -> None:
        """How many of the run's issues have comments on GitHub that are not stored (their dump held only the
        count): the run says so, and the Imports page offers to fetch them."""
        missing = Issue.objects.count_missing_comments(self._issue_ids)
        if missing:
            self.counts[MISSING_COMMENTS] = missing

    def flush(self) -> None:
        """Write every record read so far (before saving a place to resume from)."""
        if self._writer is not None:
            self._writer.flush()

    def _issue(self, record: IssueRecord, writer: IssueWriter) -> None:
        if record.cleaned_up:
            self.counts["records with NUL or invalid characters cleaned"] += 1
        selection = self.options.selection
        key = writer.key(record.repository, record.number)
        repeat = key in self._selected
        if not repeat:
            reason = selection.skip_reason(record)
            if reason is None and self._sample is not None and record.key not in self._sample:
                reason = "not in the sample"
            if reason is None and selection.limit and len(self._selected) >= selection.limit:
                reason = "over the limit"
            if reason:
                self.counts[f"skipped: {reason}"] += 1
                self._unselected.add(key)
                return
            self._selected.add(key)
        writer.add_issue(record, repeat=repeat)

    def _unchanged(self, record: UnchangedIssue, writer: IssueWriter) -> None:
        """As `_issue()` and the writer count an issue met for the first time and found unchanged in the
        database, without its record."""
        self._selected.add(record.key)
        self.counts["unchanged"] += 1
        writer.add_unchanged(record.issue_id, record.github_comment_count)

    def _after_batch(self, issues: dict[int, int | None]) -> None:
        """Share the batch's issues, and add them to a study, as the options say."""
        self._issue_ids.update(issues)
        issue_ids = list(issues)
        if self.options.share and issue_ids:
            Issue.objects.filter(pk__in=issue_ids, shared=False).update(shared=True)
        if self.options.study and issue_ids:
            destinations.studies().add(self.options.study, issue_ids)

    # --- reporting ---

    def _problem(self, problem: Problem) -> None:
        self.counts["failed"] += 1
        source, _, location = problem.where.rpartition(", ")
        if not source:
            source, location = location, ""
        self._problems.append(
            ImportProblem(
                run=self.run,
                source=source[:500],
                location=location[:100],
                reason=hints_for(self.run.source, problem.reason),
            )
        )
        if len(self._problems) >= 500:
            self._save_problems()

    def _save_problems(self) -> None:
        ImportProblem.objects.bulk_create(self._problems)
        self._problems = []

    def _save_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY:
            return
        self._last_progress = now
        self._save_problems()
        run = self.run
        if self._reader is not None:
            run.bytes_read = self._bytes_before + self._reader.position
        if force and run.status == ImportRun.Status.DONE:
            run.bytes_read = run.bytes_total
        run.counts = dict(sorted(self.counts.items()))
        run.save(
            update_fields=[
                "status",
                "started_at",
                "finished_at",
                "bytes_read",
                "bytes_total",
                "records_read",
                "counts",
                "error",
            ]
        )
        self.on_progress(run)
