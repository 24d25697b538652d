"""Dumps built to exhaust the worker (issue 14): each is refused by name, the good records still get in, and the
import's memory stays under its usual ceiling (the benchmark's 300 MB), measured on a real `import_issues`."""

import gzip
import json
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from issues.models import ImportRun, Issue
from tests.helpers import environment, import_paths, manage, problems, rest_issue, write_jsonl

CEILING = 300 * 1024**2


def line(number: int) -> bytes:
    return json.dumps(rest_issue(number)).encode() + b"\n"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def gzip_of_repeated(prefix: bytes, block: bytes, times: int, suffix: bytes) -> bytes:
    """A gzip whose middle is `block` `times` over: gzip members back to back, each compressed once."""
    member = gzip.compress(block, 9)
    return gzip.compress(prefix) + member * times + gzip.compress(suffix)


def huge_line_in_gzip_json(tmp_path: Path) -> Path:
    """One object on one line of 1 GB, in 1 MB of .gz."""
    path = tmp_path / "huge.json.gz"
    issue = json.dumps(rest_issue(2)).encode()
    path.write_bytes(gzip_of_repeated(issue[:-1] + b', "padding": "', b"a" * 1024**2, 1024, b'"}\n'))
    return path


def huge_line_in_gzip_jsonl(tmp_path: Path) -> Path:
    """A good line, then a line of 1 GB, in 1 MB of .gz."""
    path = tmp_path / "huge.jsonl.gz"
    path.write_bytes(gzip_of_repeated(line(2) + b'{"title": "', b"a" * 1024**2, 1024, b'"}\n'))
    return path


def deep_json(tmp_path: Path) -> Path:
    """The 196 KB .json of the issue: an issue nested 100,000 levels deep, between good ones."""
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" + line(2) + b"," + deep(100_000) + b"," + line(3) + b"]")
    return path


def deep_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(line(2) + deep(100_000) + b"\n" + line(3))
    return path


def deep_as_a_record_is_large(tmp_path: Path) -> Path:
    """A line of 19 MB of brackets: just under the size of a record, as deep as it can be."""
    path = tmp_path / "deeper.jsonl"
    path.write_bytes(line(2) + deep(9_500_000) + b"\n" + line(3))
    return path


def newlines(tmp_path: Path) -> Path:
    path = tmp_path / "newlines.jsonl"
    with path.open("wb") as file:
        file.write(line(2))
        for _ in range(100):
            file.write(b"\n" * 1024**2)
        file.write(line(3))
    return path


def peak_rss(process: subprocess.Popen, *, ceiling: int, timeout: float = 120) -> int:
    """The largest resident memory of the process until it ends; killed past the ceiling or the timeout."""
    watched = psutil.Process(process.pid)
    peak = 0
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if peak > ceiling or time.monotonic() > deadline:
            process.kill()
            break
        time.sleep(0.02)  # sampling, not waiting for something: the memory is read between samples
    process.wait()
    return peak


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("bomb", "imported"),
    [
        (deep_json, {1, 2, 3}),
        (deep_jsonl, {1, 2, 3}),
        (deep_as_a_record_is_large, {1, 2, 3}),
        (huge_line_in_gzip_json, {1}),
        (huge_line_in_gzip_jsonl, {1, 2}),
        (newlines, {1, 2, 3}),
    ],
)
def test_it_imports_a_bomb_in_bounded_memory_and_keeps_the_good_records(tmp_path, bomb, imported):
    folder = tmp_path / "dump"
    folder.mkdir()
    write_jsonl(folder / "a-good.jsonl", [rest_issue(1)])
    bomb(folder)

    with (tmp_path / "stderr").open("wb") as stderr:
        process = manage("import_issues", str(folder), env=environment(), stdout=subprocess.DEVNULL, stderr=stderr)
        peak = peak_rss(process, ceiling=CEILING)

    assert peak < CEILING, f"{peak / 1024**2:.0f} MB"
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, (tmp_path / "stderr").read_text()[-2000:]
    assert set(Issue.objects.values_list("number", flat=True)) == imported


@pytest.mark.django_db
def test_it_refuses_a_deep_line_and_imports_the_lines_after_it(tmp_path):
    dump = tmp_path / "deep.jsonl"
    dump.write_bytes(line(1) + deep(16_000) + b"\n" + line(3))

    run = import_paths(dump)

    assert run.status == ImportRun.Status.DONE
    assert run.counts["created"] == 2
    assert problems(run) == ["deep.jsonl, line 2: nested deeper than 64 levels (a bomb, not an issue)"]


@pytest.mark.django_db
def test_it_takes_an_issue_nested_as_deep_as_the_limit(tmp_path, settings):
    settings.IMPORT_MAX_DEPTH = 6
    dump = tmp_path / "edge.jsonl"
    deepest = rest_issue(1, labels=[{"name": "x", "extra": [[["[[[[ in a string"]]]}])  # 6 levels, 10 in text
    write_jsonl(dump, [deepest, rest_issue(2, labels=[{"name": "y", "extra": [[[[]]]]}])])

    run = import_paths(dump)

    assert run.counts["created"] == 1
    assert problems(run) == ["edge.jsonl, line 2: nested deeper than 6 levels (a bomb, not an issue)"]


