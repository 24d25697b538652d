"""Time on task: the active time each assignment (and each issue's reconciliation) took, and the team's pace.

The annotation page, and the reconciliation page for whoever may decide the
issue, measure the time they are in the foreground and in use
(static/js/active-time.js): a pause longer than `ACTIVE_TIME_IDLE_SECONDS`
between two signs of use (a key, a click, a scroll, the pointer moving), and
the time the tab is hidden, are not counted. A page reports what it measured
every half minute and when it is hidden. The server does not take its word: a
page's reports together are credited at most the wall time since it opened
(a few seconds of slack for the network), nothing after the submission or
the decision, and none at all once the late-report window has passed.

The figures (issues per hour, median time per issue, the projection) are for
the people who oversee the study (studies/access.py: `may_see_effort`);
`effort_summary()` gives them to the page, the downloads and the methods report.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from studies.models import ActiveTime, Assignment, IssueStage, ReconciliationTime, Study, StudyIssue

# What a report may claim beyond the wall time since the previous one: the network delays reports unevenly.
SLACK_SECONDS = 5
# More than a day in one report is no measurement.
MAX_REPORT_SECONDS = 24 * 3600
# The page's last report may arrive just after its submission (it is sent as the page unloads).
LATE_REPORT = timedelta(seconds=60)
# The current pace: each annotator's submissions in this window.
PACE_WINDOW = timedelta(days=14)
# Submissions an annotator needs in the window before their pace projects anything.
MIN_FOR_PACE = 5
TOKEN_SALT = "studies.effort.active-time"
RECONCILING = (IssueStage.DISCUSSION, IssueStage.RECONCILIATION)
# Training and gold checks are work on gold issues, not on the study's own: rows of their own, after the stages,
# outside the pace and the projection (which would otherwise count the same issue twice, or issues no one labels).
NOT_REAL = {Assignment.Purpose.TRAINING: "Training", Assignment.Purpose.CHECK: "Gold checks"}
# The stages in the method's order, as the figures name them.
ORDER = [
    *(IssueStage(stage).label for stage in ("screening", "discussion", "labelling", "reconciliation")),
    *NOT_REAL.values(),
]


def report_token(**work: int | str) -> str:
    """What a page sends back with each report: the work it times (an assignment, or an issue's stage of
    reconciliation) and when the page was opened, signed by the server."""
    return signing.dumps({**work, "opened": timezone.now().timestamp()}, salt=TOKEN_SALT)


def read_token(token: str) -> tuple[dict, datetime]:
    """The work and opening time a token holds; signing.BadSignature if it is not one the server signed."""
    work = signing.loads(token, salt=TOKEN_SALT)
    return work, datetime.fromtimestamp(work.pop("opened"), tz=UTC)


def credited_seconds(seconds: float, *, since: datetime, now: datetime, ended_at: datetime | None = None) -> float:
    """How much of a report of `seconds` counts: at most the wall time from `since` (the page's opening plus what was
    credited since) to now, or to the end of the work (the submission, the decision), plus the slack; nothing once
    the late-report window after that end is over."""
    until = now
    if ended_at is not None:
        if now - ended_at > LATE_REPORT:
            return 0.0
        until = min(now, ended_at)
    allowed = (until - since).total_seconds() + SLACK_SECONDS
    return max(0.0, min(seconds, allowed))


@transaction.atomic
def active_time_report(*, assignment: Assignment, seconds: float, opened: datetime) -> float:
    """Credit a report of the assignment's page (`opened`: when that page was opened, from its token); returns the
    seconds credited. Reports of several tabs on one assignment share the wall-time bound, so they never add up to
    more than the time that passed."""
    status, submitted_at = (
        Assignment.objects.select_for_update().filter(pk=assignment.pk).values_list("status", "submitted_at").get()
    )
    ended_at = submitted_at if status == Assignment.Status.SUBMITTED else None
    return _credit(ActiveTime, {"assignment": assignment}, seconds, opened=opened, ended_at=ended_at)


@transaction.atomic
def reconciliation_time_report(
    *, study_issue: StudyIssue, user, stage: str, seconds: float, opened: datetime
) -> float:
    """Credit a report of the reconciliation page of `study_issue` at `stage` (screening discussion or
    reconciliation), as active_time_report does; once the issue has left that stage, only a report just after its
    decision counts, up to the decision."""
    current, decided_at = (
        StudyIssue.objects.select_for_update().filter(pk=study_issue.pk).values_list("stage", "decided_at").get()
    )
    if current != stage and decided_at is None:
        return 0.0  # moved on without a decision time (accepted into labelling, re-opened): nothing to bound it by
    work = {"study_issue": study_issue, "user": user, "stage": stage}
    return _credit(ReconciliationTime, work, seconds, opened=opened, ended_at=None if current == stage else decided_at)


def _credit(model, work: dict, seconds: float, *, opened: datetime, ended_at: datetime | None) -> float:
    """Add the credited part of a report to the time of `work` (made if need be); the caller holds the lock of the
    row the work belongs to, so that reports of one work are credited one at a time."""
    row = model.objects.filter(**work).first()
    since = max(opened, row.credited_until) if row else opened
    credited = credited_seconds(seconds, since=since, now=timezone.now(), ended_at=ended_at)
    if not credited:
        return 0.0
    # Not now: the slack one report took is taken from the next, and time one report left unclaimed (a pause)
    # may be claimed by a later one (a report that failed and is sent again with the next).
    until = since + timedelta(seconds=credited)
    if row is None:
        model.objects.create(**work, seconds=credited, credited_until=until)
    else:
        row.seconds += credited
        row.credited_until = until
        row.save(update_fields=["seconds", "credited_until"])
    return credited


# --- The figures owners see ---


@dataclass
class Pace:
    """One group's figures (a member at a stage, or a whole stage)."""

    member: str  # "" for everyone
    stage: str
    assignments: int = 0
    submitted: int = 0
    # Submitted assignments with a measured time (those imported, or submitted before time was measured, have none).
    measured: int = 0
    active_seconds: float = 0.0
    times: list[float] = field(default_factory=list, repr=False)

    @property
    def remaining(self) -> int:
        return self.assignments - self.submitted

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def issues_per_hour(self) -> float | None:
        return self.measured / (self.active_seconds / 3600) if self.active_seconds else None

    @property
    def seconds_left(self) -> float | None:
        """The active time the remaining assignments take at the median time per issue."""
        median = self.median_seconds
        return self.remaining * median if median is not None else None


