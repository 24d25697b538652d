"""A re-import does not parse the lines of JSON Lines unchanged since their issue was imported
(issues/importers/unchanged.py), and reports exactly what parsing them would have reported.

Every case runs twice: with that shortcut, and with it off (as past `MAX_STORED` stored issues).
"""

import json

import pytest

from issues.importers import formats, unchanged
from issues.importers.run import MISSING_COMMENTS
from issues.models import Issue, IssueComment
from tests.helpers import import_paths, problems, rest_comment, rest_issue, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["shortcut", "parsed"])
def shortcut(request, monkeypatch):
    if request.param == "parsed":
        monkeypatch.setattr(unchanged, "MAX_STORED", 0)
    return request.param == "shortcut"


def without_repository(number: int) -> dict:
    """A record that does not say its repository: the import's --repo does."""
    return {
        key: value for key, value in rest_issue(number).items() if key not in {"url", "repository_url", "html_url"}
    }


def stored():
    return sorted(Issue.objects.values_list("repository__owner", "repository__name", "number", "title"))


def test_unchanged_lines_are_not_parsed_again(tmp_path, monkeypatch):
    issues = [rest_issue(n, comment_data=[rest_comment(100 + n, n)], comments=1) for n in range(1, 4)]
    dump = write_jsonl(tmp_path / "d.jsonl", issues)
    import_paths(dump)

    def parse(text):
        raise AssertionError(f"parsed again: {text[:60]}")

    monkeypatch.setattr(formats, "_loads", parse)
    again = import_paths(dump)

    assert again.counts == {"unchanged": 3}
    assert IssueComment.objects.count() == 3


def test_a_line_imported_into_one_repository_goes_into_another_when_told(tmp_path, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [without_repository(1)])
    import_paths(dump, repository=("octo", "first"))

    again = import_paths(dump, repository=("octo", "second"))
    same = import_paths(dump, repository=("octo", "first"))

    assert again.counts == {"created": 1}
    assert same.counts == {"unchanged": 1}
    assert stored() == [("octo", "first", 1, "Issue 1"), ("octo", "second", 1, "Issue 1")]


def test_a_line_that_needs_a_repository_still_says_so_when_it_was_imported_before(tmp_path, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [without_repository(1)])
    import_paths(dump, repository=("octo", "first"))

    again = import_paths(dump)

    assert again.counts == {"failed": 1}
    assert "neither repository_url nor html_url tells its repository" in problems(again)[0]


def test_a_pull_request_imported_once_is_skipped_when_pull_requests_are_not_asked_for(tmp_path, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2, pull_request={"url": "x"})])
    import_paths(dump, include_prs=True)

    assert import_paths(dump).counts == {"unchanged": 1, "skipped: pull request": 1}
    assert import_paths(dump, include_prs=True).counts == {"unchanged": 2}


def test_filters_still_apply_to_unchanged_lines(tmp_path, shortcut):
    dump = write_jsonl(
        tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2, state="closed", closed_at="2024-03-05T00:00:00Z")]
    )
    import_paths(dump)

    assert import_paths(dump, state="closed").counts == {"unchanged": 1, "skipped: filtered out": 1}
    assert import_paths(dump, limit=1).counts == {"unchanged": 1, "skipped: over the limit": 1}


def test_a_line_repeated_in_the_dump_is_a_duplicate(tmp_path, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(1), rest_issue(2)])
    import_paths(dump)

    assert import_paths(dump).counts == {"unchanged": 2, "skipped: duplicate": 1}


def test_a_newer_snapshot_before_the_stored_one_wins(tmp_path, shortcut):
    old = rest_issue(1)
    import_paths(write_jsonl(tmp_path / "old.jsonl", [old]))
    new = rest_issue(1, title="Issue 1, retitled", updated_at="2024-04-01T00:00:00Z")

    run = import_paths(write_jsonl(tmp_path / "both.jsonl", [new, old]))

    assert run.counts == {"updated": 1, "skipped: older snapshot": 1}
    assert stored() == [("octo", "widgets", 1, "Issue 1, retitled")]


def test_issues_missing_comments_are_still_counted(tmp_path, shortcut):
    # GitHub counted 3 comments on issue 1, none of which the dump holds; issue 2's count is not a whole number.
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1, comments=3), rest_issue(2, comments=2.0), rest_issue(3)])
    import_paths(dump)

    assert import_paths(dump).counts == {"unchanged": 3, MISSING_COMMENTS: 2}


@pytest.mark.parametrize(
    ("body", "stored_body"),
    [("nul \u0000 here", "nul  here"), ("lone \ud800 surrogate \U0001f600", "lone \ufffd surrogate \U0001f600")],
)
def test_a_line_with_characters_the_database_refuses_is_cleaned_again(tmp_path, shortcut, body, stored_body):
    dump = tmp_path / "d.jsonl"
    dump.write_text(json.dumps(rest_issue(1, body=body)) + "\n")  # escaped: "\u0000", "\ud800"
    import_paths(dump)

    again = import_paths(dump)

    assert again.counts == {"unchanged": 1, "records with NUL or invalid characters cleaned": 1}
    assert Issue.objects.get().body == stored_body


def test_unchanged_lines_are_added_to_the_study(tmp_path, study, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(n) for n in range(1, 2_502)])  # past a batch of 1,000
    import_paths(dump)

    import_paths(dump, study=study.slug)

    assert study.issues.count() == 2_501


def test_an_edited_line_is_parsed_and_updated(tmp_path, shortcut):
    import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)]))

    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2, title="Two, edited")]))

    assert run.counts == {"unchanged": 1, "updated": 1}
    assert stored()[1] == ("octo", "widgets", 2, "Two, edited")


def test_a_dump_with_a_byte_order_mark_and_escaped_characters_is_unchanged_again(tmp_path, shortcut):
    # As Windows tools and Python's json.dumps (ensure_ascii) write them: "\u00e9" for é, a BOM first.
    lines = [json.dumps(rest_issue(n, title=f"Caf\u00e9 {n} \U0001f600")) for n in (1, 2)]
    assert "\\u00e9" in lines[0] and "\\ud83d" in lines[0]
    dump = tmp_path / "d.jsonl"
    dump.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    import_paths(dump)

    assert import_paths(dump).counts == {"unchanged": 2}
    assert stored()[0][3] == "Caf\u00e9 1 \U0001f600"


def test_escaped_characters_do_not_make_a_line_parsed_again(tmp_path, monkeypatch):
    dump = tmp_path / "d.jsonl"
    dump.write_text(json.dumps(rest_issue(1, title="Caf\u00e9 \U0001f600")) + "\n")
    import_paths(dump)
    monkeypatch.setattr(formats, "_loads", lambda text: pytest.fail("parsed again"))

    assert import_paths(dump).counts == {"unchanged": 1}


def test_a_strict_re_import_finds_the_lines_unchanged_in_both_passes(tmp_path, shortcut):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)])
    import_paths(dump)

    assert import_paths(dump, strict=True).counts == {"unchanged": 2}
