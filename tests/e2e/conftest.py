import pytest
from playwright.sync_api import Page

from tests.helpers import RECORD_CSP_VIOLATIONS

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(page: Page) -> Page:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.set_default_timeout(10_000)
    return page