@pytest.mark.django_db
def test_it_names_the_deep_item_of_a_json_file_and_imports_the_others(tmp_path):
    dump = tmp_path / "deep.json"
    dump.write_bytes(b"[" + line(1) + b"," + deep(100_000) + b",\n" + line(3) + b"," + deep(70) + b"]")

    run = import_paths(dump)

    assert run.counts["created"] == 2
    assert problems(run) == [
        "deep.json, item 2: nested deeper than 64 levels (a bomb, not an issue)",
        "deep.json, item 4: nested deeper than 64 levels (a bomb, not an issue)",
    ]


@pytest.mark.django_db
def test_it_skips_an_item_of_a_json_file_over_the_size_limit_and_imports_the_others(tmp_path, settings):
    settings.IMPORT_MAX_RECORD_BYTES = 300_000
    pages = [[rest_issue(1), rest_issue(2, body='"[{\\' * 200_000)], [rest_issue(3)]]  # gh api --slurp
    dump = tmp_path / "pages.json"
    dump.write_text(json.dumps(pages))

    run = import_paths(dump)

    assert set(Issue.objects.values_list("number", flat=True)) == {1, 3}
    assert problems(run) == ["pages.json, item 2: larger than the 293.0\xa0KB limit of one record"]


@pytest.mark.django_db
def test_it_refuses_a_record_over_the_size_limit_and_imports_the_rest(tmp_path, settings):
    settings.IMPORT_MAX_RECORD_BYTES = 10_000
    dump = tmp_path / "big.jsonl"
    write_jsonl(dump, [rest_issue(1), rest_issue(2, body="x" * 20_000), rest_issue(3)])

    run = import_paths(dump)

    assert run.counts["created"] == 2
    assert problems(run) == ["big.jsonl, line 2: larger than the 9.8\xa0KB limit of one record"]


@pytest.mark.django_db
def test_it_refuses_a_csv_row_over_the_size_limit_and_imports_the_rest(tmp_path, settings):
    settings.IMPORT_MAX_RECORD_BYTES = 10_000
    dump = tmp_path / "big.csv"
    rows = ["url,title,body"] + [f"https://github.com/o/r/issues/{n},Issue {n},body" for n in (1, 3)]
    rows.insert(2, "https://github.com/o/r/issues/2,Issue 2," + "x" * 20_000)
    dump.write_text("\n".join(rows) + "\n")

    run = import_paths(dump)

    assert run.counts["created"] == 2
    assert problems(run) == ["big.csv, line 3: larger than the 9.8\xa0KB limit of one record"]


@pytest.mark.django_db
def test_it_counts_blank_lines_and_skips_them_fast(tmp_path):
    dump = tmp_path / "blank.jsonl"
    dump.write_bytes(line(1) + b"\n" * 20 * 1024**2 + b"  \r\n" + line(2))

    started = time.monotonic()
    run = import_paths(dump)

    assert time.monotonic() - started < 5  # 14 s before, a line at a time
    assert run.counts["created"] == 2
    assert run.counts["blank lines skipped"] == 20 * 1024**2 + 1


@pytest.mark.django_db
def test_it_refuses_a_gzip_that_decompresses_too_many_times_its_size(tmp_path, settings):
    settings.IMPORT_COMPRESSION_RATIO_FLOOR_BYTES = 1024**2
    dump = tmp_path / "bomb.jsonl.gz"
    dump.write_bytes(gzip_of_repeated(line(1), b"\n" * 1024**2, 50, line(2)))

    run = import_paths(dump)

    assert run.counts["created"] == 1
    [problem] = problems(run)
    assert problem.startswith("bomb.jsonl.gz, at the limit: decompresses more than 200 times its size")


@pytest.mark.django_db
def test_it_stops_reading_an_upload_past_its_decompressed_total(tmp_path, settings):
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 1024**2
    one = write_jsonl(tmp_path / "1.jsonl.gz", [rest_issue(n, body="x" * 2000) for n in range(1, 600)], compress=True)
    two = write_jsonl(tmp_path / "2.jsonl.gz", [rest_issue(1000)], compress=True)

    run = import_paths(one, two)

    assert not Issue.objects.filter(number=1000).exists()
    assert problems(run)[-1].startswith("2.jsonl.gz, at the limit: the upload decompresses to more than 1.0\xa0MB")


@pytest.mark.django_db
def test_it_stops_a_run_at_the_time_limit_and_keeps_what_it_wrote(tmp_path, settings):
    settings.IMPORT_MAX_SECONDS = 0
    dump = write_jsonl(tmp_path / "slow.jsonl", [rest_issue(n) for n in range(1, 4)])

    run = import_paths(dump)

    assert run.status == ImportRun.Status.FAILED
    assert run.error.startswith("Stopped after 0 seconds, the time limit of one import (IMPORT_MAX_SECONDS)")
    assert Issue.objects.count() == 1
