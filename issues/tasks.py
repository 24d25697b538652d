"""Background work, run by the task worker (`manage.py db_worker`)."""

from django.dispatch import receiver
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished
from django.utils import timezone

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


@receiver(task_finished)
def close_interrupted_import(sender, task_result, **kwargs) -> None:
    """An import task that failed without closing its run — its worker was killed (annotator's db_worker tells)
    — fails the run too, with the reason on its page, instead of leaving it "running" for ever."""
    if task_result.task.module_path != run_import.module_path or task_result.status != TaskResultStatus.FAILED:
        return
    run_id, names, _ = task_result.args
    ImportRun.objects.filter(pk=run_id, status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]).update(
        status=ImportRun.Status.FAILED,
        finished_at=timezone.now(),
        error="Interrupted: the task worker stopped during the import. The issues it wrote are kept; "
        "upload the files again to complete it (nothing is imported twice).",
    )
    remove_uploads(names)
