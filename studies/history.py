"""The record of every change in a study, read from the event tables that django-pghistory's triggers fill.

The triggers (studies/models.py, `@tracked()`) record each insert, update and
delete in PostgreSQL itself, so no code path — views, commands, the admin,
raw SQL — can change a tracked row without leaving an event; the event tables
refuse updates and deletes. The request's user and URL come from pghistory's
middleware. This module only reads: an issue's history, a study's activity,
the CSV export, each without what is still blind to the viewer (others'
values, notes and votes, final values, discussion comments and decision notes
of issues not revealed to them: studies/access.py).
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from pghistory.models import Events

from annotator.csv_writer import write_csv
from issues.models import Issue
from studies.access import StudyAccess
from studies.models import (
    AnnotationEvent,
    Assignment,
    AssignmentEvent,
    ChoiceEvent,
    CodebookField,
    CodebookFieldEvent,
    DiscussionCommentEvent,
    FinalValueEvent,
    MembershipEvent,
    Study,
    StudyEvent,
    StudyIssue,
    StudyIssueEvent,
)
from studies.workflow import display_value

WHAT = {
    "studies.StudyEvent": "study settings",
    "studies.MembershipEvent": "membership",
    "studies.StudyIssueEvent": "issue stage and decision",
    "studies.AssignmentEvent": "assignment",
    "studies.AnnotationEvent": "annotation",
    "studies.FinalValueEvent": "final value",
    "studies.DiscussionCommentEvent": "discussion comment",
    "studies.CodebookFieldEvent": "codebook field",
    "studies.ChoiceEvent": "codebook choice",
    "agreement.PrimaryStatisticEvent": "primary statistic",
    "llm.ModelGateEvent": "model gate",
}
ACTION = {"insert": "created", "update": "changed", "delete": "deleted"}
# Bookkeeping columns that say nothing a reader needs, and the ids a change's object names already (Change.object).
# `purpose`: an annotator's own check on a gold issue must read like any assignment (studies/gold.py).
HIDDEN = {"id", "version", "updated_at", "added_at", "assigned_at", "created_at", "set_at", "body_html", "purpose"}
PLACE = {"study_id", "issue_id", "study_issue_id", "assignment_id", "field_id"}
EMPTY = (None, "", [])
# Columns that hold a user's id: shown as the username.
USERS = {"set_by_id", "annotator_id", "decided_by_id", "author_id", "user_id", "declared_by_id"}
# Columns whose name reads badly as it is.
COLUMN_NAMES = {
    "value": "value",
    "agreed_by": "agreed by",
    "duplicate_of_id": "duplicate of",
    "max_choices": "at most",
}
# What an issue's stage and decision events say that is part of its judgement, not of its progress.
JUDGEMENT_NOTES = {"screening_note", "decision_note"}

# Event models of the apps built on this one (agreement's primary statistics) whose rows carry a study_id: they
# register here from their AppConfig.ready(), as studies imports none of them (tests/test_layout.py).
STUDY_EVENTS_OF_OTHER_APPS: list[type] = []


@dataclass
class Change:
    at: datetime
    user: str
    what: str
    action: str
    object_id: str
    changes: list[tuple[str, object, object]]  # (field, before, after) as people read them; before is None on creation
    url: str = ""
    object: str = ""  # what changed, as people name it: "Impact of ann", "ann (annotator)", "octo/widgets#3"


@dataclass
class _Blind:
    """What the viewer may not read: others' assignments on hidden issues, and those issues (StudyIssue ids)."""

    assignments: frozenset[int]
    study_issues: frozenset[int]

    @classmethod
    def of_study(cls, access: StudyAccess) -> "_Blind":
        return cls(access.hidden_assignment_ids, access.hidden_study_issue_ids)

    @classmethod
    def of_issue(cls, access: StudyAccess, study_issue: StudyIssue) -> "_Blind":
        # Asked even on a revealed issue: others' training and check answers on a gold issue stay hidden.
        others = access.hidden_assignments().filter(issue_id=study_issue.issue_id).values_list("pk", flat=True)
        return cls(frozenset(others), frozenset() if access.is_revealed(study_issue) else frozenset([study_issue.pk]))

    def hides(self, event) -> bool:
        data = event.pgh_data
        match event.pgh_model:
            case "studies.AnnotationEvent":
                return data.get("assignment_id") in self.assignments
            case "studies.FinalValueEvent" | "studies.DiscussionCommentEvent":
                return data.get("study_issue_id") in self.study_issues
        return False

    def hides_notes(self, event) -> bool:
        return event.pgh_model == "studies.StudyIssueEvent" and int(event.pgh_obj_id) in self.study_issues


