"""Every dump format is recognised without being told, and read completely."""

import gzip
import json
import zipfile

import pytest

from issues.models import Issue, IssueComment
from tests.helpers import (
    SAMPLES,
    SHARED,
    import_paths,
    problems,
    rest_comment,
    rest_issue,
    sample,
    write_json,
    write_jsonl,
)

pytestmark = pytest.mark.django_db


def numbers(repository: str = "octo/widgets") -> list[int]:
    owner, name = repository.split("/")
    return list(Issue.objects.filter(repository__owner=owner, repository__name=name).values_list("number", flat=True))


def test_it_imports_rest_objects_one_per_file_verbatim_with_their_comments_in_a_file_of_their_own():
    run = import_paths(SAMPLES[0].parent)

    assert run.counts["created"] == 11
    assert run.counts["skipped: pull request"] == 1
    assert "failed" not in run.counts
    issue = Issue.objects.get(number=sample(0)["number"])
    assert issue.repository.full_name == "deepflow/deepflow"
    assert issue.payload == sample(0)  # nothing from the dump is lost
    assert "\r\n" in issue.body
    assert "comp:keras" in issue.labels
    assert list(issue.comments.order_by("created_at").values_list("author_login", flat=True)) == [
        "pnovak",
        "mirela-d",
        "pnovak",
        "deepflow-butler",
    ]


@pytest.mark.shared
def test_it_imports_the_real_tensorflow_samples_in_shared_verbatim():
    samples = SHARED / "data/github-issues/tensorflow-sample"

    run = import_paths(samples)

    assert run.counts["created"] == 20
    assert "failed" not in run.counts
    real = json.loads((samples / "issue_1.json").read_text(encoding="utf-8"))
    issue = Issue.objects.get(repository__owner="tensorflow", number=real["number"])
    assert issue.payload == real
    assert "\r\n" in issue.body


def test_it_reads_a_json_array(tmp_path):
    run = import_paths(write_json(tmp_path / "issues.json", [rest_issue(1), rest_issue(2)]))

    assert run.counts["created"] == 2
    assert numbers() == [1, 2]


def test_it_reads_a_zip_of_json_files(tmp_path):
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in SAMPLES[0].parent.iterdir():
            zipped.write(path, f"deepflow/{path.name}")

    run = import_paths(archive)

    assert run.counts["created"] == 11
    assert IssueComment.objects.filter(issue__number=sample(0)["number"]).count() == 4


def test_it_reads_paginated_output_back_to_back_and_ignores_the_overlap(tmp_path):
    # gh api --paginate prints each page as it comes: […][…]; pages can overlap when issues move.
    dump = tmp_path / "pages.json"
    page1 = [rest_issue(3), rest_issue(2)]
    page2 = [rest_issue(2), rest_issue(1)]
    dump.write_text(json.dumps(page1, indent=1) + json.dumps(page2, indent=1))

    run = import_paths(dump)

    assert run.counts["created"] == 3
    assert run.counts["skipped: duplicate"] == 1
    assert sorted(numbers()) == [1, 2, 3]


def test_it_reads_slurped_nested_pages(tmp_path):
    run = import_paths(write_json(tmp_path / "slurp.json", [[rest_issue(1)], [rest_issue(2), rest_issue(3)]]))

    assert run.counts["created"] == 3


def test_it_reads_json_lines_plain_and_gzipped(tmp_path):
    run = import_paths(
        write_jsonl(tmp_path / "a.jsonl", [rest_issue(1), rest_issue(2)]),
        write_jsonl(tmp_path / "b.jsonl.gz", [rest_issue(3)], compress=True),
    )

    assert run.counts["created"] == 3


def test_it_reads_the_datasets_layout_with_comment_bodies(tmp_path):
    issue = rest_issue(1, comments=["First!", "Same here, on 2.15."])

    import_paths(write_jsonl(tmp_path / "dataset.jsonl", [issue]))

    comments = Issue.objects.get(number=1).comments.order_by("id")
    assert [comment.body for comment in comments] == ["First!", "Same here, on 2.15."]
    assert all(comment.github_id is None for comment in comments)


