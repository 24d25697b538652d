"""Importing is idempotent, updates without losing research data, selects, and fails whole in strict mode."""

import json
import signal
import subprocess
import threading
from datetime import date

import pytest

from issues.importers.run import MISSING_COMMENTS
from issues.models import ImportRun, Issue, IssueComment
from studies.models import StudyIssue
from tests.helpers import (
    environment,
    import_paths,
    manage,
    problems,
    rest_comment,
    rest_issue,
    wait_until,
    write_json,
    write_jsonl,
)

pytestmark = pytest.mark.django_db


def snapshot():
    return list(Issue.objects.order_by("number").values()), list(IssueComment.objects.order_by("id").values())


def test_importing_the_same_dump_twice_changes_nothing(tmp_path):
    issues = [rest_issue(n, comment_data=[rest_comment(100 + n, n)], comments=1) for n in (1, 2, 3)]
    dump = write_jsonl(tmp_path / "d.jsonl", issues)
    import_paths(dump)
    before = snapshot()

    again = import_paths(dump)

    assert again.counts == {"unchanged": 3}
    assert snapshot() == before


def test_the_same_issues_in_another_format_are_unchanged(tmp_path):
    import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)]))
    before = snapshot()

    again = import_paths(write_json(tmp_path / "d.json", [rest_issue(1), rest_issue(2)]))

    assert again.counts == {"unchanged": 2}
    assert snapshot() == before


def test_a_newer_dump_updates_issues_and_comments_but_keeps_research_data(tmp_path, study):
    old = rest_issue(1, comment_data=[rest_comment(11, 1), rest_comment(12, 1)], comments=2)
    import_paths(write_jsonl(tmp_path / "old.jsonl", [old]))
    issue = Issue.objects.get(number=1)
    StudyIssue.objects.create(study=study, issue=issue)  # what researchers hang on an issue
    new = rest_issue(
        1,
        title="Fixed title",
        body="Edited body",
        state="closed",
        state_reason="completed",
        closed_at="2024-04-01T00:00:00Z",
        labels=[{"name": "type:bug"}, {"name": "comp:keras"}],
        updated_at="2024-04-01T00:00:00Z",
        comment_data=[rest_comment(11, 1, body="Edited comment"), rest_comment(13, 1)],  # 12 was deleted
        comments=2,
    )

    run = import_paths(write_jsonl(tmp_path / "new.jsonl", [new]))

    assert run.counts["updated"] == 1
    issue.refresh_from_db()
    assert (issue.title, issue.body, issue.state, issue.state_reason) == (
        "Fixed title",
        "Edited body",
        "closed",
        "completed",
    )
    assert issue.labels == ["type:bug", "comp:keras"]
    assert {c.github_id: c.body for c in issue.comments.all()} == {11: "Edited comment", 13: "Comment 13"}
    assert StudyIssue.objects.filter(study=study, issue=issue).exists()  # same row, same id


def test_an_older_dump_does_not_overwrite_a_newer_issue(tmp_path):
    import_paths(write_jsonl(tmp_path / "new.jsonl", [rest_issue(1, title="New", updated_at="2024-05-01T00:00:00Z")]))

    run = import_paths(write_jsonl(tmp_path / "old.jsonl", [rest_issue(1, title="Old")]))

    assert run.counts["skipped: older snapshot"] == 1
    assert Issue.objects.get(number=1).title == "New"


def test_issues_missing_comments_are_counted_as_their_stored_records_say(tmp_path):
    newer = [rest_issue(1, comments=3, updated_at="2024-05-01T00:00:00Z"), rest_issue(2, comments=2)]
    import_paths(write_jsonl(tmp_path / "new.jsonl", newer))

    # Issue 1 older: its stored record (3 comments) counts; issue 2 unchanged; issue 3 with none on GitHub.
    older = [rest_issue(1, comments=0), rest_issue(2, comments=2), rest_issue(3, comments=0)]
    run = import_paths(write_jsonl(tmp_path / "old.jsonl", older))

    assert run.counts["skipped: older snapshot"] == 1
    assert run.counts[MISSING_COMMENTS] == 2


@pytest.fixture
def labelled_dump(tmp_path):
    def issue(number, labels, state="closed", created="2024-01-10"):
        return rest_issue(
            number, labels=[{"name": name} for name in labels], state=state, created_at=f"{created}T00:00:00Z"
        )

    return write_jsonl(
        tmp_path / "d.jsonl",
        [
            issue(1, ["type:bug", "comp:keras"]),
            issue(2, ["type:bug", "comp:ops"], created="2023-06-01"),
            issue(3, ["type:feature", "comp:keras"], state="open"),
            issue(4, ["type:bug", "comp:keras", "stale"], created="2024-03-01"),
            issue(5, ["Type:Bug", "COMP:KERAS"]),
        ],
    )


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ({"labels": ("type:bug", "comp:keras")}, [1, 4, 5]),  # all must match, case aside
        ({"any_labels": ("comp:ops", "type:feature")}, [2, 3]),
        ({"labels": ("type:bug",), "exclude_labels": ("stale",)}, [1, 2, 5]),
        ({"state": "open"}, [3]),
        ({"since": date(2024, 1, 1), "until": date(2024, 1, 31)}, [1, 3, 5]),
        ({"limit": 2}, [1, 2]),
    ],
)
def test_it_imports_only_the_selected_issues(labelled_dump, selection, expected):
    run = import_paths(labelled_dump, **selection)

    assert sorted(Issue.objects.values_list("number", flat=True)) == expected
    assert sum(n for name, n in run.counts.items() if name.startswith("skipped")) == 5 - len(expected)


