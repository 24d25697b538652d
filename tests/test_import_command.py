"""`manage.py import_issues`: dumps and live GitHub, a summary, an exit status that tells."""

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command

from issues.models import ImportRun, Issue
from tests.fake_github import fake_github, key  # noqa: F401
from tests.helpers import DATA, rest_comment, rest_issue, write_jsonl

pytestmark = pytest.mark.django_db
RECORDING = DATA / "github-api/paginate-issues.json"


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_issues", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_a_summary_and_plain_progress_when_not_on_a_terminal(tmp_path):
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2, pull_request={})])

    out, err = run_command(dump)

    assert re.search(r"created +1\n", out)
    assert re.search(r"skipped: pull request +1\n", out)
    assert re.search(r"failed +0\n", out)
    assert "import " in err and "100%" in err  # progress lines, no bar escape codes
    assert "\r" not in err


def test_the_run_records_each_files_digest_read_while_it_imports(tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [rest_issue(1)])
    second = write_jsonl(tmp_path / "second.jsonl", [rest_issue(2)])

    run_command(first, second)

    assert ImportRun.objects.get().files == [
        {"name": path.name, "size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in (first, second)
    ]


def test_it_exits_non_zero_and_lists_the_bad_records(tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"number": 1, "html_url": "https://github.com/o/r/issues/1"}\n')
    errors = tmp_path / "errors.csv"

    with pytest.raises(CommandError, match="1 records could not be imported"):
        run_command(dump, "--errors", errors)

    assert errors.read_text().splitlines() == [
        "file,where,reason",
        "d.jsonl,line 1,issue 1: missing or bad 'title'",
    ]


def test_it_refuses_a_missing_path_before_doing_anything(tmp_path):
    with pytest.raises(CommandError, match="No such file or directory"):
        run_command(tmp_path / "nope.json")

    assert not ImportRun.objects.exists()


def test_it_applies_the_selection_options(tmp_path):
    bug = rest_issue(1, labels=[{"name": "type:bug"}])
    other = rest_issue(2, labels=[{"name": "type:feature"}])

    run_command(write_jsonl(tmp_path / "d.jsonl", [bug, other]), "--label", "type:bug", "--state", "open")

    assert list(Issue.objects.values_list("number", flat=True)) == [1]
    assert ImportRun.objects.get().options == {"selection": {"labels": ["type:bug"], "state": "open"}}


def test_it_adds_to_a_study(tmp_path, study):
    run_command(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), "--study", study.slug)

    assert study.issues.count() == 1


def test_it_names_an_unknown_study(tmp_path):
    with pytest.raises(CommandError, match="No study 'nope'"):
        run_command(write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), "--study", "nope")


def test_it_imports_live_from_github_following_the_pages(fake_github, monkeypatch):  # noqa: F811
    fake_github.load_recording(RECORDING)
    # The recording asked for open issues, 3 a page; the command asks for all of them, 100 a page.
    recorded = key("GET", "/repos/deepflow/deepflow/issues?per_page=3")
    ours = key("GET", "/repos/deepflow/deepflow/issues?state=all&per_page=100")
    fake_github.responses[ours] = fake_github.responses[recorded]
    monkeypatch.setenv("GITHUB_TOKEN", "0000000000000000000000000000000000000001")

    out, _ = run_command("--github", "deepflow/deepflow", "--api-url", fake_github.base_url, "--no-comments")

    # 11 recorded over 4 pages, one of them a pull request.
    assert Issue.objects.filter(repository__name="deepflow").count() == 10
    assert re.search(r"created +10\n", out) and re.search(r"skipped: pull request +1\n", out)
    assert all(
        request.headers["Authorization"] == "Bearer 0000000000000000000000000000000000000001"
        for request in fake_github.requests
    )
    assert len(fake_github.requests) == 4


def test_an_interrupted_github_import_resumes_where_it_stopped(fake_github):  # noqa: F811
    base = "/repos/o/r/issues?state=all&per_page=100"
    page2 = f"{fake_github.base_url}/repositories/1/issues?page=2"
    fake_github.add("GET", base, json=[rest_issue(1, repo="o/r")], headers={"Link": f'<{page2}>; rel="next"'})
    fake_github.add("GET", "/repositories/1/issues?page=2", status=404, json={"message": "Not Found"})

    with pytest.raises(CommandError, match="resume"):
        run_command("--github", "o/r", "--api-url", fake_github.base_url, "--no-comments")
    fake_github.responses.pop(key("GET", "/repositories/1/issues?page=2"))  # GitHub is back
    fake_github.add("GET", "/repositories/1/issues?page=2", json=[rest_issue(2, repo="o/r")])
    fake_github.requests.clear()
    run_command("--github", "o/r", "--api-url", fake_github.base_url, "--no-comments")

    assert [request.path for request in fake_github.requests] == ["/repositories/1/issues?page=2"]
    assert sorted(Issue.objects.values_list("number", flat=True)) == [1, 2]


def test_a_github_import_fetches_comments(fake_github):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues?state=all&per_page=100", json=[rest_issue(1, repo="o/r", comments=1)])
    fake_github.add("GET", "/repos/o/r/issues/1/comments?per_page=100", json=[rest_comment(50, 1, repo="o/r")])

    run_command("--github", "o/r", "--api-url", fake_github.base_url)

    assert Issue.objects.get(number=1).comments.get().github_id == 50
