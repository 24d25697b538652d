import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.factories import AdminFactory, ImportRunFactory, IssueCommentFactory, StudyIssueFactory
from tests.helpers import app_pages, csp_violations, log_in, with_annotation_work

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_content_security_policy_in_chromium(page: Page, live_server):
    study_issue = StudyIssueFactory()
    IssueCommentFactory(issue=study_issue.issue)
    admin_user = AdminFactory()
    with_annotation_work(study_issue.study, admin_user)
    import_run = ImportRunFactory()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}{reverse('login')}")
    assert csp_violations(page) == []
    log_in(page, live_server, admin_user)
    for url in app_pages(study_issue.study, import_run):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        assert csp_violations(page) == [], url
        assert errors == [], url
        shown = page.locator("body").inner_text()
        assert "{#" not in shown and "#}" not in shown, url  # a template comment that spanned lines

    page.goto(f"{live_server.url}{reverse('studies:list')}")
    assert page.evaluate("typeof window.htmx") == "object", "our own scripts do run"
