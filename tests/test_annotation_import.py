"""Annotations from a spreadsheet: all or nothing, every error with its line, and an exact round trip."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from issues.models import Issue
from studies.annotation import annotation_save, assignment_submit
from studies.annotation_import import AnnotationImportError, import_annotations
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, Choice, FinalValue, IssueStage, StudyIssue, StudyIssueEvent
from studies.workflow import final_value_save
from tests.factories import IssueFactory, MembershipFactory, StudyFactory, StudyIssueFactory, UserFactory
from tests.helpers import FormPage, label

pytestmark = pytest.mark.django_db


def csv_of(*rows: str) -> str:
    return "issue,annotator,field,value,uncertain,note,kind,stage,comment\n" + "\n".join(rows) + "\n"


@pytest.fixture
def target(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = IssueFactory(repository__owner="tf", repository__name="tf")
    people = [UserFactory(username=name) for name in ("ann", "bob")]
    return study, issue, people


def test_a_file_with_errors_writes_nothing_and_lists_every_error_with_its_line(target):
    study, issue, _ = target
    ref = f"tf/tf#{issue.number}"
    text = csv_of(
        f"{ref},ann,impact,3,,,,,",
        "tf/tf#999999,ann,impact,3,,,,,",
        f"{ref},zed,impact,3,,,,,",
        f"{ref},ann,nope,3,,,,,",
        f"{ref},bob,impact,high,,,,,",
        f"{ref},bob,scenario,Wrong shape,,,,screening,",
        f"{ref},bob,component,Model,,,,,",
        f"{ref},bob,component,Model,,,,,",
    )

    with pytest.raises(AnnotationImportError) as raised:
        import_annotations(study, text)

    assert raised.value.errors == [
        "line 3: 'tf/tf#999999' is not an imported issue (a GitHub URL or owner/name#N)",
        "line 4: no user 'zed' (--create-users makes an inactive account)",
        "line 5: 'nope' is not a field of the codebook",
        "line 6: 'high' is not a choice of impact (--create-choices adds it)",
        "line 7: scenario is a labelling field, not screening",
        "line 8: component: a value is given twice",
    ]
    assert not Annotation.objects.exists() and not StudyIssue.objects.exists()


def test_loose_matches_new_choices_new_users_and_stage_moves(target):
    study, issue, _ = target
    ref = f"https://github.com/tf/tf/issues/{issue.number}"
    text = csv_of(
        f"{ref},ann,scenario,  wrong SHAPE ,1,looks like it,,,",
        f"{ref},ann,component,Model,,,,,",
        f"{ref},ann,component,Engine,,,,,",
        f"{ref},ann,impact,2,,,,,",
        f"{ref},cyd,root_cause,Shape confusion,,,,,",
        f"{ref},cyd,scenario,Wrong shape,,,,,",
        f"{ref},cyd,component,Model,,,,,",
        f"{ref},cyd,impact,2,,,,,",
    )

    result = import_annotations(study, text, create_users=True, create_choices=True)

    assert result.warnings == ["line 2: 'wrong SHAPE' read as the choice 'Wrong shape' of scenario"]
    assert result.users_created == ["cyd"] and result.choices_created == ["root_cause: Shape confusion"]
    cyd = get_user_model().objects.get(username="cyd")
    assert not cyd.is_active and not cyd.has_usable_password() and cyd.groups.filter(name="imported annotators")
    ann = Annotation.objects.get(assignment__annotator__username="ann", field__key="scenario")
    assert (ann.value, ann.uncertain, ann.note) == ("Wrong shape", True, "looks like it")
    assert Annotation.objects.get(assignment__annotator__username="ann", field__key="component").value == [
        "Model",
        "Engine",
    ]
    assert Choice.objects.filter(field__key="root_cause", value="Shape confusion").exists()
    assert set(Assignment.objects.values_list("status", flat=True)) == {"submitted"}
    study_issue = StudyIssue.objects.get(study=study, issue=issue)
    assert study_issue.stage == IssueStage.RECONCILIATION  # every imported annotator has submitted
    assert StudyIssueEvent.objects.filter(pgh_obj=study_issue, stage=IssueStage.RECONCILIATION).exists()


def test_a_dry_run_checks_and_writes_nothing(target):
    study, issue, _ = target

    result = import_annotations(study, csv_of(f"tf/tf#{issue.number},ann,impact,3,,,,,"), dry_run=True)

    assert result.dry_run and not Annotation.objects.exists() and not StudyIssue.objects.exists()


def test_votes_and_final_values(study):
    study.screening = True
    study.save()
    codebook_load(study, preset("silent-bugs"), screening=True)
    issue = IssueFactory(repository__owner="tf", repository__name="tf")
    for name in ("ann", "bob", "judge"):
        UserFactory(username=name)
    ref = f"tf/tf#{issue.number}"

    import_annotations(
        study,
        csv_of(
            f"{ref},ann,silent_bug,yes,,,,screening,silent NaN",
            f"{ref},bob,silent_bug,1,,,,screening,",
            f"{ref},judge,impact,3,,agreed in the meeting,final,,",
        ),
    )

    vote = Annotation.objects.get(assignment__annotator__username="ann")
    assert vote.value == {"vote": True, "comment": "silent NaN"}
    final = FinalValue.objects.get()
    assert (final.value, final.rationale, final.set_by.username) == (3, "agreed in the meeting", "judge")
    assert study.memberships.filter(user__username="judge", role="adjudicator").exists()
    assert StudyIssue.objects.get(issue=issue).stage == IssueStage.RECONCILIATION


def test_export_then_import_into_a_fresh_study_gives_the_same_annotations_and_agreement(labelled):
    study_issue, adjudicator, _, assignments = labelled
    root_cause = study_issue.study.fields.get(key="root_cause")
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact, uncertain=impact == "3", submit=False)
        annotation_save(assignment=assignment, field=root_cause, value={"other": "Type confusion"}, note="=1+1")
        assignment_submit(assignment=assignment)
    impact = study_issue.study.fields.get(key="impact")
    final_value_save(study_issue, impact, value="3", rationale="training, on GPU", user=adjudicator)
    exported = io.StringIO()
    call_command("export_labels", "--study", study_issue.study.slug, "--layout", "long", stdout=exported)
    fresh = StudyFactory(slug="replication")
    codebook_load(fresh, preset("silent-bugs"), screening=False)
    for assignment in assignments:
        MembershipFactory(study=fresh, user=assignment.annotator, role="annotator")

    result = import_annotations(fresh, exported.getvalue())

    def annotations(study):
        found = Annotation.objects.filter(assignment__study=study).select_related("field", "assignment__annotator")
        return sorted(
            (
                a.assignment.issue_id,
                a.assignment.annotator.username,
                a.field.key,
                json.dumps(a.value),
                a.uncertain,
                a.note,
            )
            for a in found
        )

    def agreement(study):
        out = io.StringIO()
        call_command("agreement", "--study", study.slug, "--json", stdout=out)
        return json.loads(out.getvalue())["fields"]

    assert (
        result.annotations == len(annotations(study_issue.study)) and result.final_values == 1
    )  # the adjudicated one
    assert annotations(fresh) == annotations(study_issue.study)
    assert agreement(fresh) == agreement(study_issue.study)

    def finals(study):
        return sorted(
            FinalValue.objects.filter(study_issue__study=study).values_list(
                "field__key", "value", "source", "agreed_by"
            )
        )

    # The agreed ones (scenario, component, root cause: Other) come back as agreed, with who agreed.
    assert finals(fresh) == finals(study_issue.study)
    assert [(key, source) for key, _, source, _ in finals(fresh)] == [
        ("component", "agreed"),
        ("impact", "adjudicated"),
        ("root_cause", "agreed"),
        ("scenario", "agreed"),
    ]


def test_the_command_reports_errors_and_fails(target, tmp_path):
    study, issue, _ = target
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of(f"tf/tf#{issue.number},ann,impact,9,,,,,"), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: 1 error."):
        call_command("import_annotations", str(bad), "--study", study.slug, stderr=err)

    assert "line 2: '9' is not a choice of impact" in err.getvalue()


def test_an_owner_uploads_a_file_checked_first_then_imported(client, target):
    study, issue, _ = target
    Issue.objects.filter(pk=issue.pk).update(shared=True)  # an admin shared it: the owner may reach it
    owner = MembershipFactory(study=study, role="owner").user
    text = csv_of(f"tf/tf#{issue.number},ann,impact,3,,,,,", f"tf/tf#{issue.number},bob,impact,4,,,,,")
    url = reverse("studies:annotations_upload", args=[study.slug])
    client.force_login(owner)

    checked = client.post(url, {"csv": SimpleUploadedFile("a.csv", text.encode()), "dry_run": "on"}, follow=True)
    assert "The file is fine (dry run: nothing was written)." in checked.text and not Annotation.objects.exists()
    imported = client.post(url, {"csv": SimpleUploadedFile("a.csv", text.encode())}, follow=True)
    refused = client.post(
        url, {"csv": SimpleUploadedFile("b.csv", csv_of("x/y#1,ann,impact,3,,,,,").encode()), "replace": "on"}
    )

    page = FormPage(refused.text)
    assert "2 annotations and 0 final values imported" in imported.text
    assert refused.status_code == 422
    assert page.errors_at("upload-csv") == [
        "Nothing was imported: 1 error.",
        "line 2: 'x/y#1' is not an imported issue (a GitHub URL or owner/name#N)",
    ]
    assert page.checked("upload-replace") and not page.checked("upload-dry_run")
    assert Annotation.objects.count() == 2


def test_an_owners_upload_cannot_reach_issues_imported_for_another_study(client, target):
    """Finding 6 of issue 12: uploads accepted any imported issue. An issue that is neither shared nor in the
    owner's study is answered exactly like one that does not exist, and nothing is written."""
    study, issue, _ = target
    theirs = StudyIssueFactory(issue=issue).study  # imported for another study only
    owner = MembershipFactory(study=study, role="owner").user
    client.force_login(owner)
    url = reverse("studies:annotations_upload", args=[study.slug])

    refused = client.post(
        url,
        {"csv": SimpleUploadedFile("a.csv", csv_of(f"tf/tf#{issue.number},ann,impact,3,,,,,").encode())},
        follow=True,
    )

    assert f"line 2: &#x27;tf/tf#{issue.number}&#x27; is not an imported issue" in refused.text
    assert not Annotation.objects.exists() and not study.study_issues.exists()
    assert list(theirs.study_issues.values_list("issue", flat=True)) == [issue.pk]