def test_it_reads_python_github_backup_with_embedded_comments(tmp_path):
    issues_dir = tmp_path / "widgets" / "issues"
    issues_dir.mkdir(parents=True)
    for number in (1, 2):
        issue = rest_issue(number, comments=1, comment_data=[rest_comment(100 + number, number)], event_data=[])
        write_json(issues_dir / f"{number}.json", issue)

    run = import_paths(tmp_path / "widgets")

    assert run.counts["created"] == 2
    assert run.counts["comments created"] == 2
    issue = Issue.objects.get(number=2)
    assert [comment.github_id for comment in issue.comments.all()] == [102]
    assert "comment_data" not in issue.payload  # stored as comments, each with its own payload
    assert issue.payload["event_data"] == []


def test_it_joins_separate_comment_files_on_issue_url_in_any_order(tmp_path):
    comments = write_json(tmp_path / "a-comments.json", [rest_comment(7, 2), rest_comment(8, 2), rest_comment(9, 1)])
    issues = write_jsonl(tmp_path / "b-issues.jsonl", [rest_issue(1), rest_issue(2)])

    run = import_paths(comments, issues)

    assert run.counts["comments created"] == 3
    assert sorted(IssueComment.objects.filter(issue__number=2).values_list("github_id", flat=True)) == [7, 8]


def test_it_reports_comments_whose_issue_is_nowhere(tmp_path):
    run = import_paths(write_jsonl(tmp_path / "comments.jsonl", [rest_comment(7, 99)]))

    assert run.counts["failed"] == 1
    assert problems(run) == [
        "comments.jsonl, line 1: comment 7: issue octo/widgets#99 is neither in this dump nor in the database"
    ]


def test_it_reads_github_cli_json(tmp_path):
    issue = {
        "number": 12,
        "title": "Model.fit ignores class_weight",
        "body": "Steps…",
        "state": "CLOSED",
        "stateReason": "COMPLETED",
        "author": {"login": "mona", "is_bot": False},
        "labels": [{"id": "LA_1", "name": "type:bug", "color": "d73a4a"}],
        "createdAt": "2024-01-02T03:04:05Z",
        "updatedAt": "2024-01-05T00:00:00Z",
        "closedAt": "2024-01-05T00:00:00Z",
        "url": "https://github.com/octo/widgets/issues/12",
        "comments": [
            {
                "author": {"login": "hubot"},
                "body": "Fixed in #13.",
                "createdAt": "2024-01-04T00:00:00Z",
                "url": "https://github.com/octo/widgets/issues/12#issuecomment-555",
            }
        ],
    }

    run = import_paths(write_json(tmp_path / "gh.json", [issue]))

    assert run.counts["created"] == 1
    stored = Issue.objects.get(number=12)
    assert (stored.state, stored.state_reason, stored.author_login) == ("closed", "completed", "mona")
    assert stored.labels == ["type:bug"]
    assert stored.comments.get().github_id == 555


def gharchive_event(kind: str, issue: dict, comment: dict | None = None) -> dict:
    payload = {"action": "opened", "issue": issue}
    if comment:
        payload["comment"] = comment
    return {"id": "1", "type": kind, "repo": {"name": "octo/widgets"}, "payload": payload, "created_at": "x"}


def test_it_reads_gh_archive_and_keeps_the_latest_snapshot(tmp_path):
    newer = rest_issue(1, title="Renamed later", updated_at="2024-05-01T00:00:00Z")
    older = rest_issue(1, title="First title", updated_at="2024-04-01T00:00:00Z")
    events = [
        {"id": "0", "type": "PushEvent", "repo": {"name": "octo/widgets"}, "payload": {}},
        gharchive_event("IssuesEvent", newer),
        gharchive_event("IssueCommentEvent", older, rest_comment(77, 1)),  # arrives later, but is older
    ]
    hour = tmp_path / "2024-05-01-15.json.gz"
    hour.write_bytes(gzip.compress("".join(json.dumps(event) + "\n" for event in events).encode()))

    run = import_paths(hour)

    assert Issue.objects.get(number=1).title == "Renamed later"
    assert run.counts["skipped: not an issue event"] == 1
    assert run.counts["comments created"] == 1


