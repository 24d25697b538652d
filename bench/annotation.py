"""Annotation page, field save and issue list under 10 concurrent clients, with 100,000 issues imported.

Builds a fresh database: imports a generated dump of 100,000 issues, builds
the search index, creates a study of 10,000 of them (silent-bugs codebook,
3 annotators, every issue assigned to all 3), renders its bodies ahead as the
task worker does, then serves it with gunicorn
(2 workers, as `make run`), warms it up with a few requests, and runs
10 users for --seconds, arriving over the first 1.5 s: each opens
annotation pages (one in ten the study's largest body), saves a field, and
loads the issue list with a filter and a full-text query, pausing 0.5–1.5 s
between actions as a person does (`--think 0` turns the pauses off).

Targets (issue #4): page p95 ≤ 50 ms, save p95 ≤ 30 ms, list p95 ≤ 150 ms.
bench/load.py runs the same with 20 users for 10 minutes (issue #7).

Every request is kept (bench/results/<name>-requests.csv), and the memory of
the gunicorn processes and of the PostgreSQL server's every 5 s
(bench/results/<name>-memory.csv). A failed request is counted, not fatal.
"""

import argparse
import contextlib
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

from bench import save_results
from bench.imports import admin_url, fresh_database, timed

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench-study"
# Seconds a user pauses between two actions, as locust's `between(0.5, 1.5)`: users, not a flood.
THINK = (0.5, 1.5)
PASSWORD = "bench-password-not-secret"
SETUP = f"""
from django.contrib.auth import get_user_model
from issues.models import Issue
from studies.models import Study
User = get_user_model()
for name in ("a1", "a2", "a3"):
    User.objects.create_user(name, password={PASSWORD!r})
study = Study.objects.get(slug={SLUG!r})
ids = list(Issue.objects.filter(is_pull_request=False).order_by("id").values_list("id", flat=True)[:10000])
study.add_issues(ids)
"""
PATHS = """
from django.db.models.functions import Length
from issues.models import Issue
from studies.models import Study
study = Study.objects.get(slug={slug!r})
issues = study.issues.select_related("repository").annotate(size=Length("body"))
largest = issues.order_by("-size").first()
print(largest.repository.owner, largest.repository.name, largest.number, largest.size)
for issue in issues.order_by("?")[:300]:
    print(issue.repository.owner, issue.repository.name, issue.number, issue.size)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One logged-in browser: a cookie jar, the CSRF token, and the latencies it measured."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        login = self.opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)[1]
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        self.opener.open(urllib.request.Request(f"{base}/accounts/login/", data.encode(), headers={"Referer": base}))
        self.csrf = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def timed(self, url: str, data: dict | None = None, headers: dict | None = None) -> tuple[float, int, str]:
        """Milliseconds, HTTP status (0: no answer) and the page."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + url, body, headers={"Referer": self.base, **(headers or {})})
        started, text = time.perf_counter(), ""
        try:
            with self.opener.open(request, timeout=30) as response:
                text = response.read().decode("utf-8", errors="replace")
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        return (time.perf_counter() - started) * 1000, status, text


def run_client(
    base: str, number: int, issues: list, largest, seconds: float, requests: list, started: float, stop=None
) -> None:
    user = f"a{number % 3 + 1}"  # 3 annotators, several tabs each
    client = Client(base, user)
    rng = random.Random(number)  # a seed per user: users sharing an account do not move in lockstep
    time.sleep(rng.uniform(0, THINK[1]))  # users arrive one by one, as with locust's spawn rate
    words = ["model", "shape", "optimizer", "gradient", "saved", "layer", "accuracy", "memory"]
    deadline = time.monotonic() + seconds

    def act(kind: str, url: str, data=None, headers=None, largest_body=False) -> str:
        at = time.monotonic() - started
        ms, status, text = client.timed(url, data, headers)
        # list.append is atomic: the clients share one list.
        requests.append(
            {
                "t_s": round(at, 3),
                "client": number,
                "user": user,
                "request": kind,
                "largest_body": largest_body,
                "ms": round(ms, 2),
                "status": status,
            }
        )
        time.sleep(rng.uniform(*THINK))
        return text

    while time.monotonic() < deadline and not (stop and stop.is_set()):
        largest_body = rng.random() < 0.1
        owner, name, number_, _ = largest if largest_body else rng.choice(issues)
        page = f"/studies/{SLUG}/{owner}/{name}/issues/{number_}/"
        shown = re.search(r'id="version-impact" value="(\d+)"', act("page", page, largest_body=largest_body))
        act(
            "save",
            page + "fields/impact/",
            # As the page sends it: with the version it shows (another tab of the same user may be newer: a 409).
            {"value": str(rng.randint(1, 4)), "note": "bench", "version": shown[1] if shown else "0"},
            {"X-CSRFToken": client.csrf, "HX-Request": "true"},
        )
        query = urllib.parse.urlencode({"status": "in_progress", "q": rng.choice(words)})
        act("list", f"/studies/{SLUG}/issues/?{query}")


