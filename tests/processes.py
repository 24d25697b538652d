"""Real processes for the fault tests: commands, the task worker and gunicorn, on a database of our choosing."""

import io
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from django.test import Client

from bench.generate_dump import main as generate_dump
from tests.test_import_behaviour import database_url_for_subprocess
from tests.test_serve import free_port

ROOT = Path(__file__).resolve().parents[1]


def environment(database_url: str | None = None, **more: str) -> dict[str, str]:
    """The environment of a subprocess working on the test database (or on `database_url`)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url or database_url_for_subprocess(),
        "PYTHONUNBUFFERED": "1",
        **more,
    }


def manage(*args: str, env: dict[str, str], **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, **popen)


def run_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def write_dump(path: Path, issues: int, *, seed: int) -> Path:
    """A JSON Lines dump of synthetic issues (about two comments each), as `bench.generate_dump` writes it."""
    with redirect_stdout(io.StringIO()):
        generate_dump([str(issues), "-o", str(path), "--comments", "2", "--seed", str(seed)])
    return path


def wait_for(condition, *, timeout: float, every: float = 0.02, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def stop(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """Stop as a supervisor would (SIGTERM), and kill what does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def at_once(calls) -> list:
    """Run the calls in threads of their own, released together; their results, in order."""
    start = threading.Barrier(len(calls), timeout=60)

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class Gunicorn:
    """The web app served by gunicorn as `serve` runs it, in separate worker processes."""

    def __init__(self, tmp_path: Path, env: dict[str, str], workers: int = 2):
        static_root = tmp_path / "static"
        env = {**env, "STATIC_ROOT": str(static_root)}
        # Pages link their stylesheet through the manifest that collectstatic writes.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (tmp_path / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "annotator.wsgi",
                "--bind",
                self.url.removeprefix("http://"),
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, timeout=30, every=0.1, what="gunicorn answering")

    def _answers(self) -> bool:
        assert self.process.poll() is None, "gunicorn stopped"
        try:
            with urllib.request.urlopen(self.url + "/accounts/login/", timeout=2):
                return True
        except OSError:
            return False

    def close(self) -> None:
        stop(self.process)
        self.log.close()


class Browser:
    """One user's session against a real server, as a separate browser: its cookies; redirects not followed."""

    def __init__(self, base_url: str, user=None):
        self.base_url = base_url
        # A CSRF cookie of our own, sent back in the header as htmx does; the server may set another.
        self.cookies = {"csrftoken": secrets.token_hex(16)}
        if user is not None:  # logged in already, as after the login page
            client = Client()
            client.force_login(user)
            self.cookies["sessionid"] = client.cookies["sessionid"].value

    def log_in(self, username: str, password: str) -> None:
        response = self.post("/accounts/login/", {"username": username, "password": password})
        assert response.status == 302, f"could not log in as {username}: {response.status}"

    def get(self, path: str, **headers) -> "Response":
        return self._send(urllib.request.Request(self.base_url + path, headers=headers))

    def post(self, path: str, data: dict, **headers) -> "Response":
        body = urllib.parse.urlencode(data, doseq=True).encode()
        headers = {"X-CSRFToken": self.cookies["csrftoken"], **headers}
        return self._send(urllib.request.Request(self.base_url + path, body, headers=headers))

    def _send(self, request: urllib.request.Request) -> "Response":
        request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        started = time.monotonic()
        try:
            response = _opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name] = value
            return Response(response.status, response.read().decode(), time.monotonic() - started, response.headers)


@dataclass
class Response:
    status: int
    body: str = field(repr=False)
    seconds: float
    headers: Message = field(repr=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)
