"""The attack: a trainee, and an annotator given a check, go looking for a gold issue's reference answers.

The gold issue was promoted from a decided issue, so its final values are the reference answers: the reveal rule
would show a decided issue to every member, and studies/access.py must keep it blind to whoever trains or is
checked on it. Markers planted in the final values, their rationales and the discussion must appear nowhere they
can reach, before submitting (trainee) or ever (check).
"""

import re

import pytest
from django.urls import reverse

from studies import gold
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Assignment, DiscussionComment, FinalValue, IssueStage, StudyIssue
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import as_read, page

pytestmark = pytest.mark.django_db

MARKERS = ["MARKER-VERSION-9.9", "MARKER-RATIONALE", "MARKER-DISCUSSION"]


@pytest.fixture
def world(study):
    study.annotators_see_agreement = True
    study.save()
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    trainee, checked = (MembershipFactory(study=study, role="annotator").user for _ in range(2))
    decided = StudyIssueFactory(study=study, stage=IssueStage.DECIDED, decision=StudyIssue.Decision.INCLUDE)
    fields = {field.key: field for field in study.fields.all()}
    FinalValue.objects.create(
        study_issue=decided, field=fields["scenario"], value="Wrong shape", rationale="MARKER-RATIONALE"
    )
    FinalValue.objects.create(study_issue=decided, field=fields["component"], value=["Model"])
    FinalValue.objects.create(study_issue=decided, field=fields["buggy_version"], value="MARKER-VERSION-9.9")
    DiscussionComment.objects.create(study_issue=decided, author=owner, body="MARKER-DISCUSSION")
    gold.gold_item_promote(study_issue=decided, user=owner)
    study.training_required = True
    study.save()
    gold.queue_prepare(study, trainee)
    Assignment.objects.create(
        study=study, issue=decided.issue, annotator=checked, stage="labelling", purpose=Assignment.Purpose.CHECK
    )
    return {"study": study, "gold": decided, "trainee": trainee, "checked": checked, "fields": fields}


def everything_they_can_reach(client, study, study_issue) -> dict[str, tuple[int, str]]:
    slug = study.slug
    urls = {
        "labels tab": page(study_issue, "studies:annotate"),
        "compare tab": page(study_issue, "studies:reconcile"),
        "history tab": page(study_issue, "studies:issue_history"),
        "issue list": reverse("studies:issues", args=[slug]) + "?status=included",
        "study page": reverse("studies:detail", args=[slug]),
        "labels download": reverse("studies:export", args=[slug]),
        "long download": reverse("studies:export", args=[slug]) + "?layout=long",
        "history download": reverse("studies:history_export", args=[slug]),
        "agreement": reverse("agreement:report", args=[slug]) + "?format=json",
        "gold page": reverse("studies:gold", args=[slug]),
        "gold issue page": page(study_issue, "studies:gold_item"),
        "scores against gold": reverse("agreement:gold", args=[slug]),
        "codebook": reverse("studies:codebook", args=[slug]),
    }
    found = {}
    for name, url in urls.items():
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        found[name] = (response.status_code, body.decode("utf-8-sig"))
    return found


def leaks(found) -> dict[str, list[str]]:
    return {
        name: [marker for marker in MARKERS if marker in body]
        for name, (_, body) in found.items()
        if any(marker in body for marker in MARKERS)
    }


def test_a_trainee_finds_no_reference_answer_before_submitting(client, world):
    client.force_login(world["trainee"])

    found = everything_they_can_reach(client, world["study"], world["gold"])

    assert leaks(found) == {}
    assert found["compare tab"][0] == 403
    assert "purpose" not in found["history tab"][1]  # their own assignment reads like any other
    for name in ("gold page", "gold issue page", "scores against gold", "labels download", "history download"):
        assert found[name][0] == 404, name


def test_a_trainee_reads_the_reference_answers_after_submitting_and_nowhere_else(client, world):
    study, trainee, fields = world["study"], world["trainee"], world["fields"]
    training = Assignment.objects.get(study=study, annotator=trainee, purpose=Assignment.Purpose.TRAINING)
    annotation_save(assignment=training, field=fields["scenario"], value="Wrong calculation")
    annotation_save(assignment=training, field=fields["component"], value=["Model"])
    assignment_submit(assignment=training)
    client.force_login(trainee)

    found = everything_they_can_reach(client, study, world["gold"])

    # The feedback beside their answers holds the reference and its rationale; the rest of the issue stays shut.
    assert leaks(found) == {"labels tab": ["MARKER-VERSION-9.9", "MARKER-RATIONALE"]}
    assert found["compare tab"][0] == 403


def test_an_annotator_checked_on_a_gold_issue_never_finds_its_answers(client, world):
    study, checked, fields = world["study"], world["checked"], world["fields"]
    check = Assignment.objects.get(study=study, annotator=checked)
    client.force_login(checked)

    before = everything_they_can_reach(client, study, world["gold"])
    annotation_save(assignment=check, field=fields["scenario"], value="Wrong shape")
    annotation_save(assignment=check, field=fields["component"], value=["Model"])
    assignment_submit(assignment=check)
    after = everything_they_can_reach(client, study, world["gold"])

    assert leaks(before) == {} and leaks(after) == {}
    assert after["compare tab"][0] == 403


def row_of(html: str, study_issue) -> str:
    """The issue list's row of the issue, as read."""
    name = f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}<"
    rows = [row for row in as_read(html).split("<tr>") if name in row]
    assert len(rows) == 1, rows
    return " ".join(re.sub(r"<[^>]+>", " ", rows[0]).split())


def test_a_decided_gold_issue_is_in_labelling_wherever_its_checked_annotator_looks(client, world):
    """The issue the annotator is checked on was decided and labelled by others long ago: its stage, decision,
    progress and history would tell them it is a check, so to them it looks like an issue in labelling."""
    study, checked, gold_issue = world["study"], world["checked"], world["gold"]
    labelled_by_others = [AssignmentFactory(study=study, issue=gold_issue.issue, status="submitted") for _ in "ab"]
    assert labelled_by_others
    issues = reverse("studies:issues", args=[study.slug])
    client.force_login(checked)

    assert "labelling 0 of 2 submitted" in row_of(client.get(issues).content.decode(), gold_issue)
    for status in ("decided", "included", "submitted"):
        assert f"#{gold_issue.issue.number}<" not in client.get(f"{issues}?status={status}").content.decode()
    assert f"#{gold_issue.issue.number}<" in client.get(f"{issues}?status=assigned").content.decode()
    assert f"#{gold_issue.issue.number}<" in client.get(f"{issues}?annotator={checked.username}").content.decode()
    compare = client.get(page(gold_issue, "studies:reconcile"))
    assert compare.status_code == 403 and "it is in labelling" in as_read(compare.content.decode())
    history = as_read(client.get(page(gold_issue, "studies:issue_history")).content.decode()).split("<h2>History")[1]
    assert history.startswith(' <span class="badge">labelling</span>')
    for told in ("decided", "include", "reconciliation", *(a.annotator.username for a in labelled_by_others)):
        assert told not in history, told

    # Everyone else still sees the issue as it is.
    client.force_login(world["trainee"])
    assert "decided: included 2 of 2 submitted" in row_of(client.get(issues).content.decode(), gold_issue)
