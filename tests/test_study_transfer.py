"""Moving a whole study to another instance: export_study writes one gzip'd JSON file, import_study recreates it."""

import gzip
import io
import re
from decimal import Decimal
from itertools import count

import pghistory
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from agreement.models import PrimaryStatistic
from agreement.primary import declarations, primary_declare
from agreement.report import study_report
from annotator.csv_writer import csv_lines
from issues.models import Issue, IssueComment, Repository
from studies import transfer
from studies.access import StudyAccess
from studies.annotation import annotation_save, assignment_submit
from studies.assignment import assign_balanced, assignment_remove
from studies.codebook import (
    choice_add,
    choice_delete,
    choice_update,
    code_promote,
    codebook_load,
    field_update,
    preset,
)
from studies.discussion import comment_post, mark_read
from studies.exports import wide_columns, wide_rows
from studies.gold import gold_item_save
from studies.history import issue_history, study_activity
from studies.models import (
    Annotation,
    Assignment,
    Choice,
    CodebookChange,
    CodebookField,
    DiscussionComment,
    FinalValue,
    Membership,
    Notification,
    Study,
    StudyIssue,
)
from studies.transfer import EVENTS, export_study, import_study
from studies.workflow import decide, final_value_save, screening_resolve
from surveys.models import Survey, SurveyResponse
from surveys.services import response_rows
from tests.factories import AdminFactory, IssueCommentFactory, IssueFactory, MembershipFactory, StudyFactory
from tests.helpers import label, survey_of, team

pytestmark = pytest.mark.django_db
User = get_user_model()


def as_user(user):
    """Changes made inside are recorded as this user's, as the history middleware does for a request."""
    return pghistory.context(user=user.pk, url=f"/studies/tf-silent/as/{user.username}/")


def build_study() -> Study:
    """Screening (a split vote settled as a duplicate, an open vote, a taken-back assignment), labelling with an
    "Other…" code promoted, an included issue, one in reconciliation discussed with mentions, codebook edits, a
    member who left, an admin outside the study; every step recorded as its author's."""
    study = StudyFactory(
        slug="tf-silent",
        name="TF silent bugs",
        guidelines="Label *silent* bugs.",
        screening=True,
        screening_accept_votes=3,
        screening_discuss_votes=2,
        annotators_see_agreement=True,
    )
    codebook_load(study, preset("silent-bugs"), screening=True)
    fields = {field.key: field for field in study.fields.all()}
    adjudicator, owner, annotators = team(study)
    issues = [IssueFactory(repository__owner="keras-team", repository__name="keras") for _ in range(4)]
    for issue in issues:
        IssueCommentFactory(issue=issue, body=f"Reproduced on {issue.number}.", payload={"id": 1, "reactions": 2})
    study.add_issues([issue.pk for issue in issues])
    first, split, second, open_ = (StudyIssue.objects.get(study=study, issue=issue) for issue in issues)

    def assignment(study_issue, annotator, stage):
        return Assignment.objects.get(study=study, issue=study_issue.issue, annotator=annotator, stage=stage)

    with as_user(owner):
        assign_balanced(study, per_issue=3, stage="screening")
        assignment_remove(assignment(open_, annotators[2], "screening"))
    for study_issue, votes in ((first, (True, True, True)), (split, (True, True, False)), (second, (True,) * 3)):
        for annotator, include in zip(annotators, votes, strict=True):
            with as_user(annotator):
                annotation_save(
                    assignment=assignment(study_issue, annotator, "screening"),
                    field=fields["silent_bug"],
                    value={"vote": include, "comment": "silent" if include else "crashes"},
                )
                assignment_submit(assignment=assignment(study_issue, annotator, "screening"))
    with as_user(annotators[0]):
        annotation_save(
            assignment=assignment(open_, annotators[0], "screening"),
            field=fields["silent_bug"],
            value={"vote": True, "comment": ""},
            uncertain=True,
            note="Only on GPU?",
        )
    with as_user(adjudicator):
        screening_resolve(
            split,
            include=False,
            reason="duplicate",
            duplicate_of=issues[0],
            note="Same as the first.",
            user=adjudicator,
        )
    for study_issue in (first, second):
        for annotator, impact in zip(annotators, ("2", "3", "3"), strict=True):
            with as_user(annotator):
                work = assignment(study_issue, annotator, "labelling")
                label(work, impact=impact, uncertain=impact == "2", submit=False)
                if study_issue == second and annotator == annotators[1]:
                    annotation_save(assignment=work, field=fields["scenario"], value={"other": "Silent overflow"})
                assignment_submit(assignment=work)
    with as_user(owner):
        code_promote(fields["scenario"], "Silent overflow", user=owner)
    with as_user(adjudicator):
        for key, value, rationale in (
            ("scenario", "Wrong shape", ""),
            ("component", ["Model", "Engine"], ""),
            ("impact", "3", "Two of three said 3."),
        ):
            final_value_save(first, fields[key], value=value, rationale=rationale, user=adjudicator)
        decide(first, include=True, user=adjudicator, note="A silent bug.")
        comment_post(second, author=adjudicator, body=f"@{owner.username} @{annotators[1].username}: an overflow?")
        final_value_save(second, fields["impact"], value="3", rationale="Most said 3.", user=adjudicator)
    mark_read(owner)
    with as_user(owner):
        field_update(fields["impact"], {"label": "Impact level"}, user=owner)
        choice_delete(choice_add(fields["reproduced"], {"value": "flaky"}, user=owner), user=owner)
        MembershipFactory(study=study, role="annotator", user__username="dora").delete()  # joined, then left
    admin = AdminFactory(username="root")
    with as_user(admin):  # not a member: known to the study only through its history
        choice_update(fields["reproduced"].choices.get(value="no"), {"label": "No, not at all"}, user=admin)
    return study