def test_a_sample_is_reproducible_and_drawn_from_the_selection(labelled_dump):
    first = import_paths(labelled_dump, labels=("type:bug",), sample=2, seed=7)
    drawn = set(Issue.objects.values_list("number", flat=True))
    Issue.objects.all().delete()
    import_paths(labelled_dump, labels=("type:bug",), sample=2, seed=7)
    again = set(Issue.objects.values_list("number", flat=True))
    seeds = set()
    for seed in range(10):
        Issue.objects.all().delete()
        import_paths(labelled_dump, labels=("type:bug",), sample=2, seed=seed)
        seeds.add(frozenset(Issue.objects.values_list("number", flat=True)))

    assert drawn == again and len(drawn) == 2 and drawn <= {1, 2, 4, 5}
    assert len(seeds) > 1  # the seed matters
    assert first.counts["skipped: not in the sample"] == 2


def test_comments_of_issues_left_out_are_skipped_not_failed(tmp_path):
    issues = write_jsonl(tmp_path / "i.jsonl", [rest_issue(1), rest_issue(2, state="closed")])
    comments = write_jsonl(tmp_path / "c.jsonl", [rest_comment(5, 1), rest_comment(6, 2)])

    run = import_paths(issues, comments, state="open")

    assert run.counts["comments created"] == 1
    assert run.counts["skipped: comment of an issue left out"] == 1
    assert "failed" not in run.counts


def test_it_adds_the_imported_issues_to_a_study(tmp_path, study):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)])
    import_paths(dump)  # already there: unchanged issues are added too

    import_paths(dump, study=study.slug)

    assert sorted(study.issues.values_list("number", flat=True)) == [1, 2]


def test_strict_mode_writes_nothing_when_one_record_is_bad(tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text(json.dumps(rest_issue(1)) + "\n{oops\n" + json.dumps(rest_issue(3)) + "\n")

    run = import_paths(dump, strict=True)

    assert run.status == ImportRun.Status.FAILED
    assert "1 bad record: nothing was imported (strict mode)" in run.error
    assert problems(run)[0].startswith("d.jsonl, line 2: not valid JSON")
    assert not Issue.objects.exists()


def test_strict_mode_says_so_when_the_database_refuses_a_record_that_passed_the_check(tmp_path):
    huge = rest_issue(2, comments=1, comment_data=[rest_comment(10**20, 2)])  # a 64-bit id column says no

    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), huge]), strict=True)

    assert run.status == ImportRun.Status.FAILED
    assert run.error.startswith("The database refused 1 record(s) that passed the check")
    assert list(Issue.objects.values_list("number", flat=True)) == [1]


def test_strict_mode_imports_a_clean_dump(tmp_path):
    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)]), strict=True)

    assert run.status == ImportRun.Status.DONE
    assert run.counts["created"] == 2


def test_it_records_the_run(tmp_path):
    run = import_paths(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), labels=("type:bug",))

    assert run.status == ImportRun.Status.DONE
    assert run.options == {"selection": {"labels": ["type:bug"]}}
    assert run.bytes_read == run.bytes_total == (tmp_path / "d.jsonl").stat().st_size
    assert run.records_read == 1
    assert run.started_at <= run.finished_at


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_leaves_whole_batches_and_a_rerun_completes_it(tmp_path):
    # Big enough for many batches; each issue carries two comments that must arrive with it.
    issues = [
        rest_issue(n, body="x" * 2000, comments=2, comment_data=[rest_comment(2 * n, n), rest_comment(2 * n + 1, n)])
        for n in range(1, 20_001)
    ]
    dump = write_jsonl(tmp_path / "big.jsonl", issues)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = manage("import_issues", str(dump), env=environment(), **quiet)
    try:
        wait_until(lambda: Issue.objects.count() >= 2000, what="the import storing 2,000 of the 20,000 issues")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stored = Issue.objects.count()

    assert 0 < stored < 20_000, "killed in the middle"
    assert IssueComment.objects.count() == 2 * stored  # no issue without its comments
    run = import_paths(dump)
    assert run.counts["created"] == 20_000 - stored
    assert run.counts["unchanged"] == stored
    assert Issue.objects.count() == 20_000 and IssueComment.objects.count() == 40_000
    interrupted = ImportRun.objects.exclude(pk=run.pk).get()
    assert (interrupted.status, interrupted.error) == ("failed", "Interrupted: the process stopped before the end.")


@pytest.mark.parametrize("stop", ["done", "time limit", "strict"])
def test_the_thread_reading_the_dump_ends_with_the_run(tmp_path, settings, stop):
    # More records than the reader may hold ahead: at a stop it waits, and must still end.
    issues = [rest_issue(n) for n in range(1, 2001)]
    if stop == "time limit":
        settings.IMPORT_MAX_SECONDS = 0
    dump = write_jsonl(tmp_path / "d.jsonl", issues + ([{"number": "bad"}] if stop == "strict" else []))

    run = import_paths(dump, strict=stop == "strict")

    assert run.status == (ImportRun.Status.DONE if stop == "done" else ImportRun.Status.FAILED)
    assert Issue.objects.count() == {"done": 2000, "time limit": 1, "strict": 0}[stop]
    assert not [thread for thread in threading.enumerate() if thread.name == "import-reader"]