@dataclass
class Projection:
    """When one annotator's remaining assignments will be done, at their pace of the last PACE_WINDOW."""

    annotator: str
    remaining: int
    recent: int  # submissions in the window
    per_day: float | None
    done_at: datetime | None

    @property
    def too_little_data(self) -> bool:
        return self.remaining > 0 and self.done_at is None


@dataclass
class EffortSummary:
    rows: list[Pace]  # per member and stage
    stages: list[Pace]  # per stage, everyone
    projections: list[Projection]
    done_at: datetime | None
    # Why the study's date is not projected ("" when it is, or when nothing remains).
    no_projection: str
    remaining: int
    idle_seconds: int
    window_days: int
    min_for_pace: int


def effort_summary(study: Study, *, now: datetime | None = None) -> EffortSummary:
    """Per member and stage: issues per hour and the median active time per issue of the submitted assignments (of
    the issues reconciled, for the screening discussion and reconciliation), training and gold checks in rows of
    their own; per annotator and for the study: when the remaining assignments of the study's own labelling will be
    done at the current pace."""
    now = now or timezone.now()
    rows: dict[tuple[str, str], Pace] = {}
    stages: dict[str, Pace] = {}
    submissions: dict[str, list[datetime]] = defaultdict(list)
    remaining: dict[str, int] = defaultdict(int)

    def count(username: str, label: str, *, done: bool, seconds: float | None) -> None:
        for group in (
            rows.setdefault((username, label), Pace(username, label)),
            stages.setdefault(label, Pace("", label)),
        ):
            group.assignments += 1
            group.submitted += done
            if done and seconds is not None:
                group.measured += 1
                group.active_seconds += seconds
                group.times.append(seconds)

    assignments = Assignment.objects.filter(study=study).values_list(
        "annotator__username", "stage", "purpose", "status", "submitted_at", "active_time__seconds"
    )
    for username, stage, purpose, status, submitted_at, seconds in assignments:
        done = status == Assignment.Status.SUBMITTED
        if purpose in NOT_REAL:
            count(username, NOT_REAL[purpose], done=done, seconds=seconds)
            continue
        count(username, IssueStage(stage).label, done=done, seconds=seconds)
        if done and submitted_at:
            submissions[username].append(submitted_at)
        remaining[username] += not done
    # The screening discussion and reconciliation have no assignments: an issue counts for whoever spent time on
    # it, done once it has left the stage; what remains of the stage for everyone is the issues now in it.
    reconciliations = ReconciliationTime.objects.filter(study_issue__study=study).values_list(
        "user__username", "stage", "seconds", "study_issue__stage"
    )
    for username, stage, seconds, now_at in reconciliations:
        count(username, IssueStage(stage).label, done=now_at != stage, seconds=seconds)
    for stage, waiting in (
        study.study_issues.filter(stage__in=RECONCILING).values_list("stage").annotate(n=Count("pk")).order_by()
    ):
        total = stages.setdefault(IssueStage(stage).label, Pace("", IssueStage(stage).label))
        total.assignments = total.submitted + waiting
    projections = [
        _projection(username, remaining[username], submissions[username], now) for username in sorted(remaining)
    ]
    pending = [projection for projection in projections if projection.remaining]
    short = [projection.annotator for projection in pending if projection.too_little_data]
    if not pending:
        done_at, no_projection = None, ""
    elif short:
        done_at = None
        no_projection = (
            f"Too little data to project: {', '.join(short)} submitted fewer than {MIN_FOR_PACE} issues in the last "
            f"{PACE_WINDOW.days} days."
        )
    else:
        done_at, no_projection = max(projection.done_at for projection in pending), ""
    return EffortSummary(
        rows=sorted(rows.values(), key=lambda pace: (pace.member, ORDER.index(pace.stage))),
        stages=sorted(stages.values(), key=lambda pace: ORDER.index(pace.stage)),
        projections=projections,
        done_at=done_at,
        no_projection=no_projection,
        remaining=sum(remaining.values()),
        idle_seconds=settings.ACTIVE_TIME_IDLE_SECONDS,
        window_days=PACE_WINDOW.days,
        min_for_pace=MIN_FOR_PACE,
    )


