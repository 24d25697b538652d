"""Blind labelling walked in Chromium by the people who must not see, and an owner's upload with one mistake.

An annotator who does not label an issue goes looking for its answers: the
issue list, the issue's History tab, the Compare tab by its URL, the agreement
page. An adjudicator who labels an issue reads the agreement page before
submitting. Then the owner uploads a spreadsheet that would change a submitted
answer, is told so at the file, ticks *replace* and uploads again; the
annotator's open tab then meets a conflict instead of silently winning.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def issue_url(study_issue, name="studies:annotate") -> str:
    repository = study_issue.issue.repository
    return reverse(name, args=[study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number])


@pytest.fixture
def team(study):
    """Alice and Bruno have submitted two issues, with secrets in their notes and Other texts. The adjudicator
    labels the first too and has not submitted: it is in labelling, the second in reconciliation. A third
    annotator labels neither."""
    study.screening, study.annotators_see_agreement = False, True
    study.save()
    codebook_load(study, preset("silent-bugs"), screening=False)
    alice, bruno, snoop = (MembershipFactory(study=study, role="annotator").user for _ in range(3))
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    MembershipFactory(study=study, user=adjudicator, role="annotator")
    owner = MembershipFactory(study=study, role="owner").user
    fields = {field.key: field for field in study.fields.all()}
    hidden, revealed = StudyIssueFactory(study=study), StudyIssueFactory(study=study)
    for study_issue, labellers in ((hidden, (alice, bruno, adjudicator)), (revealed, (alice, bruno))):
        work = {
            person: AssignmentFactory(study=study, issue=study_issue.issue, annotator=person, stage=Stage.LABELLING)
            for person in labellers
        }
        for person, impact in ((alice, "4"), (bruno, "1")):
            secret = f"SECRET-{study_issue.issue.number}"
            annotation_save(assignment=work[person], field=fields["scenario"], value={"other": f"{secret}-other"})
            annotation_save(assignment=work[person], field=fields["component"], value=["Model"])
            annotation_save(assignment=work[person], field=fields["impact"], value=impact, note=f"{secret}-note")
            assignment_submit(assignment=work[person])
    people = {"alice": alice, "bruno": bruno, "snoop": snoop, "adjudicator": adjudicator, "owner": owner}
    return study, hidden, people


def test_the_member_who_must_not_see_finds_nothing(open_as, live_server, team):
    study, hidden, people = team
    secret = f"SECRET-{hidden.issue.number}"
    page = open_as(people["snoop"])

    page.goto(live_server.url + reverse("studies:issues", args=[study.slug]))
    page.get_by_role("link", name=f"{hidden.issue.repository.full_name}#{hidden.issue.number}").click()
    page.get_by_role("link", name="History").click()
    history = page.content()
    compare_links = page.get_by_role("link", name="Compare").count()
    compare = page.goto(live_server.url + issue_url(hidden, "studies:reconcile"))
    refusal = page.content()
    report = page.request.get(live_server.url + reverse("agreement:report", args=[study.slug]) + "?format=json").json()

    assert secret not in history and compare_links == 0
    assert compare.status == 403 and "Everyone's values on this issue are shown in reconciliation" in refusal
    assert secret not in refusal
    assert report["fields"]["impact"]["items"] == 1  # the issue in reconciliation only


def test_an_adjudicator_who_labels_the_issue_reads_no_agreement_over_it(open_as, live_server, team):
    study, _, people = team
    page = open_as(people["adjudicator"])

    page.goto(live_server.url + reverse("agreement:report", args=[study.slug]))
    impact = page.locator("section", has=page.locator("#agreement-impact"))

    expect(impact.get_by_text("1 item, 2 annotators, 2 ratings")).to_be_visible()


def test_an_owner_changes_a_submitted_answer_only_knowingly(open_as, live_server, team, tmp_path):
    study, study_issue, people = team
    reference = f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}"
    spreadsheet = tmp_path / "from-the-spreadsheet.csv"
    spreadsheet.write_text(f"issue,annotator,field,value\n{reference},{people['bruno'].username},impact,3\n")
    owner = open_as(people["owner"])
    owner.goto(live_server.url + reverse("studies:manage", args=[study.slug]))

    owner.get_by_label("CSV file").set_input_files(spreadsheet)
    owner.get_by_label("only check the file (dry run)").uncheck()
    owner.get_by_role("button", name="Import").click()
    expect(owner.get_by_text(f"{people['bruno'].username} has submitted {reference}")).to_be_visible()
    answer = Annotation.objects.get(
        assignment__issue=study_issue.issue, assignment__annotator=people["bruno"], field__key="impact"
    )
    assert (answer.value, answer.version) == (1, 1)

    owner.get_by_label("CSV file").set_input_files(spreadsheet)  # a browser never keeps a chosen file
    owner.get_by_label("only check the file (dry run)").uncheck()
    owner.get_by_label("also change submitted answers and decided issues").check()
    owner.get_by_role("button", name="Import").click()
    expect(owner.get_by_text("1 annotations and 0 final values imported")).to_be_visible()

    answer.refresh_from_db()
    assert (answer.value, answer.version) == (3, 2)  # versioned: a tab showing version 1 gets a conflict
