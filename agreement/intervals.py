"""95 % bootstrap intervals for the agreement page: computed once per state of the annotations, and by the
task worker when the study is large, while the page shows the point estimates.
"""

from datetime import datetime

from django.db.models import Count, Max
from django.dispatch import receiver
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished

from agreement.models import Intervals
from agreement.report import study_report
from studies.models import Annotation, Assignment, Study

REPLICATES = 1000
SEED = 0
# Below this many annotations the page computes the intervals itself (well under a second).
INLINE = 5_000


def fingerprint(study: Study) -> str:
    """Changes whenever an annotation of the study is saved, deleted, or its assignment submitted."""
    annotations = Annotation.objects.filter(assignment__study=study).aggregate(n=Count("id"), last=Max("updated_at"))
    submitted = Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).aggregate(
        n=Count("id"), last=Max("submitted_at")
    )
    return f"{annotations['n']}:{annotations['last']}:{submitted['n']}:{submitted['last']}"


def intervals_for(study: Study, filters: str, restrictions: dict) -> dict | None:
    """{field: {coefficient: [low, high]}}, or None while the task worker computes them."""
    current = fingerprint(study)
    stored = Intervals.objects.filter(study=study, filters=filters).first()
    if stored is not None and stored.fingerprint == current and stored.data is not None:
        return stored.data
    if stored is not None and stored.fingerprint == current:
        return None  # being computed
    Intervals.objects.update_or_create(study=study, filters=filters, defaults={"fingerprint": current, "data": None})
    if Annotation.objects.filter(assignment__study=study).count() <= INLINE:
        return compute(study, filters, restrictions, current)
    compute_intervals.enqueue(study.pk, filters, _as_json(restrictions), current)
    return None


def compute(study: Study, filters: str, restrictions: dict, current: str) -> dict:
    report = study_report(study, bootstrap=REPLICATES, seed=SEED, **restrictions)
    data = {key: numbers["ci95"] for key, numbers in report["fields"].items()}
    Intervals.objects.filter(study=study, filters=filters, fingerprint=current).update(data=data)
    return data


@task
def compute_intervals(study_id: int, filters: str, restrictions: dict, current: str) -> None:
    study = Study.objects.filter(pk=study_id).first()
    if study is not None:
        compute(study, filters, _from_json(restrictions), current)


@receiver(task_finished)
def retry_failed_intervals(sender, task_result, **kwargs) -> None:
    """Intervals whose task failed (an error, a killed worker) are forgotten, so the next visit asks again instead
    of saying "being computed" for ever."""
    if task_result.task.module_path != compute_intervals.module_path or task_result.status != TaskResultStatus.FAILED:
        return
    study_id, filters, _, current = task_result.args
    Intervals.objects.filter(study_id=study_id, filters=filters, fingerprint=current, data__isnull=True).delete()


def _as_json(restrictions: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in restrictions.items()}


def _from_json(restrictions: dict) -> dict:
    return {
        key: datetime.fromisoformat(value) if key in ("since", "until") and value else value
        for key, value in restrictions.items()
    }
