"""django-tasks-db's `db_worker`, made to notice tasks whose worker died (SIGKILL, out of memory, power loss).

django-tasks-db marks a task RUNNING when a worker takes it and only that worker ever changes it again, so a
killed worker leaves it RUNNING for ever (and the import page saying "running"). Here each worker holds a
PostgreSQL advisory lock for as long as its database session lives — the server drops it when the process
dies — and a worker marks FAILED every RUNNING task whose worker's lock is free: when it starts, then every
minute (--check-abandoned-every). Receivers of `task_finished` hear about it as about any other failure
(issues/tasks.py closes the import run).

This app comes before django_tasks_db in INSTALLED_APPS, so this command is the one `db_worker` runs.
"""

import logging
import os
import threading
import time
import zlib

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.tasks.signals import task_finished
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

WORKER_LOCK = 0x7A5C  # the first key of every worker's advisory lock; the second is made from its id


class WorkerLost(Exception):
    """The worker running the task stopped before the task ended."""


class Command(db_worker.Command):
    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--check-abandoned-every",
            type=float,
            default=60,
            metavar="SECONDS",
            help="how often to look for tasks whose worker died (default: %(default)s)",
        )

    def handle(self, *args, worker_id: str, check_abandoned_every: float, **options) -> None:
        os.nice(settings.TASK_WORKER_NICENESS)  # and the processes it starts (rendering) inherit it
        # Before taking our own lock: a task left RUNNING under our id by an earlier process is abandoned too.
        fail_abandoned_tasks()
        connection_created.connect(_lock_for(worker_id), weak=False)
        if connection.connection is not None:
            _take_lock(connection, worker_id)
        checks = threading.Thread(target=_check_abandoned, args=[worker_id, check_abandoned_every], daemon=True)
        checks.start()
        super().handle(*args, worker_id=worker_id, **options)


def fail_abandoned_tasks(*, own_worker_id: str | None = None) -> list[DBTaskResult]:
    """Mark FAILED each RUNNING task whose worker is gone (never those of `own_worker_id`)."""
    with transaction.atomic():
        running = DBTaskResult.objects.running().select_for_update(skip_locked=True)
        abandoned = [task for task in running if task.worker_ids[-1:] != [own_worker_id] and not _is_alive(task)]
        for task in abandoned:
            task.set_failed(
                WorkerLost(f"The task worker stopped while running this task (worker {task.worker_ids[-1]}).")
            )
    for task in abandoned:
        logger.warning("Task %s (%s) failed: its worker %s is gone.", task.id, task.task_path, task.worker_ids[-1])
        try:
            task_result = task.task_result
        except (ImportError, SuspiciousOperation):
            continue  # its code is gone, and so is anyone listening for it
        # As the worker itself says that a task failed; send_robust: one receiver's error must not stop the worker.
        task_finished.send_robust(sender=DatabaseBackend, task_result=task_result)
    return abandoned


def _lock_key(worker_id: str) -> int:
    return zlib.crc32(worker_id.encode()) - 2**31  # PostgreSQL's int4


def _take_lock(database, worker_id: str) -> None:
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [WORKER_LOCK, _lock_key(worker_id)])


def _lock_for(worker_id: str):
    """Each new connection of the thread that runs the tasks (Django reconnects now and then) holds the lock
    again; the checking thread's connection must not wait for it."""

    def take(sender, connection, **kwargs) -> None:
        if threading.current_thread() is threading.main_thread():
            _take_lock(connection, worker_id)

    return take


def _is_alive(task: DBTaskResult) -> bool:
    """Whether a session holds the lock of the task's worker; a free lock is taken and given back at once."""
    key = _lock_key(task.worker_ids[-1])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [WORKER_LOCK, key])
        if not cursor.fetchone()[0]:
            return True
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [WORKER_LOCK, key])
        return False


def _check_abandoned(worker_id: str, seconds: float) -> None:
    """For the workers that die while this one goes on (several workers, one killed)."""
    while True:
        time.sleep(seconds)
        try:
            fail_abandoned_tasks(own_worker_id=worker_id)
        except DatabaseError as error:  # the database restarting: the next round tries again
            logger.warning("Could not check for abandoned tasks: %s", error)
        finally:
            connection.close()  # this thread's own connection