def everything(study: Study) -> dict:
    """The study as people see it, with ids replaced by what they stand for (usernames, issue numbers, field
    keys), so that a study in another database compares field by field."""
    keys = natural_keys(study)
    owner = study.memberships.get(role="owner").user
    study_issues = StudyIssue.objects.filter(study=study)
    issues = Issue.objects.filter(
        Q(pk__in=study_issues.values("issue")) | Q(pk__in=study_issues.values("duplicate_of"))
    )
    report = study_report(study)
    export = csv_lines(
        wide_columns(study, with_annotators=True), wide_rows(StudyAccess.everything(study), with_annotators=True)
    )
    return {
        "study": [{**row, "slug": "—"} for row in rows(keys, Study.objects.filter(pk=study.pk))],
        "fields": rows(keys, study.fields.all()),
        "choices": rows(keys, Choice.objects.filter(field__study=study)),
        "issues": rows(keys, issues),
        "issue comments": rows(keys, IssueComment.objects.filter(issue__in=issues)),
        "study issues": rows(keys, study_issues),
        "members": rows(keys, study.memberships.all()),
        "users": sorted(
            User.objects.filter(memberships__study=study)
            .distinct()
            .values_list("username", "email", "first_name", "last_name")
        ),
        "assignments": rows(keys, study.assignments.all()),
        "annotations": rows(keys, Annotation.objects.filter(assignment__study=study)),
        "final values": rows(keys, FinalValue.objects.filter(study_issue__study=study)),
        "discussion": rows(keys, DiscussionComment.objects.filter(study_issue__study=study)),
        "notifications": rows(keys, Notification.objects.filter(comment__study_issue__study=study)),
        "codebook changes": rows(keys, study.codebook_changes.all()),
        "codebook versions": rows(keys, study.codebook_versions.all()),
        "agreement": {**report, "study": "—"},
        "export": "".join(export),
        "issue histories": {
            keys[StudyIssue][study_issue.pk]: history(keys, issue_history(study_issue, StudyAccess(study, owner)))
            for study_issue in study_issues
        },
        "activity": history(keys, study_activity(StudyAccess(study, owner), limit=None)),
    }


