"""`python -m bench.generate_dump`: synthetic GitHub issue dumps (no Django, no database)."""

import gzip
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest

from bench.generate_dump import main
from issues.github import comment_fields, issue_fields, issue_of_comment, repository_of
from tests.helpers import SAMPLES, SHARED

ROOT = Path(__file__).resolve().parents[1]


def generate(path: Path, count: int = 200, *options: str) -> list[dict]:
    stdout, stderr = StringIO(), StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        main([str(count), "-o", str(path), *options])
    assert "Wrote" in stdout.getvalue()
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "issues.jsonl"
    generate(path, 2_000)
    return path


@pytest.fixture(scope="module")
def issues(dump_file) -> list[dict]:
    return [json.loads(line) for line in dump_file.read_text(encoding="utf-8").splitlines()]


def test_every_line_is_an_issue_of_the_default_repository(issues):
    assert len(issues) == 2_000
    for obj in issues:
        fields = issue_fields(obj)
        assert repository_of(obj) == ("deepflow", "deepflow-synthetic")
        assert fields["number"] == obj["number"]
        assert 1 <= len(fields["labels"]) <= 6
        assert "comment_data" not in obj
        assert 0 <= obj["comments"] <= 30


def test_numbers_and_ids_are_unique_and_numbers_follow_creation_time(issues):
    numbers = [obj["number"] for obj in issues]
    assert len(set(numbers)) == len(numbers)
    assert len({obj["id"] for obj in issues}) == len(issues)
    by_number = sorted(issues, key=lambda obj: obj["number"])
    created = [obj["created_at"] for obj in by_number]
    assert created == sorted(created)


def test_times_are_consistent_and_within_the_decade(issues):
    for obj in issues:
        fields = issue_fields(obj)
        assert obj["created_at"].endswith("Z")
        assert datetime(2016, 1, 1, tzinfo=UTC) <= fields["created_at"] < datetime(2026, 1, 1, tzinfo=UTC)
        assert fields["updated_at"] >= fields["created_at"]
        assert fields["updated_at"].year <= 2026
        if obj["state"] == "closed":
            assert fields["closed_at"] >= fields["created_at"]
            assert obj["closed_by"]["login"]
        else:
            assert obj["closed_at"] is None and obj["closed_by"] is None


def test_the_mix_looks_like_a_real_tracker(issues):
    pull_requests = [obj for obj in issues if "pull_request" in obj]
    assert 20 <= len(pull_requests) <= 120
    assert all(obj["pull_request"]["html_url"] == obj["html_url"] for obj in pull_requests)
    assert 10 <= sum(obj["body"] is None for obj in issues) <= 80
    closed = sum(obj["state"] == "closed" for obj in issues)
    assert 0.7 <= closed / len(issues) <= 0.9
    assert {obj["state_reason"] for obj in issues if obj["state"] == "closed"} >= {"completed", "not_planned"}
    bodies = [obj["body"] for obj in issues if obj["body"]]
    for marker in ("### Current behavior?", "**Describe the current behavior**", "```python", "Traceback", "\r\n"):
        assert any(marker in body for body in bodies), marker
    labels = {label["name"] for obj in issues for label in obj["labels"]}
    assert {"type:bug", "type:feature", "type:support", "comp:keras", "comp:xla", "stale", "deepflow 2.15"} <= labels


def assert_key_sets_cover(issues: list[dict], samples: list[dict]) -> None:
    """Every synthetic issue has every key (of the issue, its user, labels and reactions) that the samples have."""
    issue_keys = set().union(*(sample.keys() for sample in samples))
    user_keys = set().union(*(sample["user"].keys() for sample in samples))
    label_keys = set().union(*(label.keys() for sample in samples for label in sample["labels"]))
    reaction_keys = set().union(*(sample["reactions"].keys() for sample in samples))
    for obj in issues:
        assert obj.keys() >= issue_keys | {"state_reason"}
        assert obj["user"].keys() >= user_keys
        assert all(label.keys() >= label_keys for label in obj["labels"])
        assert obj["reactions"].keys() >= reaction_keys
        assert obj["reactions"]["total_count"] == sum(
            obj["reactions"][key] for key in reaction_keys - {"url", "total_count"}
        )
        for assignee in obj["assignees"]:
            assert assignee.keys() >= user_keys


