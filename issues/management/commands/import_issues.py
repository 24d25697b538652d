import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from issues.github import parse_repository
from issues.importers import destinations, github_api
from issues.importers.formats import FORMATS
from issues.importers.github_api import GitHubAPIError, GitHubClient
from issues.importers.missing_comments import fetch_missing_comments
from issues.importers.run import (
    MISSING_COMMENTS,
    ImportOptions,
    ImportService,
    file_descriptions,
    github_records,
    resume_url_for,
    write_problems_csv,
)
from issues.importers.selection import STATES, Selection
from issues.models import ImportRun

PLAIN_PROGRESS_EVERY = 5.0  # seconds between progress lines when not on a terminal


class Command(BaseCommand):
    help = (
        "Import GitHub issue reports from dump files (JSON, JSON Lines, CSV, GitHub CLI, GH Archive; "
        "directories, .zip and .gz too) or live from the GitHub API (--github owner/repo)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="dump files or directories")
        parser.add_argument("--format", choices=sorted(FORMATS), help="the format, when detection gets it wrong")
        parser.add_argument("--repo", metavar="OWNER/NAME", help="the repository, for dumps that do not say")
        parser.add_argument("--strict", action="store_true", help="any bad record fails the run; nothing is written")
        parser.add_argument("--study", metavar="SLUG", help="also add the imported issues to this study")
        parser.add_argument(
            "--share", action="store_true", help="every study's owners may add the imported issues to their study"
        )
        parser.add_argument("--errors", type=Path, metavar="FILE.csv", help="write every bad record to this CSV")
        selection = parser.add_argument_group("selection")
        selection.add_argument("--label", action="append", default=[], help="must have this label (repeatable)")
        selection.add_argument("--any-label", action="append", default=[], help="must have one of these labels")
        selection.add_argument("--exclude-label", action="append", default=[], help="must not have this label")
        selection.add_argument("--state", choices=STATES, default="all")
        selection.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="created on or after")
        selection.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="created on or before")
        selection.add_argument("--limit", type=int, metavar="N", help="only the first N selected issues")
        selection.add_argument("--sample", type=int, metavar="N", help="N selected issues drawn at random")
        selection.add_argument("--seed", type=int, default=0, help="random seed of --sample (default 0)")
        selection.add_argument("--include-prs", action="store_true", help="import pull requests too")
        live = parser.add_argument_group("live from GitHub")
        live.add_argument("--github", metavar="OWNER/REPO", help="page through this repository's issues on GitHub")
        live.add_argument("--token-env", default="GITHUB_TOKEN", metavar="VAR", help="variable holding the token")
        live.add_argument("--api-url", default="https://api.github.com", help="API root (GitHub Enterprise)")
        live.add_argument("--no-comments", action="store_true", help="do not fetch comments")
        live.add_argument(
            "--fetch-comments",
            action="store_true",
            help="fetch the comments that dumps counted but did not hold (of the --study's issues, if given)",
        )

    def handle(self, *args, paths, github, fetch_comments, **options):
        if bool(paths) + bool(github) + fetch_comments != 1:
            raise CommandError("Give either dump files (PATH …), --github OWNER/REPO or --fetch-comments.")
        import_options = self._import_options(options)
        bar = ProgressBar(self.stderr._out, unit="B" if paths else "issues")
        if fetch_comments:
            run = self._fetch_comments(import_options.study, options, bar)
        elif paths:
            missing = [str(path) for path in paths if not path.exists()]
            if missing:
                raise CommandError(f"No such file or directory: {', '.join(missing)}")
            # The files' digests are read on the other core while the import reads them (hashing releases the GIL).
            with ThreadPoolExecutor(1) as pool:
                described = pool.submit(file_descriptions, paths)
                run = ImportRun.objects.create(source=ImportRun.Source.COMMAND)
                try:
                    ImportService(run, import_options, on_progress=bar.update).import_files(paths)
                finally:
                    run.files = described.result()
                    run.save(update_fields=["files"])
        else:
            run = self._import_from_github(github, import_options, options, bar)
        bar.close()
        self._report(run, options["errors"])

    def _import_options(self, options) -> ImportOptions:
        try:
            selection = Selection(
                labels=tuple(options["label"]),
                any_labels=tuple(options["any_label"]),
                exclude_labels=tuple(options["exclude_label"]),
                state=options["state"],
                since=options["since"],
                until=options["until"],
                include_prs=options["include_prs"],
                limit=options["limit"],
                sample=options["sample"],
                seed=options["seed"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["study"]:
            try:
                destinations.studies().check(options["study"])
            except LookupError as error:
                raise CommandError(str(error)) from None
        return ImportOptions(
            format=options["format"],
            repository=_owner_name(options["repo"]) if options["repo"] else None,
            selection=selection,
            strict=options["strict"],
            study=options["study"] or "",
            share=options["share"],
        )

    def _import_from_github(self, github: str, import_options: ImportOptions, options, bar) -> ImportRun:
        owner, repo = _owner_name(github)
        if import_options.strict or import_options.selection.sample:
            raise CommandError("--strict and --sample read a dump twice; download the issues first for those.")
        token = os.environ.get(options["token_env"]) or None
        run = ImportRun.objects.create(source=ImportRun.Source.GITHUB, files=[{"name": f"{owner}/{repo}"}])
        start_url = resume_url_for(run, import_options)
        if start_url:
            self.stdout.write(f"Resuming the interrupted import of {owner}/{repo} from {start_url}")
        # The countdown does the waiting itself.
        service = ImportService(run, import_options, on_progress=bar.update)

        def save_place(next_url: str | None) -> None:
            service.flush()  # the page's issues are stored before we say we are past it
            ImportRun.objects.filter(pk=run.pk).update(resume_url=next_url or "")

        client = GitHubClient(base_url=options["api_url"], token=token, on_wait=self._countdown, sleep=lambda _: None)
        selection = import_options.selection
        issues = github_api.fetch_issues(
            client,
            owner,
            repo,
            state=selection.state,
            labels=selection.labels,
            since=selection.since.isoformat() if selection.since else None,
            start_url=start_url,
            with_comments=not options["no_comments"],
            on_page=save_place,
        )
        try:
            with client:
                return service.import_records(github_records(issues, f"{owner}/{repo}"))
        except GitHubAPIError as error:
            raise CommandError(f"{error}\nRun the same command again to resume where it stopped.") from None

    def _fetch_comments(self, study: str, options, bar) -> ImportRun:
        run = ImportRun.objects.create(source=ImportRun.Source.GITHUB, files=[{"name": "comments missing from dumps"}])
        token = os.environ.get(options["token_env"]) or None
        client = GitHubClient(base_url=options["api_url"], token=token, on_wait=self._countdown, sleep=lambda _: None)
        try:
            return fetch_missing_comments(run, client, study=study, on_progress=bar.update)
        except GitHubAPIError as error:
            raise CommandError(f"{error}\nRun the same command again to fetch the rest.") from None

    def _countdown(self, seconds: float, reason: str) -> None:
        github_api.wait_with_countdown(seconds, reason, stream=self.stderr._out)

    def _report(self, run: ImportRun, errors_csv: Path | None) -> None:
        counts, rows = run.counts, run.result_rows()
        width = max(len(name) for name, _ in rows)
        self.stdout.write(f"\nImport {run.pk}: {run.records_read:,} records read in {_seconds(run)}")
        for name, value in rows:
            self.stdout.write(f"  {name:<{width}}  {value:>10,}")
        problems = list(run.problems.all()[:20])
        if problems:
            self.stdout.write("\nBad records:")
            for problem in problems:
                self.stdout.write(f"  {problem}")
            if counts.get("failed", 0) > len(problems):
                self.stdout.write(f"  … and {counts['failed'] - len(problems):,} more (--errors FILE.csv lists all)")
        if counts.get(MISSING_COMMENTS):
            self.stdout.write(
                f"\n{counts[MISSING_COMMENTS]:,} issues have comments on GitHub that were not imported; "
                "`import_issues --fetch-comments` fetches them."
            )
        if errors_csv:
            with errors_csv.open("w", newline="", encoding="utf-8") as file:
                write_problems_csv(run, file)
            self.stdout.write(f"Every bad record: {errors_csv}")
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(run.error)
        if counts.get("failed"):
            raise CommandError(f"{counts['failed']:,} records could not be imported; the others were.")


class ProgressBar:
    """tqdm on a terminal (bytes, records/s, ETA); a plain line every few seconds otherwise."""

    def __init__(self, stream, unit: str):
        self.stream = stream
        self.interactive = stream.isatty()
        self.unit = unit
        self.bar = None
        self._last_line = 0.0

    def update(self, run: ImportRun) -> None:
        if self.interactive:
            if self.bar is None:
                total = run.bytes_total or None
                divisor = 1024 if self.unit == "B" else 1000
                self.bar = tqdm(total=total, unit=self.unit, unit_scale=True, unit_divisor=divisor, file=self.stream)
            self.bar.total = run.bytes_total or None
            self.bar.update((run.bytes_read if run.bytes_total else run.records_read) - self.bar.n)
            self.bar.set_postfix_str(f"{run.records_read:,} records, {_rate(run)} records/s", refresh=False)
            self.bar.refresh()
        elif time.monotonic() - self._last_line >= PLAIN_PROGRESS_EVERY or run.is_finished:
            self._last_line = time.monotonic()
            total = f"{run.bytes_total / 1e6:,.0f} MB" if self.unit == "B" else f"{run.bytes_total:,} {self.unit}"
            done = f"{run.percent_done}% of {total}, " if run.bytes_total else ""
            print(f"import {run.pk}: {done}{run.records_read:,} records ({_rate(run)}/s)", file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _rate(run: ImportRun) -> str:
    elapsed = (timezone.now() - run.started_at).total_seconds() if run.started_at else 0
    return f"{run.records_read / elapsed:,.0f}" if elapsed > 0 else "–"


def _seconds(run: ImportRun) -> str:
    if run.started_at and run.finished_at:
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"
    return "–"


def _owner_name(text: str) -> tuple[str, str]:
    try:
        return parse_repository(text)
    except ValueError as error:
        raise CommandError(str(error)) from None