def natural_keys(study: Study) -> dict:
    users = dict(User.objects.values_list("pk", "username"))
    issues = {issue.pk: f"{issue.repository.full_name}#{issue.number}" for issue in Issue.objects.all()}
    fields = dict(study.fields.values_list("pk", "key"))
    study_issues = {si.pk: issues[si.issue_id] for si in StudyIssue.objects.filter(study=study)}
    assignments = {a.pk: (issues[a.issue_id], users[a.annotator_id], a.stage) for a in study.assignments.all()}
    keys = {
        User: users,
        Repository: {repository.pk: repository.full_name for repository in Repository.objects.all()},
        Issue: issues,
        Study: {study.pk: "the study"},
        CodebookField: fields,
        Choice: {c.pk: (fields[c.field_id], c.value) for c in Choice.objects.filter(field__study=study)},
        StudyIssue: study_issues,
        Membership: {m.pk: (users[m.user_id], m.role) for m in study.memberships.all()},
        Assignment: assignments,
        Annotation: {
            a.pk: (assignments[a.assignment_id], fields[a.field_id])
            for a in Annotation.objects.filter(assignment__study=study)
        },
        FinalValue: {
            f.pk: (study_issues[f.study_issue_id], fields[f.field_id])
            for f in FinalValue.objects.filter(study_issue__study=study)
        },
        DiscussionComment: {
            c.pk: (study_issues[c.study_issue_id], c.body)
            for c in DiscussionComment.objects.filter(study_issue__study=study)
        },
    }
    for ids in keys.values():
        ids[None] = None
    return keys


def rows(keys: dict, queryset) -> list[dict]:
    """Every column of every row, references by their natural keys; the rendered HTML (made again) left out."""
    columns = [
        column
        for column in queryset.model._meta.concrete_fields
        if not column.primary_key and column.name not in ("body_html", "body_html_key")
    ]
    found = [
        {
            column.name: keys[column.related_model][getattr(row, column.attname)]
            if column.is_relation
            else getattr(row, column.attname)
            for column in columns
        }
        for row in queryset
    ]
    return sorted(found, key=repr)


# What each kind of change is about, and what the id columns of a change refer to.
OBJECTS = {
    "study settings": Study,
    "membership": Membership,
    "issue stage and decision": StudyIssue,
    "assignment": Assignment,
    "annotation": Annotation,
    "final value": FinalValue,
    "discussion comment": DiscussionComment,
    "codebook field": CodebookField,
    "codebook choice": Choice,
}
REFERENCES = {
    "study_id": Study,
    "issue_id": Issue,
    "duplicate_of_id": Issue,
    "annotator_id": User,
    "user_id": User,
    "decided_by_id": User,
    "set_by_id": User,
    "author_id": User,
    "field_id": CodebookField,
    "assignment_id": Assignment,
    "study_issue_id": StudyIssue,
}


def history(keys: dict, changes) -> list[tuple]:
    """Changes with ids as natural keys; a row deleted since has none, and is numbered as it first appears."""
    deleted: dict[tuple, str] = {}
    numbers = count(1)

    def key(model, value):
        if value is None or int(value) in keys[model]:
            return keys[model][None if value is None else int(value)]
        return deleted.setdefault((model, int(value)), f"deleted {model.__name__} {next(numbers)}")

    readable = []
    for change in sorted(changes, key=lambda change: change.at):
        fields = [
            (name, *(key(REFERENCES[name], value) if name in REFERENCES else value for value in values))
            for name, *values in change.changes
        ]
        readable.append(
            (
                change.at,
                change.user,
                change.what,
                change.action,
                key(OBJECTS[change.what], change.object_id),
                fields,
                change.url,
            )
        )
    # Changes made in one statement share a time; their order among themselves is not part of the history.
    return sorted(readable, key=repr)


