"""`make run`'s command, as a real process tree: up, serving, and stopped by Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.helpers import Output, free_port, postmaster_running

ROOT = Path(__file__).resolve().parents[1]


def ctrl_c(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)  # a terminal signals the whole process group


def supervisor_stop(process: subprocess.Popen) -> None:
    process.terminate()  # systemd, Docker, … signal only the process they started


@pytest.mark.parametrize("stop", [ctrl_c, supervisor_stop])
def test_it_serves_the_demo_and_stopping_it_stops_everything(tmp_path, stop):
    port = free_port()
    home = tmp_path / "home"  # where gunicorn would put its one control socket per user (no XDG_RUNTIME_DIR here)
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    env |= {
        "ANNOTATOR_DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "SECRET_KEY": "test-only-" + "s" * 50,
        "ANNOTATOR_DEMO": "1",
        "PYTHONUNBUFFERED": "1",  # the banner must reach the pipe as soon as it is printed
    }
    with subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
    ) as server:
        output = Output(server)
        try:
            # Migrating a fresh database and loading the demo come first: a minute on a loaded machine.
            banner = output.wait_for("Press Ctrl-C", timeout=300)
            assert f"annotator is running at http://127.0.0.1:{port}/" in banner
            assert "alice" in banner and "annotate-demo" in banner
            children = psutil.Process(server.pid).children(recursive=True)
            assert len(children) >= 3  # gunicorn master and workers, the task worker
            # Nothing shared with another instance on the host, which would take it over or delete it on stopping.
            assert list(home.rglob("*.ctl")) == []

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=60) as response:
                login_page = response.read().decode()
            assert "Demo accounts" in login_page
            stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login_page)[1]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{stylesheet}", timeout=60) as response:
                assert response.status == 200
                assert "immutable" in response.headers["Cache-Control"]

            stop(server)
            # Deadlines against a hang, not speed limits: serve gives its children time to finish their work.
            server.wait(timeout=120)
            said = output.rest(timeout=60)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)

    assert server.returncode == 0, said
    assert "Stopped." in said
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)
    assert not postmaster_running(tmp_path / "data" / "postgres")
