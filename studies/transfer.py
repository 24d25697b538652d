"""Moving a whole study between instances: `export_study` writes everything it owns to one gzip'd JSON file,
`import_study` recreates it in another instance, in one transaction.

The file is one JSON document, `{"format": "annotator-study", "version": 1, "exported_at": …, "records": […]}`,
written one record a line: `[kind, row]`, the kind being the model ("studies.assignment") and the row its columns
with the exporting instance's ids. A record comes after those it refers to, and the last one is
`["end", {"records": N}]`, so that a file cut short is recognised. Both sides stream: memory holds one batch of
rows, and on import the new id of every row that a later record may refer to.

On import:
- users are matched by username; a missing one is created with an unusable password (the command lists them);
- issues are matched by repository and number: one already here is kept as it is (its text, comments and other
  studies untouched) and the study's work attaches to it; a missing one is created with its comments and payloads;
- every other row is inserted anew under a new id, its timestamps and versions as they were;
- the apps built on this one may adjust their rows on the way in (RowsOfOtherApp.on_import: a survey's public token
  that a survey here has already is replaced, and the importer told);
- the history (django-pghistory's event rows and their contexts: who, from which URL, when) is copied as it was,
  and the inserts themselves record no events: their triggers are ignored for the import;
- an id only the history knows (a row deleted before the export) gets a fresh id of its own, so that it can never
  point at someone else's row here.
"""

import gzip
import json
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import batched
from pathlib import Path
from typing import BinaryIO, TextIO

import pgtrigger
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from pghistory.models import Context

from issues.models import Issue, IssueComment, Repository
from issues.rendering import render_study_issues
from issues.search import refresh_search_index
from studies.history import STUDY_EVENTS_OF_OTHER_APPS
from studies.models import (
    ActiveTime,
    Annotation,
    AnnotationEvent,
    Assignment,
    AssignmentEvent,
    Choice,
    ChoiceEvent,
    CodebookChange,
    CodebookField,
    CodebookFieldEvent,
    CodebookVersion,
    DiscussionComment,
    DiscussionCommentEvent,
    ExportProfile,
    FinalValue,
    FinalValueEvent,
    GoldAnswer,
    GoldItem,
    Membership,
    MembershipEvent,
    Notification,
    ReconciliationTime,
    Round,
    Study,
    StudyEvent,
    StudyIssue,
    StudyIssueEvent,
    after_bulk_change,
)

FORMAT = "annotator-study"
VERSION = 1
BATCH = 1_000
User = get_user_model()
EVENTS = [
    StudyEvent,
    MembershipEvent,
    CodebookFieldEvent,
    ChoiceEvent,
    StudyIssueEvent,
    AssignmentEvent,
    AnnotationEvent,
    FinalValueEvent,
    DiscussionCommentEvent,
]
# The study's rows, in the order they are written and imported: a row after the rows it refers to.
ROWS = [
    Study,
    User,
    Issue,
    CodebookField,
    Choice,
    ExportProfile,
    StudyIssue,
    Membership,
    Assignment,
    ActiveTime,
    Annotation,
    FinalValue,
    ReconciliationTime,
    GoldItem,
    GoldAnswer,
    DiscussionComment,
    Notification,
    CodebookChange,
    CodebookVersion,
    Round,
    # A round's sample, annotators and fields: the rows of its many-to-many tables.
    Round.issues.through,
    Round.annotators.through,
    Round.fields.through,
]


@dataclass(frozen=True)
class RowsOfOtherApp:
    """Rows of an app built on this one that travel with the study (agreement's primary statistics, surveys and
    their responses). They register in STUDY_ROWS_OF_OTHER_APPS from their AppConfig.ready(), as studies imports
    none of them (tests/test_layout.py), a row after those it refers to; their history is studies/history.py's
    STUDY_EVENTS_OF_OTHER_APPS."""

    model: type[models.Model]
    to_study: str = "study"  # the lookup from a row to its study: "survey__study" for a survey's responses
    # Called with each batch of the file's rows before they are inserted: it may change them (a value that must
    # stay unique here), refuses them with a ValueError, and returns what the importer should be told.
    on_import: Callable[[list[dict]], list[str]] | None = None