@pytest.mark.django_db(transaction=True)  # committed: each change at its own time, the export in its own snapshot
def test_a_study_moves_to_an_instance_without_it_its_people_or_its_issues(tmp_path):
    study = build_study()
    before = everything(study)
    sources = sorted(FinalValue.objects.values_list("field__key", "source", "agreed_by"))
    assert {source for _, source, _ in sources} == {"agreed", "adjudicated"}
    usernames = sorted(User.objects.values_list("username", flat=True))
    file = tmp_path / "study.json.gz"
    call_command("export_study", "tf-silent", "-o", str(file), stdout=io.StringIO())
    # Another instance: none of it is there.
    study.delete()
    Issue.objects.all().delete()
    User.objects.all().delete()

    out = io.StringIO()
    call_command("import_study", str(file), stdout=out)

    after = everything(Study.objects.get(slug="tf-silent"))
    for part in before:
        assert after[part] == before[part], part
    assert sorted(FinalValue.objects.values_list("field__key", "source", "agreed_by")) == sources  # who agreed too
    assert {"dora", "root"} <= set(usernames) and sorted(User.objects.values_list("username", flat=True)) == usernames
    assert not any(user.has_usable_password() for user in User.objects.all())
    assert f"{len(usernames)} new accounts, without a password" in out.getvalue()
    assert all(f"\n  {username}\n" in out.getvalue() for username in usernames)


def test_a_study_imported_under_a_new_slug_uses_the_issues_and_people_already_here(tmp_path):
    study = build_study()
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study, out)
    edited = study.issues.first()
    Issue.objects.filter(pk=edited.pk).update(title="Edited here since")  # this instance's copy wins
    issues, comments, users = Issue.objects.count(), IssueComment.objects.count(), User.objects.count()

    out = io.StringIO()
    call_command("import_study", str(file), "--slug", "tf-silent-copy", stdout=out)

    copy = Study.objects.get(slug="tf-silent-copy")
    assert (Issue.objects.count(), IssueComment.objects.count(), User.objects.count()) == (issues, comments, users)
    assert copy.issues.get(pk=edited.pk).title == "Edited here since"
    assert everything(copy) == everything(study)
    assert "0 of the issues were new here" in out.getvalue() and "new accounts" not in out.getvalue()


def test_the_import_records_no_history_of_its_own(tmp_path, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        exported = export_study(study_issue.study, out)
    events = sum(event.objects.count() for event in EVENTS)

    import_study(file, slug="copy")

    in_file = sum(exported[event._meta.label_lower] for event in EVENTS)
    assert in_file > 20 and sum(event.objects.count() for event in EVENTS) == events + in_file


def test_a_study_exported_before_agreed_values_imports_with_its_final_values_adjudicated(tmp_path, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study_issue.study, out)
    # As an older instance wrote it: final values without a source or who agreed.
    text = re.sub(r', "source": "agreed", "agreed_by": \[[^]]*\]', "", gzip.decompress(file.read_bytes()).decode())
    assert '"agreed_by"' not in text
    file.write_bytes(gzip.compress(text.encode()))

    import_study(file, slug="older")

    copied = FinalValue.objects.filter(study_issue__study__slug="older")
    assert sorted(copied.values_list("field__key", "source", "agreed_by")) == [
        ("component", "adjudicated", []),
        ("scenario", "adjudicated", []),
    ]


def test_a_slug_in_use_is_refused_and_nothing_is_written(tmp_path, labelled):
    study = labelled[0].study
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study, out)
    studies, users, changes = Study.objects.count(), User.objects.count(), CodebookChange.objects.count()

    with pytest.raises(CommandError, match=f"There is a study '{study.slug}' here already: import it under another"):
        call_command("import_study", str(file))

    assert (Study.objects.count(), User.objects.count(), CodebookChange.objects.count()) == (studies, users, changes)


