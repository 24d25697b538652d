"""The study's method end to end in Chromium: three annotators, one adjudicator, one owner.

Screening with a split vote, its discussion, labelling with the keyboard, the
automatic move to reconciliation, final values (with a conflict between two
tabs), a decision with a rationale, an exclusion as a duplicate, a re-open,
and the history of it all; the reveal rule checked for each role on the way.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.bidi import isolate
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Assignment, IssueStage, Stage, StudyIssue
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import label

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def url(study_issue, name="studies:annotate") -> str:
    repository = study_issue.issue.repository
    return reverse(name, args=[study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number])


def stage(study_issue) -> str:
    return StudyIssue.objects.get(pk=study_issue.pk).stage


def test_an_issue_from_screening_to_decision_and_back(open_as, live_server, study):
    study.screening, study.screening_accept_votes, study.screening_discuss_votes = True, 3, 2
    study.save()
    codebook_load(study, preset("silent-bugs"), screening=True)
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    owner = MembershipFactory(study=study, role="owner").user
    bug, duplicate = StudyIssueFactory(study=study), StudyIssueFactory(study=study)
    for study_issue in (bug, duplicate):
        for annotator in annotators:
            AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.SCREENING)
    base = live_server.url
    pages = [open_as(annotator) for annotator in annotators]

    # Screening: two vote include, one exclude, each with the keyboard; the split goes to discussion.
    for page, key in zip(pages, ("1", "1", "2"), strict=True):
        page.goto(base + url(bug))
        page.keyboard.press(key)
        expect(page.locator("#field-silent_bug .save-state")).to_have_text("Saved")
        page.keyboard.press("Control+Enter")
        page.wait_for_url(lambda address: not address.endswith(url(bug)))
    assert stage(bug) == IssueStage.DISCUSSION
    pages[0].goto(base + url(bug, "studies:reconcile"))
    expect(pages[0].get_by_role("heading", name="Not allowed")).to_be_visible()  # annotators: not in discussion

    judge = open_as(adjudicator)
    judge.goto(base + url(bug, "studies:reconcile"))
    expect(judge.locator(".votes tbody tr")).to_have_count(3)
    judge.get_by_label("accept into labelling").check()
    judge.get_by_label("Reason (required)").fill("Two of three: the NaN loss is silent; worth labelling.")
    judge.get_by_role("button", name="Record the decision").click()
    expect(judge.locator(".messages")).to_contain_text("decision recorded")
    assert stage(bug) == IssueStage.LABELLING
    assert Assignment.objects.filter(issue=bug.issue, stage=Stage.LABELLING).count() == 3

    # Labelling with the keyboard; the values stay hidden until the last submission.
    for number, (page, impact) in enumerate(zip(pages, ("2", "3", "3"), strict=True)):
        if number == 2:
            pages[0].goto(base + url(bug, "studies:reconcile"))
            expect(pages[0].get_by_role("heading", name="Not allowed")).to_be_visible()
        page.goto(base + url(bug))
        page.keyboard.press("1")  # scenario (the first field without an answer has the focus)
        page.keyboard.press("Tab")
        page.keyboard.press("1")  # component
        page.keyboard.press("Tab")
        page.keyboard.press(impact)
        expect(page.locator("#field-impact .save-state")).to_have_text("Saved")
        page.keyboard.press("Control+Enter")
        page.wait_for_url(lambda address: not address.endswith(url(bug)))
    assert stage(bug) == IssueStage.RECONCILIATION
    pages[0].goto(base + url(bug, "studies:reconcile"))
    expect(pages[0].locator("#final-impact .badge.disagree")).to_be_visible()  # revealed to annotators now
    expect(pages[0].locator("#final-impact")).to_contain_text(annotators[1].username)

    # Reconciliation: agreements are final already; the impact needs a choice and a rationale.
    judge.goto(base + url(bug, "studies:reconcile"))
    for key in ("scenario", "component"):
        expect(judge.locator(f"#final-{key} .save-state")).to_contain_text("agreed by")
    second_tab = judge.context.new_page()
    second_tab.goto(base + url(bug, "studies:reconcile"))
    impact = judge.locator("#final-impact")
    impact.locator("input[name=value][value='3']").check()
    impact.get_by_label("Rationale").fill("Wrong results during training: level 3.")
    impact.get_by_role("button", name="Set the final value").click()
    expect(impact.locator(".save-state")).to_contain_text("Final: 3")
    stale = second_tab.locator("#final-impact")
    stale.locator("input[name=value][value='2']").check()
    stale.get_by_role("button", name="Set the final value").click()
    expect(stale.locator(".save-state")).to_contain_text(
        f"{adjudicator.username} set {isolate('Impact')} to {isolate('3 — model works differently')} meanwhile"
    )
    second_tab.reload()  # keep theirs
    expect(second_tab.locator("#final-impact .save-state")).to_contain_text("Final: 3")
    second_tab.close()
    judge.get_by_label("include, with the final values").check()
    judge.get_by_label("Rationale (Markdown)").fill("Agreed in the **weekly** meeting.")
    judge.get_by_role("button", name="Record the decision").click()
    expect(judge.locator("#decision")).to_contain_text("Included")
    expect(judge.locator("#decision strong", has_text="weekly")).to_be_visible()

    # The other issue: voted in and labelled (through the same services), then excluded as a duplicate.
    vote = study.fields.get(key="silent_bug")
    for assignment in Assignment.objects.filter(issue=duplicate.issue, stage=Stage.SCREENING):
        annotation_save(assignment=assignment, field=vote, value={"vote": True})
        assignment_submit(assignment=assignment)
    for assignment in Assignment.objects.filter(issue=duplicate.issue, stage=Stage.LABELLING):
        label(assignment, impact="2")
    judge.goto(base + url(duplicate, "studies:reconcile"))
    judge.get_by_label("exclude", exact=True).check()
    judge.get_by_label("Reason for excluding").select_option("duplicate")
    original = f"{bug.issue.repository.full_name}#{bug.issue.number}"
    judge.get_by_role("textbox", name="Duplicate of").fill(original)
    judge.get_by_label("Rationale (Markdown)").fill("Same optimizer state bug.")
    judge.get_by_role("button", name="Record the decision").click()
    expect(judge.locator("#decision")).to_contain_text(f"duplicate of another issue of {original}")

    # The owner re-opens it; the exclusion stays in the history.
    boss = open_as(owner)
    boss.goto(base + url(duplicate, "studies:reconcile"))
    boss.get_by_role("button", name="Re-open").click()
    expect(boss.locator(".messages")).to_contain_text("the previous decision stays in the history")
    assert stage(duplicate) == IssueStage.RECONCILIATION
    boss.goto(base + url(duplicate, "studies:issue_history"))
    history = boss.locator(".changes")
    expect(history).to_contain_text("duplicate")
    boss.goto(base + url(bug, "studies:issue_history"))
    steps = [
        "<del>screening</del> → <ins>discussion</ins>",
        "<del>discussion</del> → <ins>labelling</ins>",
        "<del>labelling</del> → <ins>reconciliation</ins>",
        "<del>reconciliation</del> → <ins>decided</ins>",
    ]
    for step in steps:
        assert step in boss.content(), step
