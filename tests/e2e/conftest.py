import pytest
from playwright.sync_api import Page

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.e2e

# Injected before any page script: records every CSP violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def page(page: Page) -> Page:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.set_default_timeout(10_000)
    return page


def log_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")
