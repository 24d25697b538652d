import pytest
from playwright.sync_api import Page, expect

from tests.helpers import RECORD_CSP_VIOLATIONS

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
