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
"""

import argparse
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
import urllib.parse
import urllib.request
from pathlib import Path

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

    def timed(self, url: str, data: dict | None = None, headers: dict | None = None) -> float:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + url, body, headers={"Referer": self.base, **(headers or {})})
        started = time.perf_counter()
        with self.opener.open(request) as response:
            response.read()
            assert response.status == 200, (url, response.status)
        return (time.perf_counter() - started) * 1000


def run_client(base: str, number: int, issues: list, largest, seconds: float, results: dict, lock) -> None:
    client = Client(base, f"a{number % 3 + 1}")  # 3 annotators, several tabs each
    rng = random.Random(number)  # a seed per user: users sharing an account do not move in lockstep
    own = {"page": [], "save": [], "list": []}
    time.sleep(rng.uniform(0, THINK[1]))  # users arrive one by one, as with locust's spawn rate
    words = ["model", "shape", "optimizer", "gradient", "saved", "layer", "accuracy", "memory"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        owner, name, number, _ = largest if rng.random() < 0.1 else rng.choice(issues)
        page = f"/studies/{SLUG}/{owner}/{name}/issues/{number}/"
        own["page"].append(client.timed(page))
        time.sleep(rng.uniform(*THINK))
        own["save"].append(client.timed(page + "fields/impact/", {"value": str(rng.randint(1, 4)), "note": "bench"},
                                        {"X-CSRFToken": client.csrf, "HX-Request": "true"}))  # fmt: skip
        time.sleep(rng.uniform(*THINK))
        query = urllib.parse.urlencode({"status": "in_progress", "q": rng.choice(words)})
        own["list"].append(client.timed(f"/studies/{SLUG}/issues/?{query}"))
        time.sleep(rng.uniform(*THINK))
    with lock:
        for name, values in own.items():
            results[name] += values


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=10)
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
        subprocess.run([sys.executable, "manage.py", "generate_dump", str(args.issues), "-o", str(dump)], cwd=ROOT,
                       env=env, check=True, capture_output=True)  # fmt: skip
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
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=server_env,
                   check=True)  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
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
            warmer.timed(page)
            warmer.timed(page + "fields/impact/", {"value": "1"}, {"X-CSRFToken": warmer.csrf, "HX-Request": "true"})
            warmer.timed(f"/studies/{SLUG}/issues/?status=in_progress&q=model")
        results, lock = {"page": [], "save": [], "list": []}, threading.Lock()
        threads = [
            threading.Thread(target=run_client, args=(base, i, issues, largest, args.seconds, results, lock))
            for i in range(args.clients)
        ]
        print(f"Running {args.clients} clients for {args.seconds:.0f} s …", flush=True)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait()
    targets = {"page": 50, "save": 30, "list": 150}
    summary = []
    print(f"\nannotation: {args.clients} clients against gunicorn (2 workers), {args.issues:,} issues imported")
    print(f"{'request':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'target':>7}  ok")
    for name, values in results.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        summary.append({"request": name, "count": len(values), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                        "target_p95_ms": targets[name]})  # fmt: skip
        ok = "yes" if p95 <= targets[name] else "NO"
        print(f"{name:<8} {len(values):>7} {p50:>8.1f} {p95:>8.1f} {targets[name]:>7}  {ok}")
    save_results("annotation", summary)


if __name__ == "__main__":
    main()
