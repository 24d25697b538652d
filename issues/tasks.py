"""Background work, run by the task worker (`manage.py db_worker`)."""

from pathlib import Path

from django.tasks import task
from django.utils import timezone

from issues.importers.run import ImportOptions, ImportService
from issues.models import ImportRun
from issues.uploads import remove_uploaded_files


@task
def run_import(run_id: int, paths: list[str], options: dict) -> None:
    """Import uploaded dump files into a queued ImportRun; the files are deleted afterwards.

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
        ImportService(run, import_options).import_files([Path(path) for path in paths])
    finally:
        # The names, sizes and SHA-256 of the files stay on the run; the bytes
        # would only fill the disk (a run is repeated by uploading again).
        remove_uploaded_files(paths)
