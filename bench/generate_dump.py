"""`python -m bench.generate_dump N -o FILE.jsonl`: synthetic GitHub issues as JSON Lines, for import benchmarks.

Writes N synthetic GitHub REST API issue objects of a fictional deep-learning framework, one per line
(gzip-compressed if the file name ends in .gz), deterministic for a seed. No Django: it runs anywhere the
repository is, without a database.
"""

import argparse
import gzip
import json
import os
import re
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, TextIO

from tqdm import tqdm

from bench.synthetic import DEFAULT_REPO, synthetic_issues

# Without a terminal (CI, logs), a plain progress line at most this often.
PLAIN_PROGRESS_EVERY = 5.0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.generate_dump", description=__doc__.split("\n\n")[1])
    parser.add_argument("count", type=int, metavar="N", help="number of issues")
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
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("N must not be negative.")
    if args.comments < 0:
        parser.error("--comments must not be negative.")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo):
        parser.error(f"--repo must look like owner/name, not {args.repo!r}.")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    output: Path = args.output
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
            written, comment_count = write(sink, args.count, args.repo, args.comments, args.seed, started)
        os.replace(partial, output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        sys.exit(f"Cannot write {output}: {error}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

    seconds = time.monotonic() - started
    size = output.stat().st_size
    compressed = f" ({size:,} bytes gzip)" if size != written else ""
    print(
        f"Wrote {args.count:,} issues and {comment_count:,} comments to {output}: "
        f"{written:,} bytes of JSON{compressed} in {seconds:.1f} s."
    )


def write(sink: BinaryIO, count: int, repo: str, comments: float, seed: int, started: float) -> tuple[int, int]:
    """Stream the issues into `sink`; (bytes of JSON written, comments written)."""
    stream: TextIO = sys.stderr
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
                report(stream, done, count, written, started)
    return written, comment_count


def report(stream: TextIO, done: int, count: int, written: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed
    eta = (count - done) / rate if rate else 0
    stream.write(
        f"{done:,}/{count:,} issues ({100 * done / count:.0f}%), {written / 1e6:,.0f} MB, "
        f"{rate:,.0f} issues/s, {elapsed:.0f} s elapsed, about {eta:.0f} s left\n"
    )
    stream.flush()


if __name__ == "__main__":
    main()