def issue_history(study_issue: StudyIssue, access: StudyAccess) -> list[Change]:
    """Everything that happened to the issue in this study, oldest first."""
    study_id = study_issue.study_id
    own = Events.objects.references(study_issue).order_by()
    assignments = [
        event
        for event in Events.objects.references(study_issue.issue).across("studies.AssignmentEvent")
        if event.pgh_data.get("study_id") == study_id
    ]
    if access.is_checked_on(study_issue):
        # To the annotator checked on a gold issue, its history is their own work on it: its stages, decision and
        # the others' assignments would tell them it is a check.
        own = []
        assignments = [event for event in assignments if event.pgh_data.get("annotator_id") == access.user.pk]
    events = list(own) + assignments
    assignment_ids = {int(event.pgh_obj_id) for event in assignments}
    if assignment_ids:
        events += list(
            Events.objects.across(AnnotationEvent).references([Assignment(pk=pk) for pk in sorted(assignment_ids)])
        )
    return _changes(events, _Blind.of_issue(access, study_issue))


def study_activity(access: StudyAccess, limit: int | None = 200) -> list[Change]:
    """The study's changes, newest first: the latest `limit` of them, or all with limit=None."""
    study = access.study
    if limit:
        events = _latest_events(study, limit)
    else:
        events = list(Events.objects.references(study).order_by())
        assignment_ids = sorted({int(e.pgh_obj_id) for e in events if e.pgh_model == "studies.AssignmentEvent"})
        if assignment_ids:
            events += Events.objects.across(AnnotationEvent).references([Assignment(pk=pk) for pk in assignment_ids])
        study_issue_ids = sorted({int(e.pgh_obj_id) for e in events if e.pgh_model == "studies.StudyIssueEvent"})
        if study_issue_ids:
            events += Events.objects.across(FinalValueEvent, DiscussionCommentEvent).references(
                [StudyIssue(pk=pk) for pk in study_issue_ids]
            )
        field_ids = sorted({int(e.pgh_obj_id) for e in events if e.pgh_model == "studies.CodebookFieldEvent"})
        if field_ids:
            events += Events.objects.across(ChoiceEvent).references([CodebookField(pk=pk) for pk in field_ids])
    changes = _changes(events, _Blind.of_study(access))
    changes.reverse()
    return changes[:limit] if limit else changes


