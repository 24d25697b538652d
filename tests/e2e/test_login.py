import pytest
from playwright.sync_api import Page, expect

from tests.factories import MembershipFactory, RepositoryFactory, StudyFactory, StudyIssueFactory, UserFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_researcher_logs_in_and_sees_their_studies(page: Page, live_server):
    mine = StudyFactory(name="Silent bugs in DeepFlow")
    StudyIssueFactory(study=mine, issue__title="Dropout stays active after reloading a saved model")
    StudyFactory(name="A study I am not in")
    user = MembershipFactory(study=mine).user

    page.goto(live_server.url)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    log_in(page, live_server, user)

    expect(page.get_by_role("heading", name="Your studies")).to_be_visible()
    expect(page.get_by_role("link", name="Silent bugs in DeepFlow")).to_be_visible()
    expect(page.get_by_text("A study I am not in")).to_have_count(0)

    page.get_by_text("Studies", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Silent bugs in DeepFlow").click()
    expect(page.get_by_role("heading", name="Silent bugs in DeepFlow")).to_be_visible()
    expect(page.get_by_role("cell", name="Dropout stays active after reloading a saved model")).to_be_visible()
    assert csp_violations(page) == []


def test_a_researcher_logs_out(page: Page, live_server):
    user = UserFactory()
    log_in(page, live_server, user)

    page.get_by_text(user.username).click()
    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(live_server.url)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_a_wrong_password_is_refused_with_a_message(page: Page, live_server):
    user = UserFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")


def test_htmx_pages_through_issues_without_reloading_the_page(page: Page, live_server):
    study = StudyFactory()
    repository = RepositoryFactory()
    issues = [StudyIssueFactory(study=study, issue__repository=repository).issue for _ in range(55)]
    user = MembershipFactory(study=study).user
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/studies/{study.slug}/")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Next →").click()

    expect(page.get_by_text("Page 2 of 2 (55 issues)")).to_be_visible()
    expect(page.get_by_role("cell", name=issues[-1].title)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/studies/{study.slug}/?page=2")
    assert page.evaluate("window.__sameDocument") is True, "htmx swapped the list; no full page load"
    assert csp_violations(page) == []
