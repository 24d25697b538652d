"""Bad input: every bad record is named with its place and reason; the good ones still get in."""

import gzip
import json
import zipfile

import pytest

from issues.models import Issue
from tests.helpers import import_paths, problems, rest_comment, rest_issue, write_json, write_jsonl

pytestmark = pytest.mark.django_db


def test_it_reports_a_malformed_line_and_imports_the_rest(tmp_path):
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps(rest_issue(1)) + "\n{not json\n" + json.dumps(rest_issue(3)) + "\n")

    run = import_paths(dump)

    assert run.counts["created"] == 2
    assert run.counts["failed"] == 1
    [problem] = problems(run)
    assert problem.startswith("dump.jsonl, line 2: not valid JSON")


@pytest.mark.parametrize("first_body", [5_000, 100_000], ids=["5 KB", "100 KB"])
def test_it_reads_json_lines_whose_first_line_is_long_line_by_line(tmp_path, first_body):
    # Real issues often weigh more than the 4 KB a file's first peek returned: the dump was read as one JSON text,
    # the bad line named as an item and everything after it lost.
    dump = tmp_path / "dump.jsonl"
    first = rest_issue(1, body="log line\n" * (first_body // 9))
    dump.write_text(json.dumps(first) + "\n{not json\n" + json.dumps(rest_issue(3)) + "\n")

    run = import_paths(dump)

    assert run.counts["created"] == 2
    [problem] = problems(run)
    assert problem.startswith("dump.jsonl, line 2: not valid JSON")
    assert Issue.objects.get(number=1).payload == first


def test_it_keeps_what_precedes_the_cut_in_a_truncated_json_array(tmp_path):
    text = json.dumps([rest_issue(1), rest_issue(2), rest_issue(3)], indent=1)
    dump = tmp_path / "cut.json"
    dump.write_text(text[: len(text) * 3 // 4])

    run = import_paths(dump)

    assert run.counts["created"] == 2
    [problem] = problems(run)
    assert problem.startswith("cut.json, after item 2: not valid JSON")
    assert "the rest of the file could not be read" in problem


def test_it_reports_a_truncated_last_line(tmp_path):
    dump = tmp_path / "cut.jsonl"
    dump.write_text(json.dumps(rest_issue(1)) + "\n" + json.dumps(rest_issue(2))[:-40])

    run = import_paths(dump)

    assert run.counts["created"] == 1
    assert problems(run) == ["cut.jsonl, line 2: truncated JSON"]


def test_it_reports_a_truncated_gzip_file(tmp_path):
    compressed = gzip.compress("".join(json.dumps(rest_issue(n)) + "\n" for n in range(1, 5000)).encode())
    dump = tmp_path / "cut.jsonl.gz"
    dump.write_bytes(compressed[: len(compressed) // 2])

    run = import_paths(dump)

    assert 0 < run.counts["created"] < 4999
    [problem] = problems(run)
    assert "damaged or truncated" in problem


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('"just a string"', "not a JSON dump of objects or arrays"),
        ("", "the file is empty"),
        ("\x89PNG\r\n\x1a\n", "not a JSON dump of objects or arrays"),
    ],
)
def test_it_rejects_a_file_that_is_not_a_dump(tmp_path, content, reason):
    dump = tmp_path / "odd.json"
    dump.write_text(content)

    run = import_paths(dump)

    assert run.counts["failed"] == 1
    assert reason in problems(run)[0]


def test_it_names_a_stray_file_in_a_folder(tmp_path):
    (tmp_path / "dumps").mkdir()
    write_jsonl(tmp_path / "dumps" / "issues.jsonl", [rest_issue(1)])
    (tmp_path / "dumps" / "stray.txt").write_bytes(b"#!")

    run = import_paths(tmp_path / "dumps")

    assert run.counts["created"] == 1
    assert problems(run) == [
        "stray.txt, the whole file: not a JSON dump of objects or arrays, nor a CSV file with a header "
        "(use --format to say which it is)"
    ]


def test_it_names_a_stray_member_of_a_zip_with_its_path(tmp_path):
    with zipfile.ZipFile(tmp_path / "dumps.zip", "w") as archive:
        archive.writestr("2024/issues.json", json.dumps([rest_issue(1)]))
        archive.writestr("2024/notes/stray.txt", "#!")

    run = import_paths(tmp_path / "dumps.zip")

    assert run.counts["created"] == 1
    [problem] = problems(run)
    assert problem.startswith("dumps.zip:2024/notes/stray.txt, the whole file: not a JSON dump")


def test_it_names_each_item_of_the_wrong_type(tmp_path):
    run = import_paths(write_json(tmp_path / "numbers.json", [rest_issue(1), 42, "x"]))

    assert run.counts["created"] == 1
    assert problems(run) == [
        "numbers.json, item 2: expected a JSON object, found a number",
        "numbers.json, item 3: expected a JSON object, found a string",
    ]


def test_it_names_records_missing_number_or_title(tmp_path):
    no_number = rest_issue(1)
    del no_number["number"]
    no_title = rest_issue(2, title="  ")

    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [no_number, no_title, rest_issue(3)]))

    assert run.counts["created"] == 1
    assert problems(run) == [
        "d.jsonl, line 1: issue ?: missing or bad 'number'",
        "d.jsonl, line 2: issue 2: missing title",
    ]


def test_it_reports_invalid_utf8_line_by_line(tmp_path):
    dump = tmp_path / "latin1.jsonl"
    bad = json.dumps(rest_issue(2, title="Café"), ensure_ascii=False).encode().replace("é".encode(), b"\xe9")
    dump.write_bytes(json.dumps(rest_issue(1)).encode() + b"\n" + bad + b"\n")

    run = import_paths(dump)

    assert run.counts["created"] == 1
    assert problems(run)[0].startswith("latin1.jsonl, line 2: invalid UTF-8 at byte")


def test_it_reports_invalid_utf8_in_a_csv_row(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_bytes(b"url,title\nhttps://github.com/o/r/issues/1,Caf\xe9\nhttps://github.com/o/r/issues/2,Fine\n")

    run = import_paths(dump)

    assert run.counts["created"] == 1
    assert problems(run) == ["d.csv, line 2: invalid UTF-8"]


def test_it_strips_nul_characters_and_counts_them(tmp_path):
    dump = write_jsonl(tmp_path / "nul.jsonl", [rest_issue(1, body="before\u0000after", title="T\u0000")])

    run = import_paths(dump)

    issue = Issue.objects.get(number=1)
    assert (issue.body, issue.title) == ("beforeafter", "T")
    assert issue.payload["body"] == "beforeafter"
    assert run.counts["records with NUL or invalid characters cleaned"] == 1


def test_it_strips_raw_nul_bytes_from_csv(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_bytes(b"url,title,body\nhttps://github.com/o/r/issues/1,Title,bo\x00dy\n")

    run = import_paths(dump)

    assert Issue.objects.get(number=1).body == "body"
    assert run.counts["records with NUL or invalid characters cleaned"] == 1


def test_it_takes_megabyte_bodies_and_thousands_of_labels(tmp_path):
    body = "```\n" + "Traceback line\n" * 70_000 + "```"
    labels = [{"name": f"label-{n}"} for n in range(3000)]

    run = import_paths(write_jsonl(tmp_path / "big.jsonl", [rest_issue(1, body=body, labels=labels)]))

    assert run.counts["created"] == 1
    issue = Issue.objects.get(number=1)
    assert len(issue.body) > 1_000_000 and issue.body == body
    assert len(issue.labels) == 3000


def test_it_isolates_a_record_the_database_refuses(tmp_path):
    # Comment ids are 64-bit in the database; only the database says no to this one, and so to its issue.
    huge = rest_issue(3, comments=1, comment_data=[rest_comment(10**20, 3)])
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), huge, rest_issue(2)])

    run = import_paths(dump)

    assert run.counts["created"] == 2
    [problem] = problems(run)
    assert problem == "d.jsonl, line 2: the database refused it: a number too large for its column"
    assert sorted(Issue.objects.values_list("number", flat=True)) == [1, 2]


def test_it_refuses_an_issue_number_out_of_range(tmp_path):
    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(3_000_000_000), rest_issue(1)]))

    assert problems(run) == ["d.jsonl, line 1: bad number: 3000000000"]