STUDY_ROWS_OF_OTHER_APPS: list[RowsOfOtherApp] = []
# Rendered copies of Markdown: the target renders them again (issues/rendering.py).
DERIVED = {"body_html", "body_html_key"}
USER_COLUMNS = ["id", "username", "first_name", "last_name", "email"]
SUMMARY = {
    "issues.issue": "issues",
    "studies.membership": "memberships",
    "studies.assignment": "assignments",
    "studies.annotation": "annotations",
    "studies.finalvalue": "final values",
    "studies.discussioncomment": "discussion comments",
}


def all_events() -> list[type[models.Model]]:
    return [*EVENTS, *STUDY_EVENTS_OF_OTHER_APPS]


def kinds() -> dict[str, type[models.Model]]:
    """Every kind of record a file may hold, in the order they come; nothing else is ever written."""
    found = [*ROWS, *(rows.model for rows in STUDY_ROWS_OF_OTHER_APPS), Context, *all_events()]
    return {model._meta.label_lower: model for model in found}


class TransferError(Exception):
    """The file cannot be imported; nothing was written."""


def export_study(study: Study, out: BinaryIO, *, on_progress: Callable[[int], object] | None = None) -> Counter:
    """Write everything the study owns to `out` (a binary file), gzip'd; returns how many records of each kind."""
    counts = Counter()
    outermost = not connection.in_atomic_block
    with transaction.atomic(), gzip.open(out, "wt", compresslevel=6, encoding="utf-8", newline="\n") as file:
        if outermost:  # one snapshot for every query: a study labelled meanwhile still exports one consistent state
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        header = {"format": FORMAT, "version": VERSION, "exported_at": timezone.now().isoformat(), "records": []}
        file.write(json.dumps(header).removesuffix("]}") + "\n")
        for kind, row in _records(study):
            file.write(json.dumps([kind, row], ensure_ascii=False, default=_json_value) + ",\n")
            counts[kind] += 1
            if on_progress:
                on_progress(1)
        file.write(json.dumps(["end", {"records": counts.total()}]) + "\n]}\n")
    return counts


def _records(study: Study) -> Iterator[tuple[str, dict]]:
    owned = _owned(study)
    yield "studies.study", Study.objects.filter(pk=study.pk).values().get()
    users = _referenced(User, owned) | Q(
        pk__in=owned[Context].annotate(user_id=Cast(KT("metadata__user"), models.BigIntegerField())).values("user_id")
    )
    for row in User.objects.filter(users).order_by("pk").values(*USER_COLUMNS).iterator(chunk_size=BATCH):
        yield "auth.user", row
    yield from (("issues.issue", row) for row in _issues(Issue.objects.filter(_referenced(Issue, owned))))
    for model, queryset in owned.items():
        for row in queryset.order_by("pk").values().iterator(chunk_size=BATCH):
            yield model._meta.label_lower, row


