"""Gold checks in Chromium: the owner mixes checks into the queues (asking for too many first), and the annotator
given one goes looking for what would tell it apart from her real work, and finds nothing.

The check is a decided issue, labelled and reconciled long ago by two others: its stage, decision, progress and
history would give it away (studies/access.py, `stage_shown`). After she submits, the owner reads her accuracy
on it, and her answer counts nowhere else.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from agreement.ratings import field_ratings
from studies import gold
from studies.codebook import codebook_load, preset
from studies.models import Assignment, FinalValue, IssueStage, Stage, StudyIssue
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RATIONALE = "MARKER: the sums drift, nothing raises."


def issue_url(study_issue, name="studies:annotate") -> str:
    repository = study_issue.issue.repository
    return reverse(name, args=[study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number])


def test_an_annotator_cannot_tell_her_gold_check_from_her_real_work(open_as, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    nina = MembershipFactory(study=study, role="annotator", user=UserFactory(username="nina")).user
    fields = {field.key: field for field in study.fields.all()}
    decided = StudyIssueFactory(study=study, stage=IssueStage.DECIDED, decision=StudyIssue.Decision.INCLUDE)
    for _ in range(2):
        AssignmentFactory(study=study, issue=decided.issue, stage=Stage.LABELLING, status="submitted")
    FinalValue.objects.create(
        study_issue=decided, field=fields["scenario"], value="Wrong calculation", rationale=RATIONALE
    )
    FinalValue.objects.create(study_issue=decided, field=fields["component"], value=["Layers"])
    gold.gold_item_promote(study_issue=decided, user=owner)
    real = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    AssignmentFactory(study=study, issue=real.issue, annotator=nina, stage=Stage.LABELLING)
    AssignmentFactory(study=study, issue=real.issue, stage=Stage.LABELLING)  # the study's two annotators per issue
    base = live_server.url

    # The owner asks for more checks than the study allows, is told the limit, and sets 50 %.
    alice = open_as(owner)
    alice.goto(base + reverse("studies:gold", args=[study.slug]))
    alice.get_by_label("Gold checks in each labelling queue (%)").fill("80")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.locator(".field-invalid")).to_contain_text("less than or equal to 50")
    alice.get_by_label("Gold checks in each labelling queue (%)").fill("50")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.locator(".messages")).to_contain_text("Training and checks saved.")

    # Nina asks for her next issue: the check joins her queue, and her count says two.
    page = open_as(nina)
    page.goto(base + reverse("studies:detail", args=[study.slug]))
    page.get_by_role("link", name="Next issue →").click()
    expect(page.locator("#work-heading")).to_have_count(0)
    page.goto(base + reverse("studies:detail", args=[study.slug]))
    expect(page.get_by_text("Labelling: 0 of 2 submitted, 2 to go")).to_be_visible()

    # She goes looking: the issue list shows both issues alike, in labelling, and no filter sets the check apart.
    page.goto(base + reverse("studies:issues", args=[study.slug]))
    for study_issue in (real, decided):
        row = page.get_by_role("row").filter(has_text=f"#{study_issue.issue.number}")
        expect(row).to_contain_text(re.compile(r"labelling\s+0 of 2 submitted"))
    page.goto(base + reverse("studies:issues", args=[study.slug]) + "?status=decided")
    expect(page.get_by_text("0 issues")).to_be_visible()

    # The check itself: no reference, a labelling badge on its History, its Compare tab shut as any blind issue's.
    page.goto(base + issue_url(decided))
    expect(page.get_by_role("heading", name=re.compile("^Labelling"))).to_be_visible()
    page.get_by_role("link", name="History", exact=True).click()
    history = page.get_by_role("complementary", name="History")
    expect(history.locator(".badge").first).to_have_text("labelling")
    expect(history).not_to_contain_text("decided")
    expect(history).not_to_contain_text("reconciliation")
    response = page.goto(base + issue_url(decided, "studies:reconcile"))
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("it is in labelling")

    # She labels it like any issue; after submitting she is shown no reference either.
    page.goto(base + issue_url(decided))
    for key, choice in (("scenario", "Wrong shape"), ("component", "Layers")):
        field = page.locator(f"#field-{key}")
        field.locator(f'input[value="{choice}"]').check()
        expect(field.locator(".save-state")).to_have_text("Saved")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Submitted.")).to_be_visible()
    expect(page.locator("#gold-feedback")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("MARKER")

    # The owner reads her accuracy on checks; the answer counts nowhere in the study's labels.
    alice.goto(base + reverse("agreement:gold", args=[study.slug]))
    row = alice.locator('#checks-heading ~ table [data-annotator="nina"]')
    expect(row).to_contain_text("1 of 1")
    expect(row).to_contain_text("0.50")
    assert Assignment.objects.get(annotator=nina, issue=decided.issue).purpose == Assignment.Purpose.CHECK
    assert field_ratings(study, fields["scenario"]).ratings == 0
