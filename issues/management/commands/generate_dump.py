"""`manage.py generate_dump N -o FILE.jsonl`: synthetic GitHub issues as JSON Lines, for import benchmarks."""

import gzip
import json
import os
import re
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from issues.synthetic import DEFAULT_REPO, synthetic_issues

# Without a terminal (CI, logs), a plain progress line at most this often.
PLAIN_PROGRESS_EVERY = 5.0


class Command(BaseCommand):
    help = (
        "Write N synthetic GitHub REST API issue objects of a fictional deep-learning framework, one per line "
        "(JSON Lines; gzip-compressed if the file name ends in .gz). Deterministic for a seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="number of issues")
        parser.add_argument("-o", "--output", required=True, type=Path, help="FILE.jsonl or FILE.jsonl.gz")
        parser.add_argument(
            "--comments",
            type=float,
            default=0.0,
            metavar="K",
            help="average comments per issue, embedded as comment_data (default 0: no comment_data)",
        )
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--repo", default=DEFAULT_REPO, help=f"owner/name (default {DEFAULT_REPO})")

    def handle(self, *args: Any, count: int, output: Path, comments: float, seed: int, repo: str, **options: Any):
        if count < 0:
            raise CommandError("N must not be negative.")
        if comments < 0:
            raise CommandError("--comments must not be negative.")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            raise CommandError(f"--repo must look like owner/name, not {repo!r}.")

        # Written beside the target and renamed at the end: an interrupted run leaves no truncated dump.
        partial = output.with_name(output.name + ".part")
        started = time.monotonic()
        try:
            with ExitStack() as stack:
                raw = stack.enter_context(open(partial, "wb"))
                sink: BinaryIO = raw
                if output.name.endswith(".gz"):
                    # mtime=0 and no file name in the header: the same seed gives the same bytes.
                    sink = stack.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0))
                written, comment_count = self._write(sink, count, repo, comments, seed, started)
            os.replace(partial, output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {output}: {error}") from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

        seconds = time.monotonic() - started
        size = output.stat().st_size
        compressed = f" ({size:,} bytes gzip)" if size != written else ""
        self.stdout.write(
            f"Wrote {count:,} issues and {comment_count:,} comments to {output}: "
            f"{written:,} bytes of JSON{compressed} in {seconds:.1f} s."
        )

    def _write(
        self, sink: BinaryIO, count: int, repo: str, comments: float, seed: int, started: float
    ) -> tuple[int, int]:
        """Stream the issues into `sink`; (bytes of JSON written, comments written)."""
        # tqdm draws with carriage returns, which Django's OutputWrapper would end with newlines.
        stream: TextIO = getattr(self.stderr, "_out", self.stderr)
        interactive = stream.isatty()
        written = comment_count = 0
        next_report = started + PLAIN_PROGRESS_EVERY
        with tqdm(total=count, unit=" issues", file=stream, disable=not interactive, dynamic_ncols=True) as bar:
            for done, issue in enumerate(synthetic_issues(count, repo=repo, comments=comments, seed=seed), start=1):
                line = json.dumps(issue, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                sink.write(line)
                written += len(line)
                comment_count += len(issue.get("comment_data", ()))
                bar.update()
                if interactive:
                    if done % 1_000 == 0:
                        bar.set_postfix_str(f"{written / 1e6:,.0f} MB", refresh=False)
                elif time.monotonic() >= next_report:
                    next_report = time.monotonic() + PLAIN_PROGRESS_EVERY
                    self._report(stream, done, count, written, started)
        return written, comment_count

    def _report(self, stream: TextIO, done: int, count: int, written: int, started: float) -> None:
        elapsed = time.monotonic() - started
        rate = done / elapsed
        eta = (count - done) / rate if rate else 0
        stream.write(
            f"{done:,}/{count:,} issues ({100 * done / count:.0f}%), {written / 1e6:,.0f} MB, "
            f"{rate:,.0f} issues/s, {elapsed:.0f} s elapsed, about {eta:.0f} s left\n"
        )
        stream.flush()