def postmaster_pid(url: str) -> int:
    """The PostgreSQL server's main process (on this machine: the embedded server, or a local one)."""
    with psycopg.connect(url) as connection:
        data_directory = connection.execute("SHOW data_directory").fetchone()[0]
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def sample_memory(server_pid: int, database_pid: int, stop: threading.Event, samples: list, started: float) -> None:
    """Every 5 s, the resident memory of gunicorn's master and workers and of the PostgreSQL server's processes."""
    import psutil

    while not stop.wait(5):
        at = round(time.monotonic() - started, 1)
        try:
            master = psutil.Process(server_pid)
            processes = [("gunicorn master", master)]
            processes += [(f"gunicorn worker {p.pid}", p) for p in master.children()]
            postmaster = psutil.Process(database_pid)
            postgres = [postmaster, *postmaster.children()]
        except psutil.NoSuchProcess:
            return
        for label, process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                samples.append({"t_s": at, "process": label, "rss_mb": round(process.memory_info().rss / 2**20, 1)})
        total = 0
        for process in postgres:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        # Backends share the buffer cache, so the sum counts it more than once: watch its trend, not its size.
        samples.append({"t_s": at, "process": "postgres (sum)", "rss_mb": round(total / 2**20, 1)})


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else values[0]


TARGETS = {"page": 50, "save": 30, "list": 150}  # p95, ms (issue #4)