def test_it_reads_csv_with_semicolons_bom_crlf_and_multiline_bodies(tmp_path):
    text = (
        "\ufeffhtml_url;title;body;labels;state;created_at;author;effect\r\n"
        'https://github.com/octo/widgets/issues/5;Wrong gradient;"Line one\r\n\r\n```python\r\nx = 1\r\n```";'
        '"type:bug; comp:ops";closed;2023-02-01T10:00:00Z;mona;wrong output\r\n'
        "https://github.com/octo/widgets/issues/6;Slow import;;;open;2023-02-02;lisa;\r\n"
    )
    dump = tmp_path / "issues.csv"
    dump.write_bytes(text.encode("utf-8"))

    run = import_paths(dump)

    assert run.counts["created"] == 2, problems(run)
    issue = Issue.objects.get(number=5)
    assert issue.body == "Line one\r\n\r\n```python\r\nx = 1\r\n```"
    assert issue.labels == ["type:bug", "comp:ops"]
    assert (issue.state, issue.author_login) == ("closed", "mona")
    assert issue.payload["effect"] == "wrong output"  # columns we do not model are kept
    assert Issue.objects.get(number=6).created_at.isoformat() == "2023-02-02T00:00:00+00:00"


def test_it_reads_csv_with_repository_and_number_columns(tmp_path):
    dump = tmp_path / "issues.csv"
    dump.write_text('repository,number,title\nocto/widgets,3,"Crash, then hang"\n', encoding="utf-8")

    run = import_paths(dump)

    assert run.counts["created"] == 1
    assert Issue.objects.get(number=3).html_url == "https://github.com/octo/widgets/issues/3"


def test_it_takes_the_repository_from_repo_when_a_dump_has_none(tmp_path):
    bare = {"number": 4, "title": "No URLs here", "state": "open", "created_at": "2024-01-01T00:00:00Z"}
    dump = write_jsonl(tmp_path / "bare.jsonl", [bare])

    without = import_paths(dump)
    with_repo = import_paths(dump, repository=("octo", "widgets"))

    assert "neither repository_url nor html_url" in problems(without)[0]
    assert with_repo.counts["created"] == 1
    assert numbers() == [4]


def test_it_skips_pull_requests_unless_asked(tmp_path):
    dump = write_jsonl(tmp_path / "mixed.jsonl", [rest_issue(1), rest_issue(2, pull_request={"url": "…"})])

    first = import_paths(dump)
    second = import_paths(dump, include_prs=True)

    assert first.counts["skipped: pull request"] == 1
    assert numbers() == [1, 2]
    assert second.counts["created"] == 1
    assert Issue.objects.get(number=2).is_pull_request


def test_it_takes_null_bodies_and_missing_state_reason_as_normal(tmp_path):
    issue = rest_issue(1, body=None)
    issue.pop("state_reason", None)

    run = import_paths(write_jsonl(tmp_path / "a.jsonl", [issue]))

    assert run.counts["created"] == 1 and "failed" not in run.counts
    assert Issue.objects.get(number=1).body == ""


def test_the_format_can_be_forced(tmp_path):
    # A comments dump whose objects also carry a number would pass for issues.
    comment = {**rest_comment(5, 1), "number": 1}
    import_paths(write_jsonl(tmp_path / "issues.jsonl", [rest_issue(1)]))

    run = import_paths(write_jsonl(tmp_path / "odd.jsonl", [comment]), format="comments")

    assert run.counts["comments created"] == 1