def test_the_command_changes_a_submitted_answer_only_with_replace(target, tmp_path):
    study, issue, (ann, _) = target
    ref = f"tf/tf#{issue.number}"
    first = tmp_path / "first.csv"
    first.write_text(csv_of(f"{ref},ann,impact,3,,,,,", f"{ref},bob,impact,3,,,,,"), encoding="utf-8")
    call_command("import_annotations", str(first), "--study", study.slug, stdout=io.StringIO())
    change = tmp_path / "change.csv"
    change.write_text(csv_of(f"{ref},ann,impact,1,,,,,"), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: 1 error."):
        call_command("import_annotations", str(change), "--study", study.slug, stderr=err)
    before = Annotation.objects.get(assignment__annotator=ann, field__key="impact")
    call_command("import_annotations", str(change), "--study", study.slug, "--replace", stdout=io.StringIO())
    after = Annotation.objects.get(pk=before.pk)

    assert f"ann has submitted {ref}; their impact stays '3'" in err.getvalue()
    assert (before.value, after.value, after.version) == (3, 1, before.version + 1)


def test_a_row_on_someones_gold_check_is_refused_and_their_check_stays(target):
    """ann is checked on the issue (a gold issue, studies/gold.py): an imported label there would land on her check
    and count nowhere, so the file is refused, by line."""
    study, issue, (ann, _) = target
    StudyIssueFactory(study=study, issue=issue, stage=IssueStage.DECIDED)
    Assignment.objects.create(study=study, issue=issue, annotator=ann, stage="labelling", purpose="check")

    with pytest.raises(AnnotationImportError) as raised:
        import_annotations(study, csv_of(f"tf/tf#{issue.number},ann,impact,3,,,,,"), replace=True)

    assert raised.value.errors == [
        f"line 2: ann trains or is checked on tf/tf#{issue.number}, a gold issue; their answers there are not labels "
        "of it"
    ]
    assert not Annotation.objects.exists()
