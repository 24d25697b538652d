"""The embedded server: started on demand, stopped by its last user."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from annotator.embedded_postgres import DATABASE_NAME, forget_dead_users

ROOT = Path(__file__).resolve().parents[1]


def postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped postmaster can linger as a zombie in a container without init.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_a_management_command_starts_the_server_and_its_exit_stops_it(tmp_path):
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT current_database()')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    env |= {"ANNOTATOR_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-only-" + "s" * 50}

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == DATABASE_NAME
    assert (tmp_path / "postgres" / "PG_VERSION").read_text().strip() == "18"
    assert not postmaster_running(tmp_path / "postgres")


def test_it_forgets_processes_that_died_without_saying_so(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file = tmp_path / "postgres" / ".handle_pids.json"
    pid_file.parent.mkdir()
    pid_file.write_text(json.dumps([os.getpid(), dead.pid]))

    forget_dead_users(tmp_path)

    assert json.loads(pid_file.read_text()) == [os.getpid()]


def test_the_test_suite_itself_runs_on_postgresql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert psycopg.__version__.startswith("3.")
