"""Agreement report and labelled-dataset export on a large study.

Builds a fresh database: imports a generated dump of 100,000 issues, makes a
study of all of them with the silent-bugs codebook, has 3 annotators label
10,000 with 6 choice and level fields (random values, agreeing about two times
in three) and sets their final values, then times:
- the agreement report of the 6 fields, without and with 1,000 bootstrap
  replicates (`study_report`, in process: the `agreement` command adds Django's
  start-up, about a second);
- `export_labels` of the 100,000 issues, wide CSV (wall time, peak RSS).

Targets (issue #6): report ≤ 2 s, with bootstrap ≤ 10 s, export ≤ 15 s with flat memory.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import save_results
from bench.imports import admin_url, fresh_database, timed

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench-agreement"
FIELDS = ["scenario", "component", "impact", "root_cause", "reproduced", "rejection_reason"]
SETUP = """
import random
from django.contrib.auth import get_user_model
from django.utils import timezone
from issues.models import Issue
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, FinalValue, Membership, Study
rng = random.Random(0)
study = Study.objects.create(slug={slug!r}, name="Bench agreement", screening=False)
codebook_load(study, preset("silent-bugs"), screening=False)
people = [get_user_model().objects.create_user(name) for name in ("ann", "bob", "cyd")]
for person in people:
    Membership.objects.create(study=study, user=person, role="annotator")
ids = list(Issue.objects.order_by("id").values_list("id", flat=True))
study.add_issues(ids)
labelled = ids[:{labelled}]
now = timezone.now()
assignments = Assignment.objects.bulk_create([
    Assignment(study=study, issue_id=issue, annotator=person, stage="labelling", status="submitted",
               started_at=now, submitted_at=now)
    for issue in labelled for person in people
])
fields = {{field.key: field for field in study.fields.filter(key__in={fields!r}).prefetch_related("choices")}}
choices = {{key: [choice.value for choice in field.choices.all()] for key, field in fields.items()}}

def pick(key, agreed):
    value = agreed if rng.random() < 0.67 else rng.choice(choices[key])
    if fields[key].kind == "ordinal":
        return int(value)
    if fields[key].kind == "multiple":
        return sorted({{value, rng.choice(choices[key])}})
    return value

truth = {{(issue, key): rng.choice(choices[key]) for issue in labelled for key in fields}}
Annotation.objects.bulk_create([
    Annotation(assignment=assignment, field=field, value=pick(key, truth[(assignment.issue_id, key)]))
    for assignment in assignments for key, field in fields.items()
], batch_size=5000)
by_issue = dict(study.study_issues.filter(issue_id__in=labelled).values_list("issue_id", "id"))
FinalValue.objects.bulk_create([
    FinalValue(study_issue_id=by_issue[issue], field=field, value=pick(key, truth[(issue, key)]), set_by=people[0])
    for issue in labelled for key, field in fields.items()
], batch_size=5000)
print(len(assignments), Annotation.objects.count())
"""
REPORT = """
import json, time
from agreement.report import study_report
from studies.models import Study
study = Study.objects.get(slug={slug!r})
started = time.perf_counter()
study_report(study)
plain = time.perf_counter() - started
started = time.perf_counter()
report = study_report(study, bootstrap=1000, seed=0)
boot = time.perf_counter() - started
alpha = {{key: numbers["krippendorff_alpha"] for key, numbers in report["fields"].items()}}
print(json.dumps({{"plain": plain, "bootstrap": boot, "alpha": alpha}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--labelled", type=int, default=10_000)
    args = parser.parse_args()
    url = fresh_database(admin_url())
    env = {**os.environ, "DATABASE_URL": url}
    manage = [sys.executable, "manage.py"]
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as workdir:
        dump = Path(workdir) / "issues.jsonl"
        print(f"Setting up: {args.issues:,} issues, {args.labelled:,} labelled by 3 annotators …", flush=True)
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [sys.executable, "-m", "bench.generate_dump", str(args.issues), "-o", str(dump)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        timed("import_issues", str(dump), env=env)
        setup = SETUP.format(slug=SLUG, labelled=args.labelled, fields=FIELDS)
        subprocess.run([*manage, "shell", "-v0", "-c", setup], cwd=ROOT, env=env, check=True)
        out = subprocess.run(
            [*manage, "shell", "-v0", "-c", REPORT.format(slug=SLUG)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        report = json.loads(out.strip().splitlines()[-1])
        command, _, _ = timed("agreement", "--study", SLUG, "--json", env=env)
        target = Path(workdir) / "labels.csv"
        exported, rss, _ = timed("export_labels", "--study", SLUG, "-o", str(target), env=env)
        with target.open(newline="", encoding="utf-8") as file:
            rows = sum(1 for _ in csv.reader(file)) - 1
    summary = [
        {"measure": "agreement report, 6 fields (in process)", "seconds": round(report["plain"], 2), "target": 2},
        {"measure": "with 1,000 bootstrap replicates", "seconds": round(report["bootstrap"], 2), "target": 10},
        {"measure": "manage.py agreement --json (wall)", "seconds": round(command, 2), "target": ""},
        {
            "measure": f"export_labels wide, {rows:,} rows (wall; peak RSS {rss:.0f} MB)",
            "seconds": round(exported, 2),
            "target": 15,
        },
    ]
    print(
        f"\nagreement and export: {args.labelled:,} issues × 3 annotators × {len(FIELDS)} fields; "
        f"{args.issues:,} issues exported"
    )
    for row in summary:
        print(f"{row['measure']:<60} {row['seconds']:>7.2f} s  target {row['target'] or '–'}")
    print(
        "alpha per field:",
        {key: round(value, 3) if value is not None else None for key, value in report["alpha"].items()},
    )
    save_results("agreement", summary)


if __name__ == "__main__":
    main()
