"""The six ways an attacker broke blind labelling before the access policy (issue 12), each walked again.

Every value, note, comment and rationale below is a unique marker, so that a
leak anywhere in a page or a file is found. Each test failed on the code
before studies/access.py and passes since.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.discussion import comment_post
from studies.models import Annotation, FinalValue, IssueStage, Stage, StudyIssue
from studies.workflow import decide, final_value_save
from tests.factories import (
    AssignmentFactory,
    IssueFactory,
    MembershipFactory,
    StudyFactory,
    StudyIssueFactory,
    UserFactory,
)
from tests.helpers import page

pytestmark = pytest.mark.django_db


def member(study, *roles):
    user = UserFactory()
    for role in roles:
        MembershipFactory(study=study, user=user, role=role)
    return user


def fields(study):
    return {field.key: field for field in study.fields.all()}


def labelled(study, study_issue, answers: dict, *, not_submitted=()):
    """Every annotator of `answers` ({user: (marker, impact)}) is assigned first, then answers, every text a
    marker; all submit but those `not_submitted`."""
    assignments = {
        user: AssignmentFactory(study=study, issue=study_issue.issue, annotator=user, stage=Stage.LABELLING)
        for user in answers
    }
    by_key = fields(study)
    for user, (marker, impact) in answers.items():
        assignment = assignments[user]
        annotation_save(assignment=assignment, field=by_key["scenario"], value={"other": f"{marker}-other"})
        annotation_save(assignment=assignment, field=by_key["component"], value=["Model"])
        annotation_save(assignment=assignment, field=by_key["impact"], value=impact, note=f"{marker}-note")
    for user, assignment in assignments.items():
        if user not in not_submitted:
            assignment_submit(assignment=assignment)
    study_issue.refresh_from_db()


def test_1_the_history_tab_hides_votes_and_values_of_issues_the_viewer_does_not_label(client):
    study = StudyFactory(screening=True)
    codebook_load(study, preset("silent-bugs"))
    voter, other_voter, bystander = (member(study, "annotator") for _ in range(3))
    screened = StudyIssueFactory(study=study, stage=IssueStage.SCREENING)
    for person in (voter, other_voter):
        AssignmentFactory(study=study, issue=screened.issue, annotator=person, stage=Stage.SCREENING)
    vote = annotation_save(
        assignment=voter.assignments.get(),
        field=fields(study)["silent_bug"],
        value={"vote": True, "comment": "VOTE-COMMENT-MARK"},
        note="VOTE-NOTE-MARK",
    )
    in_labelling = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    labelled(study, in_labelling, {voter: ("LABEL-MARK", "2")}, not_submitted=[voter])
    client.force_login(bystander)

    pages = [client.get(page(study_issue, "studies:issue_history")) for study_issue in (screened, in_labelling)]

    assert vote.pk and all(response.status_code == 200 for response in pages)
    for marker in ("VOTE-COMMENT-MARK", "VOTE-NOTE-MARK", "LABEL-MARK-other", "LABEL-MARK-note"):
        assert not any(marker in response.text for response in pages), marker


def test_2_an_adjudicator_who_labels_an_issue_gets_no_agreement_over_it_before_the_reveal(client):
    study = StudyFactory(screening=False)
    codebook_load(study, preset("silent-bugs"), screening=False)
    first, second = member(study, "annotator"), member(study, "annotator")
    adjudicator = member(study, "annotator", "adjudicator")
    theirs = StudyIssueFactory(study=study)  # all three label it; the adjudicator has not submitted yet
    answers = {first: ("A", "1"), second: ("B", "4"), adjudicator: ("C", "2")}
    labelled(study, theirs, answers, not_submitted=[adjudicator])
    revealed = StudyIssueFactory(study=study)  # labelled by the other two only, now in reconciliation
    labelled(study, revealed, {first: ("D", "3"), second: ("E", "3")})
    client.force_login(adjudicator)

    report = client.get(reverse("agreement:report", args=[study.slug]), {"format": "json"}).json()
    html = client.get(reverse("agreement:report", args=[study.slug])).text

    assert StudyIssue.objects.get(pk=theirs.pk).stage == IssueStage.LABELLING
    assert report["fields"]["impact"]["items"] == 1  # the revealed issue only
    assert report["fields"]["impact"]["percent_agreement"] == 1.0
    # The confusion matrix holds the revealed issue alone: no cell counts the hidden pair of values (1, 4).
    assert "3 / 3: 1<" in html and "1 / 4: 1<" not in html and "4 / 1: 1<" not in html


def test_3_history_and_compare_agree_for_an_issues_own_annotator(client):
    study = StudyFactory(screening=True, reveal_after_decision=True)
    codebook_load(study, preset("silent-bugs"))
    voter, other_voter = member(study, "annotator"), member(study, "annotator")
    adjudicator = member(study, "adjudicator")
    discussed = StudyIssueFactory(study=study, stage=IssueStage.DISCUSSION)
    AssignmentFactory(study=study, issue=discussed.issue, annotator=voter, stage=Stage.SCREENING)
    comment_post(discussed, author=adjudicator, body="DISCUSSION-MARK")
    reconciled = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    labelled(study, reconciled, {voter: ("MINE", "2"), other_voter: ("THEIRS", "3")})
    final_value_save(
        reconciled, fields(study)["impact"], value="2", rationale="RATIONALE-MARK", user=adjudicator, version=0
    )
    comment_post(reconciled, author=adjudicator, body="RECONCILIATION-MARK")
    client.force_login(voter)

    for study_issue, markers in (
        (discussed, ["DISCUSSION-MARK"]),
        (reconciled, ["RATIONALE-MARK", "RECONCILIATION-MARK", "THEIRS-note", "THEIRS-other"]),
    ):
        compare = client.get(page(study_issue))
        history = client.get(page(study_issue, "studies:issue_history"))
        for marker in markers:
            assert marker not in history.text, marker
        assert compare.status_code == 403
        assert history.status_code == 200 and "Compare</a>" not in history.text
    assert "MINE-note" in client.get(page(reconciled, "studies:issue_history")).text  # one's own stays


def test_4_reveal_after_decision_holds_on_the_agreement_page_and_for_members_who_do_not_label(client):
    study = StudyFactory(screening=False, reveal_after_decision=True, annotators_see_agreement=True)
    codebook_load(study, preset("silent-bugs"), screening=False)
    first, second, bystander = (member(study, "annotator") for _ in range(3))
    study_issue = StudyIssueFactory(study=study)
    labelled(study, study_issue, {first: ("FIRST", "1"), second: ("SECOND", "4")})

    client.force_login(first)
    report = client.get(reverse("agreement:report", args=[study.slug]), {"format": "json"}).json()
    client.force_login(bystander)
    compare = client.get(page(study_issue))

    assert StudyIssue.objects.get(pk=study_issue.pk).stage == IssueStage.RECONCILIATION
    assert report["fields"]["impact"]["items"] == 0
    assert compare.status_code == 403 and "SECOND-note" not in compare.text


def test_5_an_upload_never_silently_changes_a_submitted_answer_or_a_decided_issue(client):
    study = StudyFactory(screening=False)
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner, adjudicator = member(study, "owner"), member(study, "adjudicator")
    annotator, other = member(study, "annotator"), member(study, "annotator")
    submitted = StudyIssueFactory(study=study)
    labelled(study, submitted, {annotator: ("S", "2"), other: ("S2", "2")}, not_submitted=[other])
    decided = StudyIssueFactory(study=study)
    labelled(study, decided, {annotator: ("D1", "3"), other: ("D2", "3")})
    for key, value in (("scenario", "Wrong shape"), ("component", ["Model"]), ("impact", "3")):
        final_value_save(decided, fields(study)[key], value=value, rationale="agreed", user=adjudicator)
    decide(decided, include=True, user=adjudicator, version=decided.version)
    client.force_login(owner)

    def upload(*lines, **options):
        text = "issue,annotator,field,value,uncertain,note,kind\n" + "\n".join(lines) + "\n"
        data = {"csv": SimpleUploadedFile("labels.csv", text.encode()), **options}
        return client.post(reverse("studies:annotations_upload", args=[study.slug]), data, follow=True).text

    def ref(study_issue):
        return f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}"

    answer = Annotation.objects.get(
        assignment__issue=submitted.issue, assignment__annotator=annotator, field__key="impact"
    )
    final = FinalValue.objects.get(study_issue=decided, field__key="impact")
    refused = upload(
        f"{ref(submitted)},{annotator.username},impact,4,,,annotation",
        f"{ref(decided)},{adjudicator.username},impact,1,,,final",
    )
    unchanged = (Annotation.objects.get(pk=answer.pk), FinalValue.objects.get(pk=final.pk))
    replaced = upload(f"{ref(submitted)},{annotator.username},impact,4,,,annotation", replace="on")

    assert f"{annotator.username} has submitted {ref(submitted)}" in refused
    assert f"{ref(decided)} is decided; re-open it" in refused
    assert (unchanged[0].value, unchanged[0].version, unchanged[1].value, unchanged[1].version) == (
        2,
        answer.version,
        3,
        final.version,
    )
    assert "1 annotations and 0 final values imported" in replaced
    now = Annotation.objects.get(pk=answer.pk)
    assert (now.value, now.version) == (4, answer.version + 1)  # versioned: an open tab gets a 409
    history = client.get(page(submitted, "studies:issue_history")).text
    assert re.search(r"impact|value", history) and "<ins>4 — different results</ins>" in history


def test_5_a_tab_open_before_an_upload_changed_a_final_value_gets_a_conflict(client):
    study = StudyFactory(screening=False)
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner, adjudicator = member(study, "owner"), member(study, "adjudicator")
    annotator, other = member(study, "annotator"), member(study, "annotator")
    study_issue = StudyIssueFactory(study=study)
    labelled(study, study_issue, {annotator: ("A", "2"), other: ("B", "4")})
    final_value_save(study_issue, fields(study)["impact"], value="2", rationale="first", user=adjudicator, version=0)
    client.force_login(adjudicator)
    shown = client.get(page(study_issue)).text  # the adjudicator's tab, showing that final value
    version = re.search(r'id="final-impact".*?name="version" value="(\d+)"', shown, re.S)[1]
    client.force_login(owner)
    text = (
        "issue,annotator,field,value,uncertain,note,kind\n"
        f"{study_issue.issue.repository.full_name}#{study_issue.issue.number},{owner.username},impact,3,,agreed,final\n"
    )
    client.post(
        reverse("studies:annotations_upload", args=[study.slug]),
        {"csv": SimpleUploadedFile("final.csv", text.encode())},
    )
    client.force_login(adjudicator)

    stale = client.post(
        page(study_issue, "studies:final_value", "impact"),
        {"value": "1", "rationale": "from my tab", "version": version},
        headers={"HX-Request": "true"},
    )

    assert version == "1" and stale.status_code == 409
    assert FinalValue.objects.get(study_issue=study_issue, field__key="impact").value == 3


@pytest.fixture
def two_studies():
    """A study whose owner is a researcher, and issues imported for another study only, or shared."""
    mine, theirs = StudyFactory(), StudyFactory()
    owner = member(mine, "owner")
    only_theirs = IssueFactory(repository__owner="secret", repository__name="lab", title="THEIRS-TITLE-MARK")
    StudyIssueFactory(study=theirs, issue=only_theirs)
    shared = IssueFactory(repository__owner="open", repository__name="data", title="SHARED-TITLE", shared=True)
    return mine, owner, only_theirs, shared


def test_6_an_owner_reaches_only_issues_shared_with_every_study_or_already_in_theirs(client, two_studies):
    mine, owner, only_theirs, shared = two_studies
    client.force_login(owner)
    url = reverse("studies:add_issues", args=[mine.slug])

    form = client.get(url).text
    preview = client.get(url, {"repository": only_theirs.repository_id, "state": "all"}, headers={"HX-Request": "1"})
    added = client.post(url + f"?repository={only_theirs.repository_id}&state=all")
    allowed = client.post(url + f"?repository={shared.repository_id}&state=all")

    assert "open/data" in form and "secret/lab" not in form
    assert "THEIRS-TITLE-MARK" not in preview.text
    assert added.status_code == 422 and "Select a valid choice" in added.text
    assert allowed.status_code == 302
    assert list(mine.study_issues.values_list("issue", flat=True)) == [shared.pk]


def test_6_an_instance_may_share_every_import(client, two_studies):
    mine, owner, only_theirs, _ = two_studies
    client.force_login(owner)

    with override_settings(SHARE_ALL_IMPORTS=True):
        form = client.get(reverse("studies:add_issues", args=[mine.slug])).text

    assert "secret/lab" in form
