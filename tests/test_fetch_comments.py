"""Comments a dump counted but did not hold: reported by the import, said on the issue's page, fetched from GitHub
(here the fake GitHub replaying tests/data/github-api/issue-comments.json) without ever storing one twice."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from issues.importers.run import MISSING_COMMENTS
from issues.models import ImportRun, Issue, IssueComment
from issues.search import index_stale_issues, search
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.fake_github import fake_github  # noqa: F401
from tests.helpers import DATA, import_paths

pytestmark = pytest.mark.django_db
ISSUES = DATA / "github-issues/deepflow"
RECORDING = DATA / "github-api/issue-comments.json"
TOKEN = "0000000000000000000000000000000000000001"


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_issues", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def issue(number: int) -> Issue:
    return Issue.objects.get(number=number)


@pytest.fixture
def imported():
    """Issues 10482 (4 comments on GitHub) and 11876 (2) from their REST files, which hold only the counts."""
    return import_paths(ISSUES / "issue_10482.json", ISSUES / "issue_11876.json")


@pytest.fixture
def github(fake_github, monkeypatch):  # noqa: F811
    fake_github.load_recording(RECORDING)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return fake_github


def test_an_import_counts_the_issues_whose_comments_the_dump_left_out(imported):
    assert imported.counts[MISSING_COMMENTS] == 2
    assert (MISSING_COMMENTS, 2) in imported.result_rows()


def test_an_import_with_the_comments_counts_none_missing():
    run = import_paths(ISSUES / "issue_10482.json", ISSUES / "comments_10482.json")

    assert issue(10482).comments.count() == 4
    assert MISSING_COMMENTS not in run.counts


def test_the_command_says_how_many_issues_miss_comments_and_how_to_fetch_them():
    out, _ = run_command(ISSUES / "issue_10482.json", ISSUES / "issue_11876.json")

    assert re.search(rf"{MISSING_COMMENTS} +2\n", out)
    assert "2 issues have comments on GitHub that were not imported; `import_issues --fetch-comments`" in out


def test_it_fetches_the_missing_comments_with_the_token_and_names_an_issue_gone_from_github(imported, github):
    with pytest.raises(CommandError, match="1 records could not be imported"):
        run_command("--fetch-comments", "--api-url", github.base_url)

    assert sorted(issue(10482).comments.values_list("github_id", flat=True)) == [
        538110462,
        538424190,
        571503318,
        572001974,
    ]
    assert [request.path for request in github.requests] == [
        "/repos/deepflow/deepflow/issues/10482/comments?per_page=100",
        "/repositories/48213904/issues/10482/comments?per_page=100&page=2",
        "/repos/deepflow/deepflow/issues/11876/comments?per_page=100",
    ]
    assert all(request.headers["Authorization"] == f"Bearer {TOKEN}" for request in github.requests)
    run = ImportRun.objects.latest("pk")
    assert (run.source, run.options) == (ImportRun.Source.GITHUB, {"selection": {}, "fetch_comments": True})
    assert run.counts["comments created"] == 4 and run.counts[MISSING_COMMENTS] == 1
    [problem] = run.problems.all()
    assert (problem.source, problem.location) == ("deepflow/deepflow#11876", "the issue")
    assert problem.reason.startswith("GitHub says 404 Not Found")


def test_it_shows_its_progress_in_issues(imported, github):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_issues", "--fetch-comments", "--api-url", github.base_url, stdout=io.StringIO(), stderr=err
        )

    run = ImportRun.objects.latest("pk")
    assert (run.bytes_read, run.bytes_total) == (2, 2)
    assert re.search(rf"import {run.pk}: 100% of 2 issues, 5 records", err.getvalue())


def test_fetching_again_stores_no_comment_twice(imported, github):
    with pytest.raises(CommandError):
        run_command("--fetch-comments", "--api-url", github.base_url)
    # GitHub's count says two more: fetched again, the same four come back.
    Issue.objects.filter(number=10482).update(payload={**issue(10482).payload, "comments": 6})

    with pytest.raises(CommandError):
        run_command("--fetch-comments", "--api-url", github.base_url)

    assert issue(10482).comments.count() == 4
    assert ImportRun.objects.latest("pk").counts.get("comments unchanged", 0) == 0
    assert IssueComment.objects.values("github_id").distinct().count() == IssueComment.objects.count()


def test_it_fetches_only_the_studys_issues_with_study(imported, github, study):
    StudyIssueFactory(study=study, issue=issue(10482))

    run_command("--fetch-comments", "--study", study.slug, "--api-url", github.base_url)

    assert issue(10482).comments.count() == 4
    assert all("/11876/" not in request.path for request in github.requests)


def test_fetched_comments_are_sanitised_and_searchable_like_imported_ones(imported, github, study, client):
    StudyIssueFactory(study=study, issue=issue(10482))
    run_command("--fetch-comments", "--study", study.slug, "--api-url", github.base_url)
    index_stale_issues()  # what the run enqueued for the task worker
    annotator = MembershipFactory(study=study).user
    AssignmentFactory(study=study, issue=issue(10482), annotator=annotator)
    client.force_login(annotator)

    assert list(search(Issue.objects.all(), "workaround").values_list("number", flat=True)) == [10482]
    page = client.get(reverse("studies:annotate", args=[study.slug, "deepflow", "deepflow", 10482]))
    assert "Is there a workaround until it is fixed?" in page.text
    assert "not imported" not in page.text


def test_the_issue_page_says_how_many_comments_are_on_github_and_links_there(imported, study, client):
    StudyIssueFactory(study=study, issue=issue(10482))
    annotator = MembershipFactory(study=study).user
    AssignmentFactory(study=study, issue=issue(10482), annotator=annotator)
    client.force_login(annotator)

    page = client.get(reverse("studies:annotate", args=[study.slug, "deepflow", "deepflow", 10482]))

    assert "4 comments on GitHub, not imported" in page.text
    assert "0 comments" not in page.text
    assert f'<a href="{issue(10482).html_url}" rel="noopener noreferrer">read them on GitHub</a>' in page.text


# --- the Imports page's button ---


def test_the_import_page_offers_to_fetch_the_missing_comments(admin_client, imported):
    page = admin_client.get(imported.get_absolute_url())

    assert "2 issues have comments on GitHub that the dumps did not hold" in page.text
    assert reverse("issues:fetch_comments", args=[imported.pk]) in page.text


def test_the_button_fetches_them_in_the_task_worker(admin_client, admin_user, imported, github, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.GITHUB_API_URL, settings.GITHUB_TOKEN = github.base_url, TOKEN

    response = admin_client.post(reverse("issues:fetch_comments", args=[imported.pk]))

    run = ImportRun.objects.latest("pk")
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    assert (run.created_by, run.status) == (admin_user, ImportRun.Status.DONE)
    assert issue(10482).comments.count() == 4
    assert all(request.headers["Authorization"] == f"Bearer {TOKEN}" for request in github.requests)
    page = admin_client.get(run.get_absolute_url())
    assert "comments created" in page.text
    assert "1 issue has comments on GitHub that the dumps did not hold" in page.text  # 11876, gone from GitHub


def test_the_button_is_for_admins_only(client, researcher, imported):
    client.force_login(researcher)

    assert client.post(reverse("issues:fetch_comments", args=[imported.pk])).status_code == 404


def test_the_button_takes_only_post(admin_client, imported):
    assert admin_client.get(reverse("issues:fetch_comments", args=[imported.pk])).status_code == 405
    assert not ImportRun.objects.exclude(pk=imported.pk).exists()
