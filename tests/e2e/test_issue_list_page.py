"""A member searches the study's issues in Chromium: the snippets read as text, the match highlighted."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from issues.search import index_stale_issues
from tests.factories import IssueFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_searches_and_reads_snippets_without_markdown(page: Page, live_server, study):
    member = MembershipFactory(study=study).user
    body = "**Calling** `fit` twice resets the optimizer.\n\n```python\nmodel.fit(x)  # optimizer reset\n```"
    StudyIssueFactory(study=study, issue=IssueFactory(title="Fit resets state", body=body))
    StudyIssueFactory(study=study, issue=IssueFactory(title="Other", body="Nothing to see."))
    index_stale_issues()
    log_in(page, live_server, member)
    page.goto(live_server.url + reverse("studies:issues", args=[study.slug]))

    page.get_by_role("searchbox", name="Search").fill("optimizer")

    snippet = page.locator("#results .snippet")
    expect(snippet).to_have_count(1)
    expect(snippet).to_contain_text("Calling fit twice resets the optimizer")
    expect(snippet.locator("mark").first).to_have_text("optimizer")
    for syntax in ("```", "**", "`"):
        expect(snippet).not_to_contain_text(syntax)
    assert csp_violations(page) == []