def _owned(study: Study) -> dict[type[models.Model], models.QuerySet]:
    """The study's rows and history, in the order they are imported: a row after the rows it refers to."""
    # The history of rows deleted since (a taken-back assignment, a merged choice) belongs to the study too.
    assignments = AssignmentEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    study_issues = StudyIssueEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    fields = CodebookFieldEvent.objects.filter(study_id=study.pk).values("pgh_obj_id")
    events = {
        StudyEvent: StudyEvent.objects.filter(pgh_obj_id=study.pk),
        MembershipEvent: MembershipEvent.objects.filter(study_id=study.pk),
        CodebookFieldEvent: CodebookFieldEvent.objects.filter(study_id=study.pk),
        ChoiceEvent: ChoiceEvent.objects.filter(field_id__in=fields),
        StudyIssueEvent: StudyIssueEvent.objects.filter(study_id=study.pk),
        AssignmentEvent: AssignmentEvent.objects.filter(study_id=study.pk),
        AnnotationEvent: AnnotationEvent.objects.filter(assignment_id__in=assignments),
        FinalValueEvent: FinalValueEvent.objects.filter(study_issue_id__in=study_issues),
        DiscussionCommentEvent: DiscussionCommentEvent.objects.filter(study_issue_id__in=study_issues),
        **{model: model.objects.filter(study_id=study.pk) for model in STUDY_EVENTS_OF_OTHER_APPS},
    }
    contexts = Q(pk__in=[])
    for queryset in events.values():
        contexts |= Q(pk__in=queryset.values("pgh_context_id"))
    return {
        CodebookField: study.fields.all(),
        Choice: Choice.objects.filter(field__study=study),
        ExportProfile: study.export_profiles.all(),
        StudyIssue: study.study_issues.all(),
        Membership: study.memberships.all(),
        Assignment: study.assignments.all(),
        ActiveTime: ActiveTime.objects.filter(assignment__study=study),
        Annotation: Annotation.objects.filter(assignment__study=study),
        FinalValue: FinalValue.objects.filter(study_issue__study=study),
        ReconciliationTime: ReconciliationTime.objects.filter(study_issue__study=study),
        GoldItem: study.gold_items.all(),
        GoldAnswer: GoldAnswer.objects.filter(gold_item__study=study),
        DiscussionComment: DiscussionComment.objects.filter(study_issue__study=study),
        Notification: Notification.objects.filter(comment__study_issue__study=study),
        CodebookChange: study.codebook_changes.all(),
        CodebookVersion: study.codebook_versions.all(),
        Round: study.rounds.all(),
        **{
            through: through.objects.filter(round__study=study)
            for through in (Round.issues.through, Round.annotators.through, Round.fields.through)
        },
        **{rows.model: rows.model.objects.filter(**{rows.to_study: study}) for rows in STUDY_ROWS_OF_OTHER_APPS},
        Context: Context.objects.filter(contexts),
        **events,
    }


def _referenced(model: type[models.Model], owned: dict) -> Q:
    """The rows of `model` (users, issues) that the study's rows and history refer to."""
    found = Q(pk__in=[])
    for queryset in owned.values():
        for column in queryset.model._meta.concrete_fields:
            if column.related_model is model:
                found |= Q(pk__in=queryset.values(column.attname))
    return found


def _issues(issues: models.QuerySet) -> Iterator[dict]:
    """Each issue with its repository by name and its comments, payloads included."""
    columns = _columns(Issue)
    comment_columns = _columns(IssueComment)
    rows = issues.order_by("pk").values(*columns, "repository__owner", "repository__name")
    for chunk in batched(rows.iterator(chunk_size=BATCH), BATCH):
        comments = defaultdict(list)
        for comment in (
            IssueComment.objects.filter(issue_id__in=[row["id"] for row in chunk])
            .order_by("pk")
            .values(*comment_columns)
        ):
            comments[comment["issue_id"]].append(comment)
        for row in chunk:
            del row["repository_id"]
            row["repository"] = [row.pop("repository__owner"), row.pop("repository__name")]
            row["comments"] = comments[row["id"]]
            yield row


def _columns(model: type[models.Model]) -> list[str]:
    return [column.attname for column in model._meta.concrete_fields if column.attname not in DERIVED]


def _json_value(value):
    if isinstance(value, date):  # datetimes too, to the microsecond
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):  # a Decimal as written, not as an inexact float
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def describe(counts: Counter) -> str:
    """What a file holds, as the commands report it."""
    parts = [f"{counts[kind]:,} {name}" for kind, name in SUMMARY.items()]
    events = sum(counts[event._meta.label_lower] for event in all_events())
    return ", ".join([*parts, f"{events:,} history events"])


@dataclass
class ImportResult:
    study: Study
    counts: Counter = field(default_factory=Counter)
    users_created: list[str] = field(default_factory=list)
    issues_created: int = 0
    notes: list[str] = field(default_factory=list)  # what the apps built on this one changed on the way in