def test_the_key_sets_cover_those_of_the_sample_issues(issues):
    samples = [json.loads(path.read_text(encoding="utf-8")) for path in SAMPLES]

    # Pull requests have two keys more (draft, pull_request), and so do the synthetic ones.
    assert_key_sets_cover(issues, [sample for sample in samples if "pull_request" not in sample])


@pytest.mark.shared
def test_the_key_sets_cover_those_of_the_real_tensorflow_issues_in_shared(issues):
    paths = sorted((SHARED / "data/github-issues/tensorflow-sample").glob("issue_*.json"))
    assert len(paths) == 20

    assert_key_sets_cover(issues, [json.loads(path.read_text(encoding="utf-8")) for path in paths])


def test_lines_average_about_eight_kilobytes(dump_file):
    average = dump_file.stat().st_size / 2_000
    assert 7_000 <= average <= 8_600


def test_the_same_seed_gives_the_same_file_and_another_seed_another(tmp_path):
    generate(tmp_path / "a.jsonl")
    generate(tmp_path / "b.jsonl")
    generate(tmp_path / "c.jsonl", 200, "--seed", "1")

    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()


def test_gzip_output_holds_the_same_lines(tmp_path):
    generate(tmp_path / "plain.jsonl", 200, "--seed", "5")
    generate(tmp_path / "packed.jsonl.gz", 200, "--seed", "5")

    assert gzip.decompress((tmp_path / "packed.jsonl.gz").read_bytes()) == (tmp_path / "plain.jsonl").read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_comments_are_full_rest_comment_objects_of_their_issue(tmp_path):
    issues = generate(tmp_path / "with-comments.jsonl", 200, "--comments", "3")

    comment_ids = []
    for obj in issues:
        assert obj["comments"] == len(obj["comment_data"])
        for comment in obj["comment_data"]:
            fields = comment_fields(comment)
            assert issue_of_comment(comment)[1] == obj["number"]
            assert comment["issue_url"] == obj["url"]
            assert comment["html_url"].startswith(obj["html_url"] + "#issuecomment-")
            assert fields["created_at"] >= issue_fields(obj)["created_at"]
            assert comment["updated_at"] >= comment["created_at"]
            assert comment["created_at"] <= obj["updated_at"]
            assert fields["author_login"] and fields["body"]
            comment_ids.append(comment["id"])
    assert len(set(comment_ids)) == len(comment_ids)
    assert 2.0 <= len(comment_ids) / len(issues) <= 4.0


def test_another_repository(tmp_path):
    issues = generate(tmp_path / "other.jsonl", 20, "--repo", "acme/rocket")

    assert {repository_of(obj) for obj in issues} == {("acme", "rocket")}
    assert all(obj["html_url"].startswith("https://github.com/acme/rocket/") for obj in issues)


def test_it_prints_plain_progress_lines_when_not_on_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("bench.generate_dump.PLAIN_PROGRESS_EVERY", 0.0)

    main(["3", "-o", str(tmp_path / "x.jsonl")])

    out, err = capsys.readouterr()
    assert "3/3 issues" in err
    assert "\r" not in err  # no progress bar
    assert "Wrote 3 issues and 0 comments" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-1"], "N must not be negative."),
        (["5", "--comments", "-2"], "--comments must not be negative."),
        (["5", "--repo", "not a repo"], "--repo must look like owner/name, not 'not a repo'."),
    ],
    ids=["count", "comments", "repo"],
)
def test_it_rejects_bad_arguments(tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit:
        main([*arguments, "-o", str(tmp_path / "x.jsonl")])

    assert exit.value.code == 2
    assert f"error: {message}" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_it_says_why_it_cannot_write(tmp_path):
    with pytest.raises(SystemExit, match=r"^Cannot write .*no-such-folder/x.jsonl: .*No such file or directory"):
        main(["3", "-o", str(tmp_path / "no-such-folder" / "x.jsonl")])


def test_it_runs_as_a_script(tmp_path):
    script = tmp_path / "script.jsonl"

    done = subprocess.run(
        [sys.executable, "-m", "bench.generate_dump", "20", "-o", str(script), "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote 20 issues and 0 comments to {script}: ")
    generate(tmp_path / "in-process.jsonl", 20, "--seed", "3")
    assert script.read_bytes() == (tmp_path / "in-process.jsonl").read_bytes()


def test_it_does_not_import_django():
    code = "import sys, bench.generate_dump; print(sorted({name.split('.')[0] for name in sys.modules}))"

    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    assert "'django'" not in done.stdout and "'tqdm'" in done.stdout