def main(
    title: str = "annotation", clients: int = 10, seconds: float = 60, targets: dict = TARGETS, during_import=True
) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--clients", type=int, default=clients)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between actions, seconds")
    args = parser.parse_args()
    global THINK
    THINK = (args.think / 2, args.think * 1.5)
    admin = admin_url()
    url = fresh_database(admin)
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as workdir:
        dump = Path(workdir) / "issues.jsonl"
        print(f"Setting up: {args.issues:,} issues …", flush=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [sys.executable, "-m", "bench.generate_dump", str(args.issues), "-o", str(dump)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        imported, _, _ = timed("import_issues", str(dump), env=env)
        indexed, _, _ = timed("index_issues", env=env)
        print(f"  imported in {imported:.1f} s, search index built in {indexed:.1f} s", flush=True)
    commands = [
        ["create_study", SLUG, "--name", "Bench", "--preset", "silent-bugs", "--no-screening"],
        ["shell", "-v0", "-c", SETUP],
        ["add_members", SLUG, "a1", "a2", "a3", "--role", "annotator"],
        ["assign", SLUG, "--per-issue", "3"],
    ]
    for command in commands:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    # What the task worker does after issues are added to a study.
    rendered, _, _ = timed("render_issues", env=env)
    print(f"  bodies and comments of the study rendered ahead in {rendered:.1f} s", flush=True)
    paths = [sys.executable, "manage.py", "shell", "-v0", "-c", PATHS.format(slug=SLUG)]
    lines = subprocess.run(paths, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split("\n")
    rows = [line.split() for line in lines if line.strip()]
    largest, issues = rows[0], rows[1:]
    print(f"  study of 10,000 issues, 3 annotators; largest body {int(largest[3]):,} characters", flush=True)

    port = free_port()
    static = tempfile.mkdtemp(prefix="annotator-static-")
    server_env = {**env, "STATIC_ROOT": static}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=server_env, check=True
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "annotator.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        # Each worker's first requests import and compile what it needs: a server that has just started.
        # A few requests of each kind first (bodies are not rendered by them: render_issues did that).
        warmer = Client(base, "a1")
        for owner, name, number, _ in [largest, *issues[:10]]:
            page = f"/studies/{SLUG}/{owner}/{name}/issues/{number}/"
            shown = re.search(r'id="version-impact" value="(\d+)"', warmer.timed(page)[2])
            data = {"value": "1", "version": shown[1] if shown else "0"}
            warmer.timed(page + "fields/impact/", data, {"X-CSRFToken": warmer.csrf, "HX-Request": "true"})
            warmer.timed(f"/studies/{SLUG}/issues/?status=in_progress&q=model")
        requests, memory, stop = [], [], threading.Event()
        started = time.monotonic()
        threads = [
            threading.Thread(target=run_client, args=(base, i, issues, largest, args.seconds, requests, started))
            for i in range(args.clients)
        ]
        sampler = threading.Thread(target=sample_memory, args=(server.pid, postmaster_pid(url), stop, memory, started))
        print(f"Running {args.clients} clients for {args.seconds:.0f} s …", flush=True)
        for thread in [*threads, sampler]:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        sampler.join()
        during = during_an_import(base, env, args, issues, largest) if during_import else None
    finally:
        server.terminate()
        server.wait()
    report(title, args, requests, memory, targets)
    if during:
        report_during_import(title, *during)


# An upload as the Imports page queues it: the file in the upload storage, a queued run, the task.
UPLOAD = """
from pathlib import Path
from django.core.files import File
from issues.models import ImportRun
from issues.tasks import run_import
from issues.uploads import upload_storage
path = Path({path!r})
with path.open("rb") as file:
    name = upload_storage().save("bench/" + path.name, File(file))
options = {{"selection": {{}}}}
files = [{{"name": path.name, "size": path.stat().st_size}}]
run = ImportRun.objects.create(source=ImportRun.Source.UPLOAD, files=files, options=options)
run_import.enqueue(run.pk, [name], options)
print(run.pk)
"""


def during_an_import(base: str, env: dict, args, issues: list, largest) -> tuple[list[dict], float, float, int]:
    """The same users while another dump of as many issues (another repository), uploaded, is imported by the
    task worker, which then builds their search index: their requests, the seconds to the end of the import and
    to the end of the worker's work (issue 18: the pages stay responsive while the import uses both cores)."""
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as workdir:
        dump = Path(workdir) / "more.jsonl"
        generate = [sys.executable, "-m", "bench.generate_dump", str(args.issues), "-o", str(dump), "--repo"]
        subprocess.run([*generate, "bench/during-import"], cwd=ROOT, check=True, capture_output=True)
        shell = [sys.executable, "manage.py", "shell", "-v0", "-c", UPLOAD.format(path=str(dump))]
        run_id = int(subprocess.run(shell, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout)
    print(f"The task worker imports {args.issues:,} more issues with the {args.clients} clients at work …", flush=True)
    requests, started = [], time.monotonic()
    # As `make run` starts it, but --batch: it stops when no task is left.
    command = ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2", "--batch"]
    worker = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The clients stop a little after the worker: what counts is what they met while it ran.
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_client, args=(base, i, issues, largest, 3600, requests, started, stop))
        for i in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        while connection.execute("SELECT status FROM issues_importrun WHERE id = %s", [run_id]).fetchone()[0] in {
            "queued",
            "running",
        }:
            time.sleep(0.2)
    imported = time.monotonic() - started
    worker.wait()
    worked = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    return [row for row in list(requests) if row["t_s"] <= worked], imported, worked, args.issues


def report_during_import(name: str, requests: list[dict], imported: float, worked: float, count: int) -> None:
    print(
        f"\n{name}, while the task worker imports {count:,} more issues ({imported:.1f} s), "
        f"then indexes them ({worked - imported:.1f} s):"
    )
    print(f"{'request':<8} {'window':<7} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    summary = []
    for window, start, end in (("import", 0, imported), ("index", imported, worked)):
        for kind in ("page", "save", "list"):
            rows = [row for row in requests if row["request"] == kind and start <= row["t_s"] < end]
            values = [row["ms"] for row in rows if row["status"] == 200]
            failed = len(rows) - len(values)
            if not values:
                continue
            p50, p95, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
            summary.append(
                {"window": window, "request": kind, "count": len(values), "errors": failed, "p95_ms": round(p95, 1)}
            )
            print(f"{kind:<8} {window:<7} {len(values):>7} {failed:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    save_results(f"{name}-during-import", summary)
    save_results(f"{name}-during-import-requests", requests)


def report(name: str, args, requests: list[dict], memory: list[dict], targets: dict) -> None:
    summary = []
    errors = [row for row in requests if row["status"] != 200]
    print(
        f"\n{name}: {args.clients} clients for {args.seconds:.0f} s against gunicorn (2 workers), "
        f"{args.issues:,} issues imported"
    )
    print(f"{'request':<8} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'target':>7}  ok")
    for kind, target in targets.items():
        values = [row["ms"] for row in requests if row["request"] == kind and row["status"] == 200]
        failed = sum(1 for row in errors if row["request"] == kind)
        p50, p95, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
        summary.append(
            {
                "request": kind,
                "count": len(values),
                "errors": failed,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "p99_ms": round(p99, 1),
                "target_p95_ms": target,
            }
        )
        ok = "yes" if (target is None or p95 <= target) and not failed else "NO"
        shown = "–" if target is None else target
        print(f"{kind:<8} {len(values):>7} {failed:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {shown:>7}  {ok}")
    if errors:
        print(f"Errors: {len(errors)}; statuses {sorted({row['status'] for row in errors})}")
    # Memory: the median of the first and of the last minute of samples, per process.
    print(f"\n{'process':<24} {'first min MB':>13} {'last min MB':>12} {'peak MB':>8} {'growth':>7}")
    end = max((row["t_s"] for row in memory), default=0)
    for process in sorted({row["process"] for row in memory}):
        rows = [row for row in memory if row["process"] == process]
        first = statistics.median([row["rss_mb"] for row in rows if row["t_s"] <= 60] or [rows[0]["rss_mb"]])
        last = statistics.median([row["rss_mb"] for row in rows if row["t_s"] >= end - 60] or [rows[-1]["rss_mb"]])
        peak = max(row["rss_mb"] for row in rows)
        print(f"{process:<24} {first:>13.1f} {last:>12.1f} {peak:>8.1f} {(last - first) / first:>+7.1%}")
    save_results(name, summary)
    save_results(f"{name}-requests", requests)
    save_results(f"{name}-memory", memory)


if __name__ == "__main__":
    main()