def corrupt(data: bytes, how: str) -> bytes:
    text = gzip.decompress(data).decode()
    lines = text.splitlines(keepends=True)
    match how:
        case "not gzip":
            return text.encode()
        case "truncated":
            return data[: len(data) * 2 // 3]
        case "cut at a record":
            return gzip.compress("".join(lines[: len(lines) * 2 // 3]).encode())
        case "wrong version":
            return gzip.compress(text.replace('"version": 1,', '"version": 99,', 1).encode())
        case "invalid JSON":
            lines[len(lines) * 2 // 3] = '["studies.annotation", {"id": 1, "value": \n'
            return gzip.compress("".join(lines).encode())
        case "dangling reference":
            at = next(n for n, line in enumerate(lines) if line.startswith('["studies.annotation"'))
            lines[at] = re.sub(r'"field_id": \d+', '"field_id": 999999', lines[at])
            return gzip.compress("".join(lines).encode())
        case "not an export":
            return gzip.compress(b'{"id": 1, "number": 7, "title": "An issue dump"}\n')
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how, message",
    [
        ("not gzip", "is not a gzip file"),
        ("truncated", "is truncated: the compressed data ends early"),
        ("cut at a record", "The file ends before its last record: it is truncated"),
        ("wrong version", "This export has format version 99; this instance reads version 1"),
        ("invalid JSON", "is not a record"),
        ("dangling reference", "The database refused a record"),
        ("not an export", "This file is not a study export"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_is_written(tmp_path, labelled, how, message):
    study_issue, _, _, assignments = labelled
    label(assignments[0], impact="2")
    exported = io.BytesIO()
    export_study(study_issue.study, exported)
    file = tmp_path / "study.json.gz"
    file.write_bytes(corrupt(exported.getvalue(), how))
    before = [model.objects.count() for model in (Study, User, Issue, Membership, Annotation, *EVENTS)]

    with pytest.raises(CommandError, match=f"(?s){message}.*Nothing was imported"):
        call_command("import_study", str(file), "--slug", "copy")

    assert [model.objects.count() for model in (Study, User, Issue, Membership, Annotation, *EVENTS)] == before


def test_a_missing_file_a_bad_slug_or_an_unknown_study_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.json.gz"):
        call_command("import_study", str(tmp_path / "missing.json.gz"))
    with pytest.raises(CommandError, match="'no spaces': Enter a valid “slug”"):
        call_command("import_study", str(tmp_path / "missing.json.gz"), "--slug", "no spaces")
    with pytest.raises(CommandError, match="No study 'nope'"):
        call_command("export_study", "nope", "-o", str(tmp_path / "out.json.gz"))
    assert not (tmp_path / "out.json.gz").exists()


def test_gold_issues_training_and_checks_move_with_the_study(tmp_path):
    """studies/gold.py: the reference answers and rationales, and which assignments are training and checks."""
    study = build_study()
    owner = study.memberships.filter(role="owner").first().user
    gold_issue = study.issues.order_by("pk").last()
    gold_item_save(
        study=study,
        issue=gold_issue,
        user=owner,
        answers={"scenario": ("Wrong shape", "The shape is wrong."), "component": (["Model"], "")},
    )
    trainee = MembershipFactory(study=study, role="annotator").user
    Assignment.objects.create(study=study, issue=gold_issue, annotator=trainee, stage="labelling", purpose="training")
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study, out)

    call_command("import_study", str(file), "--slug", "tf-silent-copy", stdout=io.StringIO())

    copy = Study.objects.get(slug="tf-silent-copy")
    (item,) = copy.gold_items.all()
    assert item.issue == gold_issue and item.created_by == owner
    assert {(a.field.key, repr(a.value), a.rationale) for a in item.answers.all()} == {
        ("scenario", "'Wrong shape'", "The shape is wrong."),
        ("component", "['Model']", ""),
    }
    assert item.answers.first().field.study == copy
    assert list(copy.assignments.exclude(purpose="real").values_list("annotator", "purpose")) == [
        (trainee.pk, "training")
    ]


def test_primary_statistics_and_their_history_move_with_the_study(tmp_path):
    """agreement's PrimaryStatistic rows, registered from agreement/apps.py: the declaration, who made it and when,
    a change after labelling started with its reason, and every version in the history."""
    study = build_study()
    owner = study.memberships.filter(role="owner").first().user
    scenario = study.fields.get(key="scenario")
    first = primary_declare(
        field=scenario,
        statistic="krippendorff_alpha",
        threshold=Decimal("0.8"),
        source="Krippendorff, 2004",
        reason="declared late in this test",
        user=owner,
        version=0,
    )
    primary_declare(
        field=scenario,
        statistic="gwet_ac1",
        threshold=Decimal("0.7"),
        source="Gwet, 2014",
        reason="AC1 copes with a dominant scenario",
        user=owner,
        version=first.version,
    )
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        exported = export_study(study, out)

    call_command("import_study", str(file), "--slug", "tf-silent-copy", stdout=io.StringIO())

    assert exported["agreement.primarystatistic"] == 1 and exported["agreement.primarystatisticevent"] == 2
    copy = Study.objects.get(slug="tf-silent-copy")
    (moved,) = PrimaryStatistic.objects.filter(study=copy)
    original = PrimaryStatistic.objects.get(study=study)
    assert moved.field == copy.fields.get(key="scenario") and moved.pk != original.pk
    columns = ("statistic", "threshold", "source", "reason", "after_labelling_started", "declared_by", "declared_at")
    assert [getattr(moved, name) for name in columns] == [getattr(original, name) for name in columns]
    history = declarations([moved.field_id])[moved.field_id]
    assert [(d.statistic, d.reason, d.declared_by) for d in history] == [
        ("krippendorff_alpha", "declared late in this test", owner.username),
        ("gwet_ac1", "AC1 copes with a dominant scenario", owner.username),
    ]
    assert study_report(copy)["fields"]["scenario"]["primary"]["statistic"] == "gwet_ac1"


# --- Surveys (surveys/transfer.py, registered from surveys/apps.py) ---

SURVEY_COLUMNS = (
    "title",
    "intro",
    "consent",
    "codebook_version",
    "items",
    "severity_scale",
    "severity_source",
    "background",
    "opens_at",
    "closes_at",
    "response_limit",
    "closed",
    "created_at",
)


def surveyed(study: Study) -> tuple[Survey, list[Client]]:
    """A survey of the study answered in three browsers: two submitted, the third still in progress."""
    survey = survey_of(study, background=[("role", "Your role", ("developer", "researcher"))])
    Survey.objects.filter(pk=survey.pk).update(created_by=study.memberships.filter(role="owner").first().user)
    browsers = []
    for n, (role, met) in enumerate((("developer", "yes"), ("researcher", "no"), ("developer", "yes"))):
        browser = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        browser.post(reverse("surveys:respond", args=[survey.token]), {"agree": "on"})
        browser.post(reverse("surveys:section", args=[survey.token, 1]), {"bg_role": role})
        answers = {"i0_met": met, "i0_severity": "3", "i0_comment": f"=1+{n}, seen twice"}
        browser.post(reverse("surveys:section", args=[survey.token, 2]), answers)
        if n < 2:
            browser.post(reverse("surveys:submit", args=[survey.token]))
        browsers.append(browser)
    assert survey.responses.filter(submitted_at__isnull=True).count() == 1
    return Survey.objects.get(pk=survey.pk), browsers


def survey_state(survey: Survey) -> dict:
    """What a survey holds, without its ids: its frozen questions, its responses and their CSV."""
    header, lines = response_rows(survey)
    return {
        "survey": [getattr(survey, name) for name in SURVEY_COLUMNS] + [survey.created_by.username],
        "responses": list(
            survey.responses.order_by("started_at", "pk").values_list(
                "respondent", "answers", "page", "started_at", "updated_at", "submitted_at"
            )
        ),
        "csv": "".join(csv_lines(header, lines)),
    }


def test_a_survey_and_its_responses_move_with_the_study_and_its_link_keeps_working(tmp_path):
    study = build_study()
    survey, browsers = surveyed(study)
    before, token = survey_state(survey), survey.token
    file = tmp_path / "study.json.gz"
    call_command("export_study", "tf-silent", "-o", str(file), stdout=io.StringIO())
    study.delete()  # another instance: the survey is not there

    out = io.StringIO()
    call_command("import_study", str(file), stdout=out)

    moved = Survey.objects.get(study__slug="tf-silent")
    assert moved.token == token and "new public link" not in out.getvalue()
    assert survey_state(moved) == before
    assert len(before["responses"]) == 3 and "in progress" in before["csv"]
    # The same link: the respondents who submitted are thanked, the one in progress resumes where they were.
    submitted, _, in_progress = browsers
    assert "Thank you: your answers are in." in submitted.get(reverse("surveys:respond", args=[token])).text
    resumed = in_progress.get(reverse("surveys:respond", args=[token]))
    assert resumed["Location"] == reverse("surveys:section", args=[token, 3])
    assert in_progress.post(reverse("surveys:submit", args=[token])).status_code == 302
    assert moved.responses.filter(submitted_at__isnull=True).count() == 0
    assert Client().get(reverse("surveys:respond", args=[token])).status_code == 200


def test_a_survey_imported_beside_its_original_gets_a_new_link_and_says_so(tmp_path):
    study = build_study()
    survey, browsers = surveyed(study)
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(study, out)

    out = io.StringIO()
    call_command("import_study", str(file), "--slug", "tf-silent-copy", stdout=out)

    copy = Survey.objects.get(study__slug="tf-silent-copy")
    assert copy.token != survey.token and re.fullmatch(r"[A-Za-z0-9_-]{32}", copy.token)
    link = reverse("surveys:respond", args=[copy.token])
    assert f"Survey 'Silent bugs in deep-learning frameworks' has a new public link, {link}" in out.getvalue()
    assert survey_state(copy) == survey_state(survey)
    # The old link still leads to the original, where the respondent in progress still is.
    assert Survey.objects.get(token=survey.token) == survey
    assert browsers[2].get(reverse("surveys:respond", args=[survey.token]))["Location"].endswith("/3/")
    assert Client().get(link).status_code == 200


def test_a_survey_token_that_could_be_guessed_is_refused_and_nothing_is_written(tmp_path):
    study = build_study()
    survey, _ = surveyed(study)
    exported = io.BytesIO()
    export_study(study, exported)
    file = tmp_path / "study.json.gz"
    file.write_bytes(gzip.compress(gzip.decompress(exported.getvalue()).replace(survey.token.encode(), b"survey1")))
    before = [model.objects.count() for model in (Study, User, Survey, SurveyResponse, Annotation)]

    with pytest.raises(CommandError, match="(?s)public token that is not a random one.*Nothing was imported"):
        call_command("import_study", str(file), "--slug", "copy")

    assert [model.objects.count() for model in (Study, User, Survey, SurveyResponse, Annotation)] == before


def test_an_export_from_before_surveys_still_imports(tmp_path, monkeypatch):
    study = build_study()
    surveyed(study)
    older = [rows for rows in transfer.STUDY_ROWS_OF_OTHER_APPS if rows.model._meta.app_label != "surveys"]
    file = tmp_path / "study.json.gz"
    with monkeypatch.context() as before_surveys, file.open("wb") as out:
        before_surveys.setattr(transfer, "STUDY_ROWS_OF_OTHER_APPS", older)
        exported = export_study(study, out)
    assert not any(kind.startswith("surveys.") for kind in exported)

    call_command("import_study", str(file), "--slug", "older", stdout=io.StringIO())

    assert everything(Study.objects.get(slug="older")) == everything(study)
    assert not Survey.objects.filter(study__slug="older").exists()