def _latest_events(study: Study, limit: int) -> list:
    """The newest `limit` events of the study, with their diffs.

    pghistory's Events computes the diff of every event it reads, so asking it for a whole busy study (40,000
    events) takes seconds. The newest events of each table come from plain indexed queries first; Events then
    computes diffs for just the objects they belong to.
    """
    assignments = AssignmentEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    study_issues = StudyIssueEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    fields = CodebookFieldEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    scopes = {
        StudyEvent: Q(pgh_obj_id=study.pk),
        MembershipEvent: Q(study_id=study.pk),
        StudyIssueEvent: Q(study_id=study.pk),
        AssignmentEvent: Q(study_id=study.pk),
        CodebookFieldEvent: Q(study_id=study.pk),
        AnnotationEvent: Q(assignment_id__in=assignments),
        FinalValueEvent: Q(study_issue_id__in=study_issues),
        DiscussionCommentEvent: Q(study_issue_id__in=study_issues),
        ChoiceEvent: Q(field_id__in=fields),
        **{model: Q(study_id=study.pk) for model in STUDY_EVENTS_OF_OTHER_APPS},
    }
    newest = []
    for model, scope in scopes.items():
        rows = model.objects.filter(scope).order_by("-pgh_id").values_list("pgh_created_at", "pgh_id", "pgh_obj_id")
        newest += [(created, model, pgh_id, obj_id) for created, pgh_id, obj_id in rows[:limit]]
    # Newest first, ties (one transaction) broken as _changes() orders them.
    newest = sorted(newest, key=lambda row: (row[0], f"{row[1]._meta.label}:{row[2]}"), reverse=True)[:limit]
    events = []
    for model in scopes:
        wanted = {pgh_id for _, m, pgh_id, _ in newest if m is model}
        if wanted:
            objects = [model.pgh_tracked_model(pk=obj_id) for obj_id in {o for _, m, _, o in newest if m is model}]
            events += [event for event in Events.objects.across(model).tracks(objects) if event.pgh_id in wanted]
    return events


CSV_COLUMNS = ["when", "user", "what", "action", "object", "field", "before", "after", "url"]


def write_history_csv(changes: list[Change], file) -> None:
    rows = (
        [
            change.at.isoformat(),
            change.user,
            change.what,
            change.action,
            change.object,
            field,
            before,
            after,
            change.url,
        ]
        for change in changes
        for field, before, after in change.changes or [("", "", "")]
    )
    write_csv(file, CSV_COLUMNS, rows)


def _changes(events, blind: _Blind) -> list[Change]:
    seen, kept = set(), []
    for event in sorted(events, key=lambda e: (e.pgh_created_at, e.pgh_slug)):
        if event.pgh_slug in seen:
            continue
        seen.add(event.pgh_slug)
        if not blind.hides(event):
            kept.append(event)
    names = _Names.of(kept)
    return [_change(event, names, without=JUDGEMENT_NOTES if blind.hides_notes(event) else set()) for event in kept]


