import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers import RECORD_CSP_VIOLATIONS, csp_violations, log_in

pytestmark = pytest.mark.e2e

# How long the browser may take to show what a test waits for, actions and expect() alike (expect's own default
# is 5 s): generous, as a page can take seconds on a loaded machine; only a failing test ever waits that long.
BROWSER_DEADLINE_MS = 30_000
expect.set_options(timeout=BROWSER_DEADLINE_MS)


@pytest.fixture
def page(page: Page) -> Page:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.set_default_timeout(BROWSER_DEADLINE_MS)
    return page


@pytest.fixture
def open_as(browser: Browser, live_server):
    """`open_as(user)`: a page logged in as that person, with cookies of its own (several people at once), recording
    CSP violations; the test fails if any page saw one."""
    opened = []

    def open_page(user) -> Page:
        context = browser.new_context()
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(BROWSER_DEADLINE_MS)
        log_in(page, live_server, user)
        opened.append(page)
        return page

    yield open_page
    assert [violation for page in opened for violation in csp_violations(page)] == []
    for page in opened:
        page.context.close()
