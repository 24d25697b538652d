import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from annotator.demo import DEMO_PASSWORD, database_is_empty, demo_logins


class Command(BaseCommand):
    help = (
        "Run annotator on this machine: migrate, load the demo into an empty database (demo mode), "
        "then serve the web app (gunicorn) and the task worker until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")

    def handle(self, *args, host: str, port: int, workers: int, **options):
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if settings.DEMO_MODE and database_is_empty():
            call_command("load_demo", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)

        url = f"http://{host}:{port}/"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "annotator.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
                "--timeout",
                "600",  # uploads of large dumps take a while
                # Its control socket is one per user (~/.gunicorn/gunicorn.ctl): a second instance on the host would
                # take it over, and stopping either would delete it. We never use it.
                "--no-control-socket",
            ],
            env=env,
        )
        worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload"], env=env)
        children = [web, worker]
        # Started in the background by a script, we would inherit an ignored SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, self._forward_sigterm(children))
        try:
            self._wait_until_up(url, children)
            self._print_welcome(url)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise CommandError("The web server or the task worker stopped; see the messages above.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop(children)
        # The embedded server, if manage.py started it for us, stops as we exit (unless a cron job still uses it).
        self.stdout.write("Stopped.")

    def _wait_until_up(self, url: str, children: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise CommandError(f"Could not start; is something else listening on {url}?")
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise CommandError(f"The web server did not answer on {url} within 60 seconds.")

    def _print_welcome(self, url: str) -> None:
        lines = ["", f"annotator is running at {url}"]
        if settings.DEMO_MODE:
            lines.append(f"Demo log-ins (password: {DEMO_PASSWORD}):")
            lines += [f"  {username:<8} {description}" for username, description in demo_logins()]
        else:
            lines.append("Create an admin with: .venv/bin/python manage.py createsuperuser")
        lines += ["Press Ctrl-C to stop the server, the task worker and the database.", ""]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    @staticmethod
    def _forward_sigterm(children: list[subprocess.Popen]):
        """Ctrl-C reaches every process of the terminal, SIGTERM (from a supervisor)
        only us: pass it on, then stop as for Ctrl-C."""

        def handler(signum, frame):
            for child in children:
                child.send_signal(signal.SIGTERM)
            raise KeyboardInterrupt

        return handler

    @staticmethod
    def _stop(children: list[subprocess.Popen]) -> None:
        # After Ctrl-C the children are already shutting down, and a second signal
        # would make them quit at once, cutting short a request or a task. So wait
        # first, and hurry only those still running (as when only we got the signal).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not _all_exit(children, timeout=10):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            if not _all_exit(children, timeout=10):
                for child in children:
                    child.kill()
                _all_exit(children, timeout=None)


def _all_exit(children: list[subprocess.Popen], timeout: float | None) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
    return True