def test_it_reports_a_bad_state(tmp_path):
    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1, state="merged")]))

    assert problems(run) == ["d.jsonl, line 1: issue 1: state must be open or closed, not 'merged'"]


def test_it_reports_a_csv_without_the_columns_it_needs(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_text("id,name\n1,x\n")

    run = import_paths(dump)

    assert problems(run) == [
        "d.csv, line 1: the header needs url (or repository and number) and title columns; it has ['id', 'name']"
    ]


def test_it_replaces_lone_surrogates_which_postgresql_cannot_store(tmp_path):
    # A truncated emoji in a JSON escape: valid JSON, but not Unicode text.
    lines = [
        json.dumps(rest_issue(1, title="Crash \ud83d")),  # lone
        json.dumps(rest_issue(2, title="Fine \U0001f600")),  # escaped as a valid pair
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    write_json(tmp_path / "d.json", [rest_issue(3, body="Lone \udc00 in an array")])

    run = import_paths(tmp_path / "d.jsonl", tmp_path / "d.json")

    assert run.counts["created"] == 3
    assert Issue.objects.get(number=1).title == "Crash \ufffd"
    assert Issue.objects.get(number=2).title == "Fine \U0001f600"
    assert Issue.objects.get(number=3).body == "Lone \ufffd in an array"
    assert run.counts["records with NUL or invalid characters cleaned"] == 1  # in JSON Lines, record by record
    assert run.counts["lone surrogate escapes replaced"] == 1  # in a JSON array, as the file streams