def import_study(
    path: Path, *, slug: str | None = None, on_progress: Callable[[int], object] | None = None
) -> ImportResult:
    """Recreate the study exported to `path`, under `slug` if given: all of it, or nothing (TransferError).

    `on_progress` is called with how many bytes of the file have been read.
    """
    if slug is not None:
        try:
            validate_slug(slug)
        except ValidationError as error:
            raise TransferError(f"{slug!r}: {error.messages[0]}") from None
    try:
        with (
            open(path, "rb") as raw,
            gzip.open(raw, "rt", encoding="utf-8", newline="\n") as text,
            # Around the transaction, not inside it: leaving the ignore runs SQL, which a failed transaction refuses.
            # The import's own inserts are not history: the history comes from the file.
            pgtrigger.ignore(*(f"{event.pgh_tracked_model._meta.label}:insert_insert" for event in all_events())),
            transaction.atomic(),
        ):
            importer = _Importer(slug, lambda: on_progress(raw.tell()) if on_progress else None)
            for line, kind, row in _read(text):
                importer.add(line, kind, row)
            return importer.finish()
    except gzip.BadGzipFile as error:
        raise TransferError(f"{path} is not a gzip file ({error}).") from None
    except EOFError:
        raise TransferError(f"{path} is truncated: the compressed data ends early.") from None
    except zlib.error as error:
        raise TransferError(f"{path} is damaged ({error}).") from None
    except UnicodeDecodeError as error:
        raise TransferError(f"{path} is not UTF-8 text ({error}).") from None
    except (IntegrityError, DataError) as error:
        raise TransferError(f"The database refused a record of {path}: {error}") from None
    except OSError as error:
        raise TransferError(f"Cannot read {path}: {error}") from None


def _read(text: TextIO) -> Iterator[tuple[int, str, dict]]:
    """(line, kind, row) of each record, once the header says the file is a study export this code reads."""
    known = kinds()
    try:
        header = json.loads(text.readline() + "]}")
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TransferError("This file is not a study export (export_study writes them).")
    if header.get("version") != VERSION:
        raise TransferError(
            f"This export has format version {header.get('version')!r}; this instance reads version {VERSION}."
        )
    for line, text_line in enumerate(text, start=2):
        try:
            kind, row = json.loads(text_line.removesuffix("\n").removesuffix(","))
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise TransferError(f"Line {line} is not a record: {error}.") from None
        if not isinstance(row, dict) or (kind != "end" and kind not in known):
            raise TransferError(f"Line {line} is not a record of a study export.")
        if kind == "end":
            if row.get("records") != line - 2 or text.read() not in ("]}\n", "]}"):
                raise TransferError(f"Line {line}: the export does not end as it should; the file is damaged.")
            return
        yield line, kind, row
    raise TransferError("The file ends before its last record: it is truncated.")


