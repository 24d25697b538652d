"""An owner adds issues in Chromium: every state is offered unless they narrow it, and the preview reads plainly."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import IssueFactory, MembershipFactory, RepositoryFactory, StudyIssueFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_picks_a_repository_and_gets_open_and_closed_issues_with_a_clear_count(
    page: Page, live_server, study
):
    owner = MembershipFactory(study=study, role="owner").user
    repository = RepositoryFactory(owner="tensorflow", name="tensorflow")
    for number, state in [(1, "closed"), (2, "open"), (3, "open")]:
        IssueFactory(repository=repository, number=number, state=state, shared=True)
    StudyIssueFactory(study=study, issue=repository.issues.get(number=1))
    log_in(page, live_server, owner)
    page.goto(live_server.url + reverse("studies:add_issues", args=[study.slug]))

    expect(page.get_by_label("State")).to_have_value("all")
    page.get_by_label("Repository").select_option(label="tensorflow/tensorflow")

    preview = page.locator("#preview")
    expect(preview).to_contain_text("3 issues match · 1 of them already in the study · 2 to add.")
    page.get_by_role("button", name="Add 2 issues").click()

    expect(page.get_by_role("status")).to_contain_text("2 issues added")
    assert sorted(study.issues.values_list("number", flat=True)) == [1, 2, 3]
    assert csp_violations(page) == []
