"""Background work, run by the task worker (`manage.py db_worker`)."""

import contextlib

from django.conf import settings
from django.dispatch import receiver
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished
from django.utils import timezone

from issues.importers.github_api import GitHubAPIError, GitHubClient
from issues.importers.missing_comments import fetch_missing_comments
from issues.importers.run import ImportOptions, ImportService
from issues.models import ImportRun
from issues.uploads import local_files, remove_uploads


@task
def run_import(run_id: int, names: list[str], options: dict) -> None:
    """Import uploaded dump files (names in the upload storage) into a queued ImportRun; then delete the files.

    `options` is `ImportOptions.as_dict()`: task arguments must be JSON.
    """
    run = ImportRun.objects.get(pk=run_id)
    try:
        if run.status != ImportRun.Status.QUEUED:
            return  # already run (a task retried by hand): never import twice
        try:
            import_options = ImportOptions.from_dict(options)
        except LookupError as error:
            run.status, run.error, run.finished_at = ImportRun.Status.FAILED, str(error), timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            return
        with local_files(names) as paths:
            ImportService(run, import_options).import_files(paths)
    finally:
        # The names, sizes and SHA-256 of the files stay on the run; the bytes
        # would only fill the disk (a run is repeated by uploading again).
        remove_uploads(names)


@task
def fetch_comments(run_id: int, study: str) -> None:
    """Fetch from GitHub the comments that imported dumps counted but did not hold, into a queued ImportRun;
    the token and the API's address come from the settings (GITHUB_TOKEN, GITHUB_API_URL)."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status != ImportRun.Status.QUEUED:
        return  # already run: never twice
    client = GitHubClient(base_url=settings.GITHUB_API_URL, token=settings.GITHUB_TOKEN or None)
    # Should GitHub refuse, the run fails with its reason on the page; the comments fetched before are kept.
    with contextlib.suppress(GitHubAPIError):
        fetch_missing_comments(run, client, study=study)


INTERRUPTED = {
    run_import.module_path: "Interrupted: the task worker stopped during the import. The issues it wrote are kept; "
    "upload the files again to complete it (nothing is imported twice).",
    fetch_comments.module_path: "Interrupted: the task worker stopped while fetching comments. Those it fetched "
    "are kept; fetch again to get the rest (none is stored twice).",
}


@receiver(task_finished)
def close_interrupted_import(sender, task_result, **kwargs) -> None:
    """An import task that failed without closing its run — its worker was killed (annotator's db_worker tells)
    — fails the run too, with the reason on its page, instead of leaving it "running" for ever."""
    reason = INTERRUPTED.get(task_result.task.module_path)
    if reason is None or task_result.status != TaskResultStatus.FAILED:
        return
    run_id = task_result.args[0]
    ImportRun.objects.filter(pk=run_id, status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]).update(
        status=ImportRun.Status.FAILED, finished_at=timezone.now(), error=reason
    )
    if task_result.task.module_path == run_import.module_path:
        remove_uploads(task_result.args[1])
