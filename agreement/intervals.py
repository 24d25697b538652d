"""95 % bootstrap intervals for the agreement page: computed once per state of the annotations, and by the
task worker when the study is large, while the page shows the point estimates.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.dispatch import receiver
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished

from agreement.models import Intervals
from agreement.report import study_report
from studies.access import StudyAccess
from studies.models import Annotation, Assignment, Study

REPLICATES = 1000
SEED = 0
# Below this many annotations the page computes the intervals itself (well under a second).
INLINE = 5_000
HIDDEN = "&hidden="  # how StudyAccess.intervals_key() starts


def fingerprint(study: Study) -> str:
    """Changes whenever an annotation of the study is saved, deleted, or its assignment submitted."""
    annotations = Annotation.objects.filter(assignment__study=study).aggregate(n=Count("id"), last=Max("updated_at"))
    submitted = Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).aggregate(
        n=Count("id"), last=Max("submitted_at")
    )
    return f"{annotations['n']}:{annotations['last']}:{submitted['n']}:{submitted['last']}"


def intervals_for(access: StudyAccess, filters: str, restrictions: dict) -> dict | None:
    """{field: {coefficient: [low, high]}} over the issues revealed to the viewer, or None while the task worker
    computes them. `filters`: the report's restrictions as in its URL."""
    study = access.study
    filters += access.intervals_key()
    current = fingerprint(study)
    stored = Intervals.objects.filter(study=study, filters=filters).first()
    if stored is not None and stored.fingerprint == current and stored.data is not None:
        return stored.data
    if stored is not None and stored.fingerprint == current:
        return None  # being computed
    Intervals.objects.update_or_create(study=study, filters=filters, defaults={"fingerprint": current, "data": None})
    if Annotation.objects.filter(assignment__study=study).count() <= INLINE:
        return compute(access, filters, restrictions, current)
    compute_intervals.enqueue(study.pk, access.user.pk, filters, _as_json(restrictions), current)
    return None


def compute(access: StudyAccess, filters: str, restrictions: dict, current: str) -> dict:
    report = study_report(
        access.study, bootstrap=REPLICATES, seed=SEED, issues=access.revealed_issues(), **restrictions
    )
    data = {key: numbers["ci95"] for key, numbers in report["fields"].items()}
    Intervals.objects.filter(study=access.study, filters=filters, fingerprint=current).update(data=data)
    return data


@task
def compute_intervals(study_id: int, viewer_id: int, filters: str, restrictions: dict, current: str) -> None:
    study = Study.objects.filter(pk=study_id).first()
    viewer = get_user_model().objects.filter(pk=viewer_id).first()
    if study is None or viewer is None:
        return
    access = StudyAccess(study, viewer)
    key = access.intervals_key()
    if (key and not filters.endswith(key)) or (not key and HIDDEN in filters):
        # A decision revealed or hid issues meanwhile: the next visit asks for the intervals of what it shows now.
        Intervals.objects.filter(study=study, filters=filters, fingerprint=current, data__isnull=True).delete()
        return
    compute(access, filters, _from_json(restrictions), current)


@receiver(task_finished)
def retry_failed_intervals(sender, task_result, **kwargs) -> None:
    """Intervals whose task failed (an error, a killed worker) are forgotten, so the next visit asks again instead
    of saying "being computed" for ever."""
    if task_result.task.module_path != compute_intervals.module_path or task_result.status != TaskResultStatus.FAILED:
        return
    study_id, _, filters, _, current = task_result.args
    Intervals.objects.filter(study_id=study_id, filters=filters, fingerprint=current, data__isnull=True).delete()


def _as_json(restrictions: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in restrictions.items()}


def _from_json(restrictions: dict) -> dict:
    return {
        key: datetime.fromisoformat(value) if key in ("since", "until") and value else value
        for key, value in restrictions.items()
    }
