"""Transitions under concurrent requests against the live server: each happens once, none is lost."""

import pytest

from studies.codebook import codebook_load, preset
from studies.models import IssueStage, Stage, StudyIssue, StudyIssueEvent
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import Browser, at_once, label, page

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_submissions_arriving_together_move_each_issue_exactly_once(live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    issues = [StudyIssueFactory(study=study) for _ in range(6)]
    for study_issue in issues:
        for annotator in annotators:
            label(
                AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING),
                impact="2",
                submit=False,
            )
    browsers = [Browser(live_server.url, annotator) for annotator in annotators]

    for study_issue in issues:
        url = page(study_issue, "studies:submit")
        statuses = at_once([lambda browser=browser, url=url: browser.post(url, {}).status for browser in browsers])
        assert statuses == [302, 302, 302]

    for study_issue in issues:
        study_issue.refresh_from_db()
        assert study_issue.stage == IssueStage.RECONCILIATION
        moves = StudyIssueEvent.objects.filter(pgh_obj=study_issue, stage=IssueStage.RECONCILIATION)
        assert moves.count() == 1


def test_two_adjudicators_deciding_at_once_one_wins_the_other_gets_409(live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    adjudicators = [MembershipFactory(study=study, role="adjudicator").user for _ in range(2)]
    annotator = MembershipFactory(study=study, role="annotator").user
    study_issue = StudyIssueFactory(study=study)
    label(
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING), impact="2"
    )
    version = StudyIssue.objects.get(pk=study_issue.pk).version
    url = page(study_issue, "studies:decision")
    reasons = ["not_a_bug", "user_error"]

    browsers = [Browser(live_server.url, adjudicator) for adjudicator in adjudicators]

    statuses = at_once(
        [
            lambda browser=browser, reason=reason: (
                browser.post(url, {"decision": "exclude", "reason": reason, "version": version}).status
            )
            for browser, reason in zip(browsers, reasons, strict=True)
        ]
    )

    assert sorted(statuses) == [302, 409]
    study_issue.refresh_from_db()
    assert study_issue.reason == reasons[statuses.index(302)]
    assert StudyIssueEvent.objects.filter(pgh_obj=study_issue, stage=IssueStage.DECIDED).count() == 1