class _Importer:
    """Writes the records a batch of one kind at a time, mapping the file's ids to new ones."""

    def __init__(self, slug: str | None, report_progress: Callable[[], object]):
        self.slug = slug
        self.report_progress = report_progress
        self.ids: dict[type[models.Model], dict] = defaultdict(dict)  # model → {id in the file: id here}
        self.repositories: dict[tuple[str, str], int] = {}
        self.kind, self.line, self.batch = "", 0, []
        self.result: ImportResult | None = None
        self.kinds = kinds()
        self.events = all_events()
        self.on_import = {rows.model: rows.on_import for rows in STUDY_ROWS_OF_OTHER_APPS if rows.on_import}

    def add(self, line: int, kind: str, row: dict) -> None:
        if kind != self.kind or len(self.batch) >= BATCH:
            self.flush()
            self.kind, self.line = kind, line
        self.batch.append(row)

    def flush(self) -> None:
        if not self.batch:
            return
        model = self.kinds[self.kind]
        if self.result is None and model is not Study:
            raise TransferError("The file does not start with its study.")
        try:
            if on_import := self.on_import.get(model):
                self.result.notes += on_import(self.batch)
            {Study: self._study, User: self._users, Issue: self._issues, Context: self._contexts}.get(
                model, self._insert
            )(model, self.batch)
        except (AttributeError, KeyError, TypeError, ValueError, ValidationError) as error:
            raise TransferError(
                f"Line {self.line} or one of the {len(self.batch)} after it is not a valid "
                f"{self.kind} record: {error!r}."
            ) from None
        self.result.counts[self.kind] += len(self.batch)
        self.batch = []
        self.report_progress()

    def finish(self) -> ImportResult:
        self.flush()
        if self.result is None:
            raise TransferError("The file holds no study.")
        connection.check_constraints()  # deferred foreign keys: a record pointing at nothing fails here, in time
        after_bulk_change(sum(self.result.counts[event._meta.label_lower] for event in self.events))
        # New issues become searchable, and the study's issues ready to be shown, in the background.
        transaction.on_commit(refresh_search_index.enqueue)
        transaction.on_commit(render_study_issues.enqueue)
        return self.result

    def _study(self, model, rows: list[dict]) -> None:
        if self.result is not None or len(rows) != 1:
            raise TransferError("The file holds more than one study.")
        slug = rows[0]["slug"] = self.slug or rows[0]["slug"]
        if Study.objects.filter(slug=slug).exists():
            raise TransferError(f"There is a study {slug!r} here already: import it under another slug (--slug NEW).")
        self._insert(Study, rows)
        self.result = ImportResult(study=Study.objects.get(slug=slug))

    def _users(self, model, rows: list[dict]) -> None:
        here = dict(User.objects.filter(username__in=[row["username"] for row in rows]).values_list("username", "pk"))
        for row in rows:
            if row["username"] not in here:
                here[row["username"]] = User.objects.create_user(
                    row["username"], email=row["email"], first_name=row["first_name"], last_name=row["last_name"]
                ).pk  # no password: an unusable one, until an admin sets one
                self.result.users_created.append(row["username"])
            self.ids[User][row["id"]] = here[row["username"]]

    def _issues(self, model, rows: list[dict]) -> None:
        """Issues already here (same repository and number) are kept as they are; the others are created."""
        for row in rows:
            owner, name = row.pop("repository")
            if (owner, name) not in self.repositories:
                self.repositories[owner, name] = Repository.objects.get_or_create(owner=owner, name=name)[0].pk
            row["repository_id"] = self.repositories[owner, name]
        here = {
            (repository_id, number): pk
            for repository_id, number, pk in Issue.objects.filter(
                repository_id__in={row["repository_id"] for row in rows}, number__in={row["number"] for row in rows}
            ).values_list("repository_id", "number", "pk")
        }
        new, comments = [], []
        for row in rows:
            issue_comments = row.pop("comments")
            if (row["repository_id"], row["number"]) in here:
                self.ids[Issue][row["id"]] = here[row["repository_id"], row["number"]]
            else:
                new.append(row)
                comments += issue_comments
        self._insert(Issue, new)
        self._insert(IssueComment, comments)
        self.result.issues_created += len(new)

    def _contexts(self, model, rows: list[dict]) -> None:
        """A context says who made a change (by user id) and from which URL."""
        self._map(User, [row["metadata"].get("user") for row in rows])
        for row in rows:
            if row["metadata"].get("user") is not None:
                row["metadata"]["user"] = self.ids[User][row["metadata"]["user"]]
        self._insert(Context, rows)

    def _insert(self, model: type[models.Model], rows: list[dict]) -> None:
        """Insert the rows under new ids, their references mapped, their timestamps kept."""
        if not rows:
            return
        pk = model._meta.pk.attname
        references = {
            column.attname: column.related_model
            for column in model._meta.concrete_fields
            if column.related_model in self.kinds.values()
        }
        if model in self.events:
            references["id"] = model.pgh_tracked_model  # the tracked row's id, kept in each of its events
            for row, new_pk in zip(rows, self._allocate(model, len(rows)), strict=True):
                row[pk] = new_pk  # nothing refers to an event: no need to remember its id
        else:
            references[pk] = model
        for column, related in references.items():
            self._map(related, [row[column] for row in rows])
        objects = [
            model(**{**row, **{column: self.ids[related].get(row[column]) for column, related in references.items()}})
            for row in rows
        ]
        columns = [column for column in model._meta.concrete_fields if column.attname not in DERIVED]
        # raw=True, as loaddata saves: auto_now and auto_now_add keep the stored times instead of setting now.
        model._base_manager._insert(objects, fields=columns, raw=True)

    def _map(self, model: type[models.Model], old_ids: list) -> None:
        """Give each id of `model` not seen yet a new one, in the same order."""
        known = self.ids[model]
        unseen = sorted({old for old in old_ids if old is not None and old not in known})
        for old, new in zip(unseen, self._allocate(model, len(unseen)), strict=True):
            known[old] = new

    @staticmethod
    def _allocate(model: type[models.Model], count: int) -> list:
        """`count` ids nobody uses: from the table's sequence, in increasing order (or new UUIDs)."""
        if not count:
            return []
        if isinstance(model._meta.pk, models.UUIDField):
            return [uuid.uuid4() for _ in range(count)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            return sorted(new for (new,) in cursor.fetchall())
