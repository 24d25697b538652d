"""Model raters against a fake OpenAI-compatible endpoint that answers in 200 ms.

Imports a generated dump of 1,000 issues into a fresh database, adds a model rater of three fields (scenario,
component, impact) with k = 5 samples, and times one run (`run_execute` in a manage.py process: wall time, peak
RSS) against tests/fake_model_server.py on 127.0.0.1, which answers every request after 200 ms.

Target (issue 16): the endpoint's own limit, not the app: 15,000 requests × 0.2 s ÷ the requests in flight it
allows (32) = 94 s; the run within 15 % of it, memory ≤ 300 MB.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench import save_results
from bench.imports import DATABASE, admin_url, fresh_database, timed
from tests.fake_model_server import FakeModelServer

ROOT = Path(__file__).resolve().parents[1]
LATENCY = 0.2
SETUP = """
from issues.models import Issue
from llm.models import Endpoint, ModelRater, ModelRun
from studies.codebook import codebook_load, preset
from studies.models import Study
study = Study.objects.create(slug="bench-models", name="Bench models", screening=False)
codebook_load(study, preset("silent-bugs"), screening=False)
study.add_issues(list(Issue.objects.values_list("id", flat=True)))
endpoint = Endpoint.objects.create(name="fake", base_url={url!r}, model="fake", request_budget=10**6,
                                   max_in_flight={in_flight})
rater = ModelRater.objects.create(study=study, endpoint=endpoint, name="fake", samples={k})
rater.fields.set(study.fields.filter(key__in=["scenario", "component", "impact"]))
rater.issues.set(study.study_issues.all())
print(ModelRun.objects.create(rater=rater).pk)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()
    admin = admin_url()
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as workdir, FakeModelServer(latency=LATENCY) as fake:
        fake.defaults = {"Scenario": "Wrong shape", "Component": ["Model"], "Impact": "3"}
        try:
            dump = Path(workdir) / "issues.jsonl"
            print(f"[{args.issues:,} issues] generating and importing …", end=" ", flush=True)
            subprocess.run(
                [sys.executable, "-m", "bench.generate_dump", str(args.issues), "-o", str(dump)],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            env = {**os.environ, "DATABASE_URL": fresh_database(admin)}
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            timed("import_issues", str(dump), env=env)
            setup = SETUP.format(url=fake.base_url, in_flight=args.in_flight, k=args.samples)
            _, _, output = timed("shell", "-c", setup, env=env)
            run_id = int(output.split()[-1])
            print("running …", end=" ", flush=True)
            seconds, rss, output = timed(
                "shell",
                "-c",
                f"from llm.runs import run_execute; r = run_execute({run_id}); print(r.status, r.requests)",
                env=env,
            )
            status, requests = output.split()[-2:]
            print("done")
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    limit = int(requests) * LATENCY / args.in_flight
    result = {
        "issues": args.issues,
        "fields": 3,
        "samples": args.samples,
        "in_flight": args.in_flight,
        "status": status,
        "requests": int(requests),
        "most_in_flight": fake.most_in_flight,
        "run_s": round(seconds, 1),
        "endpoint_limit_s": round(limit, 1),
        "over_limit": round(seconds / limit, 2),
        "peak_rss_mb": round(rss),
    }
    print(
        f"\nmodels: {args.issues:,} issues × 3 fields × k={args.samples}, fake endpoint answering in 200 ms "
        f"(targets: ≤ 1.15 × the endpoint's limit, ≤ 300 MB)"
    )
    print(f"{'requests':>9} {'in flight':>10} {'run s':>7} {'limit s':>8} {'÷ limit':>8} {'peak MB':>8}")
    print(
        f"{result['requests']:>9,} {result['most_in_flight']:>10} {result['run_s']:>7} "
        f"{result['endpoint_limit_s']:>8} {result['over_limit']:>8} {result['peak_rss_mb']:>8}"
    )
    met = result["over_limit"] <= 1.15 and result["peak_rss_mb"] <= 300 and status == "done"
    print("targets met" if met else "targets NOT met")
    save_results("models", [result])


if __name__ == "__main__":
    main()
