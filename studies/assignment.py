"""Who labels which issue: balanced random assignment, or a CSV made elsewhere.

Both keep what has been started: an assignment an annotator has opened is never
moved or removed, and re-running an assignment only fills the gaps.
"""

import random
import re
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from studies.models import ActiveTime, Assignment, Membership, Study, after_bulk_change

ISSUE_REFERENCE = re.compile(
    r"^(?:https?://github\.com/)?(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)(?:/issues/|#)(?P<number>\d+)/?$"
)


class AssignmentError(ValueError):
    """An assignment that is refused; `field` names the argument at fault (`username`) when there is one, so that a
    page shows the message next to it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class AssignmentResult:
    created: int
    kept: int


def annotators_of(study: Study) -> list:
    return list(
        get_user_model()
        .objects.filter(memberships__study=study, memberships__role=Membership.Role.ANNOTATOR)
        .order_by("username")
    )


@transaction.atomic
def assign_balanced(study: Study, *, per_issue: int, stage: str, seed: int = 0) -> AssignmentResult:
    """Give each issue `per_issue` annotators, evening out everyone's load; the seed makes it reproducible."""
    annotators = annotators_of(study)
    if per_issue < 1:
        raise AssignmentError("Each issue needs at least one annotator.", field="per_issue")
    if len(annotators) < per_issue:
        raise AssignmentError(
            f"{per_issue} annotators per issue, but the study has {len(annotators)} annotator(s); add members first.",
            field="per_issue",
        )
    existing = Assignment.objects.filter(study=study, stage=stage)
    taken: dict[int, set[int]] = {}  # issue id -> the annotators it already has
    # Training and checks on a gold issue (studies/gold.py) are not its labelling, but their annotators cannot
    # also label it.
    training_or_checked: dict[int, set[int]] = {}
    load = Counter({annotator.pk: 0 for annotator in annotators})
    for issue_id, annotator_id, purpose in existing.values_list("issue_id", "annotator_id", "purpose"):
        if purpose != Assignment.Purpose.REAL:
            training_or_checked.setdefault(issue_id, set()).add(annotator_id)
            continue
        taken.setdefault(issue_id, set()).add(annotator_id)
        if annotator_id in load:
            load[annotator_id] += 1
    rng = random.Random(seed)
    new = []
    for issue_id in study.issues.order_by("id").values_list("id", flat=True):
        have = taken.get(issue_id, set())
        busy = training_or_checked.get(issue_id, set())
        for _ in range(per_issue - len(have)):
            # The least loaded annotator who does not have the issue yet; ties drawn at random.
            candidates = [pk for pk in load if pk not in have and pk not in busy]
            if not candidates:
                break
            least = min(load[pk] for pk in candidates)
            chosen = rng.choice(sorted(pk for pk in candidates if load[pk] == least))
            have = have | {chosen}
            load[chosen] += 1
            new.append(Assignment(study=study, issue_id=issue_id, annotator_id=chosen, stage=stage))
    Assignment.objects.bulk_create(new)
    after_bulk_change(len(new))
    study.annotators_per_issue = per_issue
    study.save(update_fields=["annotators_per_issue"])
    return AssignmentResult(created=len(new), kept=sum(len(annotators) for annotators in taken.values()))


@transaction.atomic
def assign_from_rows(study: Study, rows: list[dict], *, stage: str) -> AssignmentResult:
    """Rows with `issue` (GitHub URL or owner/name#N) and `annotator` (username); all are checked first."""
    annotators = {user.username: user for user in annotators_of(study)}
    in_study = {
        (owner, name, number): issue_id
        for issue_id, owner, name, number in study.issues.values_list(
            "id", "repository__owner", "repository__name", "number"
        )
    }
    wanted, errors = [], []
    for line, row in enumerate(rows, 2):
        match = ISSUE_REFERENCE.match((row.get("issue") or "").strip())
        username = (row.get("annotator") or "").strip()
        if not match:
            errors.append(f"line {line}: {row.get('issue')!r} is not an issue (a GitHub URL or owner/name#N)")
        elif (key := (match["owner"], match["name"], int(match["number"]))) not in in_study:
            errors.append(f"line {line}: {row['issue']} is not in the study")
        elif username not in annotators:
            errors.append(f"line {line}: {username!r} is not an annotator of the study")
        else:
            wanted.append((in_study[key], annotators[username].pk))
    if errors:
        raise AssignmentError("Nothing was assigned:\n" + "\n".join(errors))
    existing = set(Assignment.objects.filter(study=study, stage=stage).values_list("issue_id", "annotator_id"))
    new = [
        Assignment(study=study, issue_id=issue_id, annotator_id=annotator_id, stage=stage)
        for issue_id, annotator_id in dict.fromkeys(wanted)
        if (issue_id, annotator_id) not in existing
    ]
    Assignment.objects.bulk_create(new)
    after_bulk_change(len(new))
    return AssignmentResult(created=len(new), kept=len(existing))


@transaction.atomic
def assign_issues(study: Study, *, issue_ids: list[int], annotators: list, stage: str) -> AssignmentResult:
    """Give each of the issues to every one of the annotators (a calibration round); what is there already stays."""
    existing = set(
        Assignment.objects.filter(study=study, stage=stage, issue_id__in=issue_ids).values_list(
            "issue_id", "annotator_id"
        )
    )
    new = [
        Assignment(study=study, issue_id=issue_id, annotator_id=annotator.pk, stage=stage)
        for issue_id in issue_ids
        for annotator in annotators
        if (issue_id, annotator.pk) not in existing
    ]
    Assignment.objects.bulk_create(new)
    after_bulk_change(len(new))
    return AssignmentResult(created=len(new), kept=len(existing))


# --- By hand, one issue at a time (the owner's assignments page) ---


def _annotator(study: Study, username: str):
    annotator = next((user for user in annotators_of(study) if user.username == username), None)
    if annotator is None:
        raise AssignmentError(f"{username!r} is not an annotator of the study.", field="username")
    return annotator


def _unstarted(assignment: Assignment) -> Assignment:
    """The assignment, locked until the transaction ends, if its annotator has not started it."""
    locked = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if locked is None or locked.status != Assignment.Status.ASSIGNED:
        raise AssignmentError(
            f"{assignment.annotator.username} has started this issue; their assignment can no longer be changed."
        )
    return locked


@transaction.atomic
def assignment_add(study: Study, issue, *, username: str, stage: str) -> Assignment:
    annotator = _annotator(study, username)
    assignment, created = Assignment.objects.get_or_create(study=study, issue=issue, annotator=annotator, stage=stage)
    if not created:
        raise AssignmentError(f"{username} already has this issue.", field="username")
    return assignment


@transaction.atomic
def assignment_move(assignment: Assignment, *, username: str) -> Assignment:
    """Give an unstarted assignment to another annotator."""
    annotator = _annotator(assignment.study, username)
    locked = _unstarted(assignment)
    taken = Assignment.objects.filter(
        study=locked.study_id, issue=locked.issue_id, annotator=annotator, stage=locked.stage
    ).exists()
    if taken:
        raise AssignmentError(f"{username} already has this issue.", field="username")
    locked.annotator = annotator
    locked.save(update_fields=["annotator"])
    # The time the first annotator spent looking at it is theirs, not the new one's.
    ActiveTime.objects.filter(assignment=locked).delete()
    return locked


@transaction.atomic
def assignment_remove(assignment: Assignment) -> None:
    _unstarted(assignment).delete()
