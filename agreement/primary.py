"""The pre-registered primary statistic of each field: declared before labelling, then locked.

Locked means a change is still possible, but only with a reason; it is marked as made after labelling started, the
history triggers keep every version, and the agreement report shows them all (`declarations`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from agreement.models import PrimaryStatistic, PrimaryStatisticEvent
from studies.models import Annotation, CodebookField
from studies.versions import StaleVersion, check_version, save_versioned


class PrimaryStatisticError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Declaration:
    """One version of a field's primary statistic, as the report lists it."""

    statistic: str
    threshold: Decimal
    source: str
    reason: str
    after_labelling_started: bool
    declared_by: str
    declared_at: datetime

    @property
    def statistic_label(self) -> str:
        return PrimaryStatistic.Statistic(self.statistic).label


def labelling_started(field: CodebookField) -> bool:
    """Whether anyone has answered the field yet (saved or submitted, in the browser or imported)."""
    return Annotation.objects.filter(field=field, value__isnull=False).exists()


def primary_declare(
    *, field: CodebookField, statistic: str, threshold: Decimal, source: str, reason: str, user, version: int | None
) -> PrimaryStatistic | None:
    """Declare or change the field's primary statistic; None if nothing changed.

    `version`: the declaration the form showed (0: none), so that two owners do not overwrite each other unseen.
    Once the field has answers a reason is required, and the declaration is marked as made after labelling started.
    """
    current = PrimaryStatistic.objects.filter(field=field).first()
    check_version(current, version, lambda: _changed(current))
    # As stored and shown: 0.8 is 0.800.
    wanted = {"statistic": statistic, "threshold": threshold.quantize(Decimal("0.001")), "source": source.strip()}
    if current is not None and all(getattr(current, name) == value for name, value in wanted.items()):
        return None
    started = labelling_started(field)
    if started and not reason.strip():
        raise PrimaryStatisticError(
            f"{field.label} already has answers: a statistic "
            + ("changed" if current else "declared")
            + " now is not pre-registered. Say why; the report shows it as made after labelling started.",
            field="reason",
        )
    changes = {
        **wanted,
        "reason": reason.strip(),
        "after_labelling_started": started,
        "declared_by": user,
        "declared_at": timezone.now(),
    }
    if current is not None:
        save_versioned(current, **changes)
        return current
    try:
        with transaction.atomic():
            return PrimaryStatistic.objects.create(study=field.study, field=field, **changes)
    except IntegrityError:  # another owner declared it meanwhile
        current = PrimaryStatistic.objects.get(field=field)
        raise StaleVersion(current, _changed(current)) from None


def declarations(field_ids: list[int]) -> dict[int, list[Declaration]]:
    """{field id: every version of its primary statistic, oldest first}, from the history's event table."""
    events = (
        PrimaryStatisticEvent.objects.filter(field_id__in=field_ids, pgh_label__in=["insert", "update"])
        .select_related("declared_by")
        .order_by("pgh_id")
    )
    found: dict[int, list[Declaration]] = {}
    for event in events:
        found.setdefault(event.field_id, []).append(
            Declaration(
                statistic=event.statistic,
                threshold=event.threshold,
                source=event.source,
                reason=event.reason,
                after_labelling_started=event.after_labelling_started,
                declared_by=event.declared_by.username if event.declared_by else "",
                declared_at=event.declared_at,
            )
        )
    return found


def meets(value: float | None, threshold: Decimal | float) -> bool:
    """Met only by a value that reaches the threshold (as written: 0.8 is 0.800); never by an undefined one."""
    return value is not None and Decimal(str(value)) >= Decimal(str(threshold))


def primary_reports(study) -> dict[str, dict]:
    """{field key: the primary statistic as the JSON report gives it}, for the fields that have one."""
    current = {p.field_id: p for p in PrimaryStatistic.objects.filter(study=study).select_related("field")}
    history = declarations(list(current))
    return {
        p.field.key: {
            "statistic": p.statistic,
            "threshold": float(p.threshold),
            "source": p.source,
            "after_labelling_started": any(d.after_labelling_started for d in history.get(p.field_id, [])),
            "declarations": [
                {
                    "statistic": d.statistic,
                    "threshold": float(d.threshold),
                    "source": d.source,
                    "declared_by": d.declared_by,
                    "declared_at": d.declared_at.isoformat(),
                    "after_labelling_started": d.after_labelling_started,
                    "reason": d.reason,
                }
                for d in history.get(p.field_id, [])
            ],
        }
        for p in current.values()
    }


def _changed(current: PrimaryStatistic | None) -> str:
    if current is None:
        return "The primary statistic was removed meanwhile."
    return (
        f"{current.declared_by or 'Someone'} set the primary statistic of {current.field.label} meanwhile, to "
        f"{current.get_statistic_display()} ≥ {current.threshold}. Reload to see it."
    )
