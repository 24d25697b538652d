"""`import_issues` killed with SIGKILL at random moments, then run again: exactly the dump's issues and comments."""

import json
import random
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest

from issues.models import ImportRun, Issue, IssueComment
from tests.helpers import environment, manage, run_command, wait_until, write_dump

pytestmark = pytest.mark.django_db(transaction=True)


def issues_in(dump: Path) -> dict[int, tuple[str, set[int]]]:
    """{number: (title, comment ids)} of the dump's issues (pull requests are left out by default)."""
    issues = {}
    with dump.open(encoding="utf-8") as lines:
        for line in lines:
            issue = json.loads(line)
            if "/pull/" not in issue["html_url"]:
                issues[issue["number"]] = (issue["title"], {comment["id"] for comment in issue["comment_data"]})
    return issues


def stored() -> dict[int, tuple[str, set[int]]]:
    comments = defaultdict(set)
    for number, github_id in IssueComment.objects.values_list("issue__number", "github_id"):
        comments[number].add(github_id)
    return {number: (title, comments[number]) for number, title in Issue.objects.values_list("number", "title")}


def kill_when(process: subprocess.Popen, fraction: float, pause: float) -> None:
    """SIGKILL the import once it has read `fraction` of the dump, then `pause` seconds more."""
    runs_before = set(ImportRun.objects.values_list("pk", flat=True))

    def far_enough() -> bool:
        run = ImportRun.objects.exclude(pk__in=runs_before).first()
        return run is not None and run.bytes_total and run.bytes_read >= fraction * run.bytes_total

    wait_until(far_enough, what=f"the import reading {fraction:.0%} of the dump")
    time.sleep(pause)  # not a wait for anything: the kill lands at a random moment, which is the point
    assert process.poll() is None, "still importing when killed"
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_an_import_killed_at_random_moments_then_run_again_stores_exactly_the_dump(tmp_path):
    dump = write_dump(tmp_path / "issues.jsonl", 5000, seed=11)
    expected = issues_in(dump)
    env = environment()
    rng = random.Random(2026)

    for fifth in range(3):  # a random moment in each of the first three fifths of the dump
        fraction = rng.uniform(0.05 + 0.2 * fifth, 0.2 + 0.2 * fifth)
        process = manage("import_issues", str(dump), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_when(process, fraction, pause=rng.uniform(0, 0.1))

        partial = stored()
        assert partial.items() <= expected.items(), "every stored issue is whole: its title and all its comments"
    stored_before = len(partial)
    assert 0 < stored_before < len(expected)

    finished = run_command("import_issues", str(dump), env=env)

    assert finished.returncode == 0, finished.stderr
    assert stored() == expected
    assert Issue.objects.count() == len(expected)
    assert IssueComment.objects.count() == sum(len(comments) for _, comments in expected.values())
    *killed, last = ImportRun.objects.order_by("pk")
    interrupted = ("failed", "Interrupted: the process stopped before the end.")  # as the next run found them
    assert [(run.status, run.error) for run in killed] == [interrupted] * 3
    assert last.status == ImportRun.Status.DONE
    assert (last.counts["created"], last.counts["unchanged"]) == (len(expected) - stored_before, stored_before)