@dataclass
class _Names:
    """What the ids of a set of events stand for: users, codebook fields (with their choices), assignments, issues."""

    users: dict[int, str]
    fields: dict[int, CodebookField]
    assignments: dict[int, tuple[str, str, int]]  # (annotator, stage, issue id)
    issues: dict[int, str]  # "owner/name#N"
    study_issues: dict[int, str]

    @classmethod
    def of(cls, events) -> "_Names":

        def ids(*columns) -> set[int]:
            """The values of these columns in the events' rows, and before and after in their changes."""
            found = set()
            for event in events:
                for column in columns:
                    found.add(event.pgh_data.get(column))
                    found.update((event.pgh_diff or {}).get(column) or ())
            return found - {None}

        field_ids = ids("field_id") | {
            int(e.pgh_obj_id) for e in events if e.pgh_model == "studies.CodebookFieldEvent"
        }
        assignments = {
            pk: (username, stage, issue_id)
            for pk, username, stage, issue_id in Assignment.objects.filter(pk__in=ids("assignment_id")).values_list(
                "pk", "annotator__username", "stage", "issue_id"
            )
        }
        study_issue_ids = ids("study_issue_id") | {
            int(e.pgh_obj_id) for e in events if e.pgh_model == "studies.StudyIssueEvent"
        }
        study_issues = dict(StudyIssue.objects.filter(pk__in=study_issue_ids).values_list("pk", "issue_id"))
        issue_ids = (
            ids("issue_id", "duplicate_of_id") | set(study_issues.values()) | {a[2] for a in assignments.values()}
        )
        issues = {
            pk: f"{owner}/{name}#{number}"
            for pk, owner, name, number in Issue.objects.filter(pk__in=issue_ids).values_list(
                "pk", "repository__owner", "repository__name", "number"
            )
        }
        user_ids = ids(*USERS) | {(e.pgh_context or {}).get("user") for e in events} - {None}
        return cls(
            users=dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")),
            fields={
                field.pk: field for field in CodebookField.objects.filter(pk__in=field_ids).prefetch_related("choices")
            },
            assignments=assignments,
            issues=issues,
            study_issues={pk: issues.get(issue_id, "") for pk, issue_id in study_issues.items()},
        )

    def field(self, pk) -> str:
        return self.fields[pk].label if pk in self.fields else "a deleted field"

    def annotator(self, pk) -> str:
        return self.assignments[pk][0] if pk in self.assignments else "a removed assignment"

    def object(self, event) -> str:
        data = event.pgh_data
        match event.pgh_model:
            # The issue too: the study's activity and history CSV mix every issue's changes.
            case "studies.AnnotationEvent":
                assignment = self.assignments.get(data.get("assignment_id"))
                issue = f" on {self.issues.get(assignment[2], '')}" if assignment else ""
                return f"{self.field(data.get('field_id'))} of {self.annotator(data.get('assignment_id'))}{issue}"
            case "studies.FinalValueEvent":
                issue = self.study_issues.get(data.get("study_issue_id"), "")
                return f"{self.field(data.get('field_id'))} of {issue}"
            case "studies.AssignmentEvent":
                issue = self.issues.get(data.get("issue_id"), "")
                return f"{issue} → {self.users.get(data.get('annotator_id'), '?')} ({data.get('stage')})"
            case "studies.StudyIssueEvent":
                return self.study_issues.get(int(event.pgh_obj_id), "")
            case "studies.DiscussionCommentEvent":
                return f"on {self.study_issues.get(data.get('study_issue_id'), '')}"
            case "studies.MembershipEvent":
                return f"{self.users.get(data.get('user_id'), '?')} ({data.get('role')})"
            case "studies.CodebookFieldEvent" | "studies.StudyEvent":
                return data.get("label") or data.get("name") or ""
            case "studies.ChoiceEvent":
                return f"{data.get('label')} of {self.field(data.get('field_id'))}"
            case "agreement.PrimaryStatisticEvent" | "llm.ModelGateEvent":
                return self.field(data.get("field_id"))
        return event.pgh_obj_id or ""

    def value(self, event, column: str, value):
        """A column's value as people read it: names for ids, choices by their labels, lists joined."""
        if value is None:
            return None
        if column in USERS:
            return self.users.get(value, "a deleted user")
        if column == "duplicate_of_id":
            return self.issues.get(value, "")
        if column == "value" and event.pgh_model in ("studies.AnnotationEvent", "studies.FinalValueEvent"):
            return display_value(value, self.fields.get(event.pgh_data.get("field_id")))
        if column == "agreed_by":
            return ", ".join(value)
        return value


def _change(event, names: _Names, without: set[str]) -> Change:
    context = event.pgh_context or {}
    if event.pgh_label == "update":
        fields = [(name, before, after) for name, (before, after) in (event.pgh_diff or {}).items()]
    elif event.pgh_label == "insert":  # what was empty from the start says nothing
        fields = [(name, None, value) for name, value in event.pgh_data.items() if value not in EMPTY]
    else:
        fields = [(name, value, None) for name, value in event.pgh_data.items() if value not in EMPTY]
    shown = [field for field in fields if field[0] not in HIDDEN | PLACE | without]
    return Change(
        at=event.pgh_created_at,
        user=names.users.get(context.get("user"), "—" if not context else "anonymous"),
        what=WHAT.get(event.pgh_model, event.pgh_model),
        action=ACTION.get(event.pgh_label, event.pgh_label),
        object_id=event.pgh_obj_id or "",
        object=names.object(event),
        changes=[
            (
                COLUMN_NAMES.get(name, name.removesuffix("_id").replace("_", " ")),
                names.value(event, name, before),
                names.value(event, name, after),
            )
            for name, before, after in shown
        ],
        url=context.get("url", ""),
    )
