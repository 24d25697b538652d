"""Real issue objects, exactly as the GitHub REST API returned them."""

import json

import pytest

from issues.github import InvalidIssueObject, comment_fields, issue_fields, issue_of_comment, repository_of
from tests.conftest import SHARED

SAMPLES = sorted((SHARED / "data/github-issues/tensorflow-sample").glob("issue_*.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_real_samples_are_there():
    assert len(SAMPLES) == 20


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_it_reads_every_real_issue_object(path):
    obj = load(path)

    fields = issue_fields(obj)

    assert repository_of(obj) == ("tensorflow", "tensorflow")
    assert fields["number"] == obj["number"]
    assert fields["html_url"] == f"https://github.com/tensorflow/tensorflow/issues/{obj['number']}"
    assert fields["labels"] == [label["name"] for label in obj["labels"]]
    assert fields["body"] == (obj["body"] or "")
    assert fields["payload"] is obj


def test_it_keeps_crlf_line_ends_and_reads_times_as_utc():
    obj = load(SAMPLES[0])

    fields = issue_fields(obj)

    assert fields["number"] == 32476
    assert fields["title"] == "Unexpected output shape on custom keras dynamic layer"
    assert "\r\n" in fields["body"]
    assert fields["created_at"].isoformat() == obj["created_at"].replace("Z", "+00:00")
    assert fields["state"] == "closed"
    assert fields["state_reason"] == ""  # these old objects have no state_reason
    assert "comp:keras" in fields["labels"]


def test_it_recognises_pull_requests_and_null_bodies():
    obj = {**load(SAMPLES[0]), "body": None, "pull_request": {"url": "https://api.github.com/…"}}

    fields = issue_fields(obj)

    assert fields["body"] == ""
    assert fields["is_pull_request"] is True


def test_it_names_what_is_missing():
    obj = load(SAMPLES[0])
    del obj["created_at"]

    with pytest.raises(InvalidIssueObject, match="issue 32476: missing or bad 'created_at'"):
        issue_fields(obj)


def test_it_joins_a_comment_to_its_issue_through_issue_url():
    comment = {
        "id": 531111111,
        "issue_url": "https://api.github.com/repos/tensorflow/tensorflow/issues/32476",
        "user": {"login": "maintainer"},
        "body": "Can you try with tf-nightly?",
        "created_at": "2019-09-13T17:01:02Z",
    }

    assert issue_of_comment(comment) == (("tensorflow", "tensorflow"), 32476)
    assert comment_fields(comment)["github_id"] == 531111111
    assert comment_fields(comment)["author_login"] == "maintainer"


def test_it_rejects_an_object_without_repository():
    with pytest.raises(InvalidIssueObject, match="neither repository_url nor html_url"):
        repository_of({"number": 1})
