"""GitHub REST API issue objects read into our fields: the project's samples, and real ones in ../shared."""

import json

import pytest

from issues.github import InvalidIssueObject, comment_fields, issue_fields, issue_of_comment, repository_of
from tests.helpers import SAMPLES, SHARED, sample

TENSORFLOW_SAMPLES = SHARED / "data/github-issues/tensorflow-sample"


def test_the_samples_are_there():
    assert len(SAMPLES) == 12


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_it_reads_every_sample_issue_object(path):
    obj = json.loads(path.read_text(encoding="utf-8"))

    fields = issue_fields(obj)

    assert repository_of(obj) == ("deepflow", "deepflow")
    assert fields["number"] == obj["number"]
    kind = "pull" if "pull_request" in obj else "issues"
    assert fields["html_url"] == f"https://github.com/deepflow/deepflow/{kind}/{obj['number']}"
    assert fields["labels"] == [label["name"] for label in obj["labels"]]
    assert fields["body"] == (obj["body"] or "")
    assert fields["state_reason"] == (obj.get("state_reason") or "")
    assert fields["payload"] is obj


def test_it_keeps_crlf_line_ends_and_reads_times_as_utc():
    obj = sample(0)

    fields = issue_fields(obj)

    assert fields["number"] == 10482
    assert fields["title"] == "Model.fit silently ignores class_weight when the dataset yields sample weights"
    assert "\r\n" in fields["body"]
    assert fields["created_at"].isoformat() == obj["created_at"].replace("Z", "+00:00") == "2019-10-03T08:41:27+00:00"
    assert fields["state"] == "closed"
    assert fields["state_reason"] == ""  # fetched before GitHub added state_reason
    assert "comp:keras" in fields["labels"]


def test_it_recognises_pull_requests_and_null_bodies():
    by_number = {obj["number"]: obj for obj in map(sample, range(len(SAMPLES)))}

    pull_request, no_body = issue_fields(by_number[10966]), issue_fields(by_number[11876])

    assert pull_request["is_pull_request"] is True
    assert no_body["body"] == "" and no_body["is_pull_request"] is False
    assert sum(issue_fields(obj)["is_pull_request"] for obj in by_number.values()) == 1


def test_it_names_what_is_missing():
    obj = sample(0)
    del obj["created_at"]

    with pytest.raises(InvalidIssueObject, match="issue 10482: missing or bad 'created_at'"):
        issue_fields(obj)


def test_it_joins_a_comment_to_its_issue_through_issue_url():
    [first, *_] = json.loads((SAMPLES[0].parent / "comments_10482.json").read_text(encoding="utf-8"))

    assert issue_of_comment(first) == (("deepflow", "deepflow"), 10482)
    assert comment_fields(first)["github_id"] == 538110462
    assert comment_fields(first)["author_login"] == "pnovak"


def test_it_rejects_an_object_without_repository():
    with pytest.raises(InvalidIssueObject, match="neither repository_url nor html_url"):
        repository_of({"number": 1})


# --- Cross-checks against the real TensorFlow issue objects in ../shared ---


def tensorflow_samples() -> list[dict]:
    paths = sorted(TENSORFLOW_SAMPLES.glob("issue_*.json"))
    assert len(paths) == 20
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


@pytest.mark.shared
def test_it_reads_every_real_tensorflow_issue_object():
    for obj in tensorflow_samples():
        fields = issue_fields(obj)

        assert repository_of(obj) == ("tensorflow", "tensorflow")
        assert fields["html_url"] == f"https://github.com/tensorflow/tensorflow/issues/{obj['number']}"
        assert fields["labels"] == [label["name"] for label in obj["labels"]]
        assert fields["body"] == (obj["body"] or "")
        assert fields["created_at"].isoformat() == obj["created_at"].replace("Z", "+00:00")


@pytest.mark.shared
def test_the_samples_have_the_keys_of_real_github_issues():
    real = tensorflow_samples()
    ours = [sample(index) for index in range(len(SAMPLES))]

    def keys(objects, part=lambda obj: [obj]):
        return set().union(*(item.keys() for obj in objects for item in part(obj)))

    # Real issues fetched before 2022 lack state_reason and have no pull request among them.
    assert keys(ours) - {"state_reason", "draft", "pull_request"} == keys(real)
    assert keys(ours, lambda obj: [obj["user"]]) == keys(real, lambda obj: [obj["user"]])
    assert keys(ours, lambda obj: obj["labels"]) == keys(real, lambda obj: obj["labels"])
    assert keys(ours, lambda obj: [obj["reactions"]]) == keys(real, lambda obj: [obj["reactions"]])