def _projection(annotator: str, remaining: int, submitted: list[datetime], now: datetime) -> Projection:
    """The pace: the submissions of the window over the time from the first of them (or the window's start) to now."""
    recent = sorted(when for when in submitted if when >= now - PACE_WINDOW)
    if len(recent) < MIN_FOR_PACE:
        return Projection(annotator, remaining, len(recent), None, None)
    days = max((now - recent[0]).total_seconds(), 1) / 86400
    per_day = len(recent) / days
    done_at = now + timedelta(days=remaining / per_day) if remaining else None
    return Projection(annotator, remaining, len(recent), per_day, done_at)


EFFORT_COLUMNS = [
    "member",
    "stage",
    "assignments",
    "submitted",
    "remaining",
    "measured",
    "active_seconds",
    "median_seconds",
    "issues_per_hour",
    "active_seconds_left",
]


def effort_rows(summary: EffortSummary):
    """The figures as CSV rows: each member at each stage, then each stage for everyone ("all")."""
    for pace in [*summary.rows, *summary.stages]:
        yield [
            pace.member or "all",
            pace.stage,
            pace.assignments,
            pace.submitted,
            pace.remaining,
            pace.measured,
            _number(pace.active_seconds),
            _number(pace.median_seconds),
            _number(pace.issues_per_hour, 2),
            _number(pace.seconds_left),
        ]


ASSIGNMENT_COLUMNS = [
    "issue",
    "annotator",
    "stage",
    "status",
    "assigned_at",
    "started_at",
    "submitted_at",
    "active_seconds",
]


def assignment_rows(study: Study):
    """One row per assignment with its times (active_seconds empty where none was measured)."""
    assignments = (
        Assignment.objects.filter(study=study)
        .select_related("issue__repository", "annotator", "active_time")
        .only(
            "stage",
            "status",
            "assigned_at",
            "started_at",
            "submitted_at",
            "issue__number",
            "issue__repository__owner",
            "issue__repository__name",
            "annotator__username",
            "active_time__seconds",
        )
        .order_by(
            "issue__repository__owner", "issue__repository__name", "issue__number", "-stage", "annotator__username"
        )
    )
    for assignment in assignments.iterator(chunk_size=2_000):
        issue = assignment.issue
        measured = getattr(assignment, "active_time", None)
        yield [
            f"{issue.repository.full_name}#{issue.number}",
            assignment.annotator.username,
            assignment.stage,
            assignment.status,
            _when(assignment.assigned_at),
            _when(assignment.started_at),
            _when(assignment.submitted_at),
            _number(measured.seconds) if measured else "",
        ]


def _number(value: float | None, digits: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.{digits}f}"


def _when(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def duration(seconds: float | None) -> str:
    """A time on task as people say it: 42 s, 4 min 12 s, 4 min, 3 h 05 min; an em dash when there is none."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "")
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
