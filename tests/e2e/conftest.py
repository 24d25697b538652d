import subprocess
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers import RECORD_CSP_VIOLATIONS, csp_violations, environment, log_in, manage, stop

pytestmark = pytest.mark.e2e

# How long the browser may take to show what a test waits for, actions and expect() alike (expect's own default
# is 5 s): generous, as a page can take seconds on a loaded machine; only a failing test ever waits that long.
BROWSER_DEADLINE_MS = 30_000
expect.set_options(timeout=BROWSER_DEADLINE_MS)


@pytest.fixture(autouse=True)
def _live_server_quiet_before_flush(request):
    """Lets the live server finish what closing the pages sent before the test database is flushed.

    A page that goes away reports its time on task by a beacon (static/js/active-time.js); a beacon still being
    written while pytest-django empties the tables made PostgreSQL abort the flush as a deadlock. Requesting
    transactional_db orders this fixture's teardown after the pages' (they are set up later) and before the flush.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")
    server = request.getfixturevalue("live_server")
    yield
    time.sleep(0.2)  # a beacon leaves the closing page after context.close() returns
    for thread in list(server.thread.httpd._threads):  # socketserver's list of its request threads
        thread.join(timeout=10)


@pytest.fixture
def page(page: Page) -> Page:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.set_default_timeout(BROWSER_DEADLINE_MS)
    return page


@pytest.fixture
def open_as(browser: Browser, live_server):
    """`open_as(user)`: a page logged in as that person, with cookies of its own (several people at once), recording
    CSP violations; the test fails if any page saw one. `open_as(None)`: such a page, logged in as nobody yet."""
    opened = []

    def open_page(user) -> Page:
        context = browser.new_context(accept_downloads=True)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(BROWSER_DEADLINE_MS)
        if user is not None:
            log_in(page, live_server, user)
        opened.append(page)
        return page

    yield open_page
    assert [violation for page in opened for violation in csp_violations(page)] == []
    for page in opened:
        page.context.close()


@pytest.fixture
def start_task_worker(transactional_db, settings, tmp_path):
    """Starts `manage.py db_worker` on the test database when called (`start(VAR=value)`: with more environment
    variables); stops it after the test, and shows its log
    when the test fails.

    Depending on transactional_db, it is stopped before the database is flushed.
    """
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    processes = []
    log_path = tmp_path / "worker.log"

    def start(**more_env: str) -> None:
        # Its IMPORT_UPLOAD_DIR is ours.
        env = environment(SECRET_KEY=settings.SECRET_KEY, ANNOTATOR_DATA_DIR=str(tmp_path), **more_env)
        with log_path.open("wb") as log:
            worker = ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"]
            processes.append(manage(*worker, env=env, stdout=log, stderr=subprocess.STDOUT))

    yield start
    for process in processes:
        stop(process)
    if log_path.exists():
        print(f"The task worker's log:\n{log_path.read_text()}")  # shown by pytest when the test fails
