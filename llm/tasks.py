"""The model raters' background work, run by the task worker (`manage.py db_worker`)."""

from django.dispatch import receiver
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished
from django.utils import timezone

from llm.models import ModelRun
from llm.runs import run_execute


@task
def run_model_rater(run_id: int) -> None:
    run_execute(run_id)


@receiver(task_finished)
def close_interrupted_run(sender, task_result, **kwargs) -> None:
    """A run whose worker was killed stops with the reason; resuming it asks only what it has not stored."""
    if task_result.task.module_path != run_model_rater.module_path or task_result.status != TaskResultStatus.FAILED:
        return
    ModelRun.objects.filter(
        pk=task_result.args[0], status__in=[ModelRun.Status.QUEUED, ModelRun.Status.RUNNING]
    ).update(
        status=ModelRun.Status.FAILED,
        finished_at=timezone.now(),
        error="Interrupted: the task worker stopped during the run. Its stored answers are kept; resume it.",
    )
