"""An admin imports REST issue files that hold only a comment count, sees that the comments are missing instead of
"0 comments", and fetches them from (the fake) GitHub with the Imports page's button; the task worker does it."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from issues.models import ImportRun
from tests.factories import AdminFactory, MembershipFactory
from tests.fake_github import fake_github  # noqa: F401
from tests.helpers import DATA, csp_violations, log_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOKEN = "0000000000000000000000000000000000000001"


def finished_run(after: int) -> ImportRun | None:
    return ImportRun.objects.filter(pk__gt=after).exclude(status__in=["queued", "running"]).first()


def test_an_admin_sees_the_comments_are_missing_and_fetches_them(
    page: Page,
    live_server,
    start_task_worker,
    fake_github,  # noqa: F811
    study,
):
    fake_github.load_recording(DATA / "github-api/issue-comments.json")
    admin = AdminFactory()
    MembershipFactory(study=study, user=admin, role="owner")
    start_task_worker(GITHUB_API_URL=fake_github.base_url, GITHUB_TOKEN=TOKEN)
    log_in(page, live_server, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    page.get_by_label("Dump files").set_input_files(DATA / "github-issues/deepflow/issue_10482.json")
    page.get_by_role("combobox", name=re.compile(r"^Study")).select_option(study.slug)
    page.get_by_role("button", name="Import", exact=True).click()

    imported = wait_until(lambda: finished_run(0), timeout=300, what="the task worker importing the file")
    assert imported.status == "done", imported.error
    expect(page.get_by_role("row", name="issues with comments on GitHub not imported 1")).to_be_visible()
    expect(page.get_by_text("1 issue of the study")).to_contain_text("has comments on GitHub that the dumps did not")

    # Before fetching: the issue's page says the comments are on GitHub, not that there are none.
    issue_page = live_server.url + reverse("studies:issue_history", args=[study.slug, "deepflow", "deepflow", 10482])
    page.goto(issue_page)
    missing = page.get_by_role("link", name="4 comments on GitHub, not imported")
    expect(missing).to_have_attribute("href", "https://github.com/deepflow/deepflow/issues/10482")
    expect(page.get_by_role("note")).to_contain_text("4 comments on GitHub, not imported: read them on GitHub.")
    expect(page.locator(".issue-meta")).not_to_contain_text("0 comments")

    page.go_back()
    page.get_by_role("button", name="Fetch the missing comments from GitHub").click()
    expect(page).to_have_url(re.compile(rf"^{live_server.url}/imports/\d+/$"))
    expect(page.locator("progress.import-bar")).to_be_visible()
    fetched = wait_until(lambda: finished_run(imported.pk), timeout=300, what="the task worker fetching comments")
    assert fetched.status == "done", fetched.error
    expect(page.get_by_role("row", name="comments created 4")).to_be_visible()
    expect(page.get_by_role("button", name="Fetch the missing comments from GitHub")).to_have_count(0)
    assert all(request.headers["Authorization"] == f"Bearer {TOKEN}" for request in fake_github.requests)

    page.goto(issue_page)
    expect(page.get_by_role("region", name="Comment by mirela-d")).to_be_visible()
    expect(page.locator(".issue-meta")).to_contain_text("4 comments")
    expect(page.get_by_text("not imported")).to_have_count(0)
    assert csp_violations(page) == []
