"""The task worker killed in the middle of a task: the task ends visibly failed, never "running" for ever."""

import os
import signal
import subprocess
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from issues.importers.run import IMPORT_LOCK
from issues.models import ImportRun, Issue
from tests.helpers import environment, manage, stop, upload, wait_until, write_dump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def start_worker(settings, tmp_path):
    """`manage.py db_worker` as `serve` starts it, reading uploads from where the test's web requests put them."""
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    workers = []

    def start(*options: str) -> subprocess.Popen:
        env = environment(ANNOTATOR_DATA_DIR=str(tmp_path), SECRET_KEY="test-only-" + "w" * 50)
        with (tmp_path / f"worker-{len(workers)}.log").open("w") as log:
            worker = manage(
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
                *options,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        stop(worker)


def test_a_worker_killed_during_an_import_leaves_it_failed_with_the_reason_once_a_worker_starts(
    admin_client, start_worker, tmp_path
):
    dump = write_dump(tmp_path / "issues.jsonl", 6000, seed=3)
    upload(admin_client, dump)
    run = ImportRun.objects.get()
    task = DBTaskResult.objects.get()
    worker = start_worker()

    wait_until(lambda: Issue.objects.exists(), what="the import writing its first batch")
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    task.refresh_from_db()
    run.refresh_from_db()
    assert 0 < Issue.objects.count() < 6000, "killed in the middle of the import"
    assert (task.status, run.status) == ("RUNNING", "running"), "nobody knows yet that the worker is gone"

    start_worker()

    run = wait_until(lambda: ImportRun.objects.exclude(status="running").first(), what="the import leaving 'running'")
    assert run.status == ImportRun.Status.FAILED
    assert run.finished_at is not None
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert "The task worker stopped while running this task" in task.traceback
    page = admin_client.get(reverse("issues:import_detail", args=[run.pk])).content.decode()
    assert "status-failed" in page
    assert "Interrupted: the task worker stopped during the import" in page
    assert not any((tmp_path / "uploads").rglob("*.jsonl")), "the uploaded file is deleted, as after any run"


def test_a_running_worker_leaves_the_task_of_a_live_worker_alone_and_fails_it_once_that_worker_dies(
    admin_client, start_worker, tmp_path
):
    upload(admin_client, write_dump(tmp_path / "issues.jsonl", 50, seed=4))
    with connection.cursor() as cursor:  # the import waits for this lock: its task stays RUNNING as long as we like
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
    try:
        importer = start_worker()
        wait_until(lambda: DBTaskResult.objects.running().exists(), what="the import starting")
        # This one takes no task (another queue) and looks for abandoned ones every half second.
        bystander = start_worker("--queue-name", "elsewhere", "--check-abandoned-every", "0.5")
        # It has looked for abandoned tasks once before it says it is starting.
        wait_until(
            lambda: "Starting worker" in (tmp_path / "worker-1.log").read_text(), what="the second worker starting"
        )
        # Not a wait for anything: time for a few more of its rounds, any of which would wrongly fail the task of
        # the live worker. Fewer rounds on a slow machine can only let the test pass, never fail it.
        time.sleep(2)

        assert DBTaskResult.objects.get().status == "RUNNING", "its worker is alive"

        importer.send_signal(signal.SIGKILL)
        importer.wait()
    finally:
        # A killed client's server session finishes its statement (here, waiting for the lock) before it ends.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])

    run = wait_until(lambda: ImportRun.objects.filter(status="failed").first(), what="the bystander failing it")
    assert run.error.startswith("Interrupted: the task worker stopped")
    task = DBTaskResult.objects.get()
    assert (task.status, len(task.worker_ids)) == ("FAILED", 1), "run by the killed worker only"
    assert bystander.poll() is None


def test_the_worker_yields_the_cores_to_the_web_server(start_worker):
    """Imports, rendering and indexing run at a lower priority than the pages people are waiting for."""
    worker = start_worker()

    wait_until(
        lambda: os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10),
        what="the worker lowering its priority by 10",
    )
