"""Many clients at once against gunicorn's separate worker processes: saves, submissions, final values and
decisions on one issue lose no acknowledged update and leave no impossible state.

Each user works in several tabs; each tab sends its version with every save, as the page does, and follows
the version the server answers (200: saved as that version; 409: someone else saved that version first).
"""

import random
import re
import threading

import pytest
from django.db.models import Count

from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import (
    Annotation,
    AnnotationEvent,
    Assignment,
    FinalValue,
    FinalValueEvent,
    IssueStage,
    Stage,
    StudyIssue,
    StudyIssueEvent,
)
from studies.workflow import final_value_save
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import Browser, Gunicorn, at_once, environment, label, page

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}
TABS = 3  # per user
SAVES = 12  # per tab


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """gunicorn with 4 worker processes on the test database (the tests commit: the server sees their data)."""
    web = Gunicorn(tmp_path_factory.mktemp("web"), environment(), workers=4)
    yield web
    web.close()


def version_in(html: str, pattern: str) -> int:
    return int(re.search(pattern, html)[1])


def impossible_states(study) -> list[str]:
    """What the workflow must never let happen, whatever the interleaving."""
    found = []
    for study_issue in StudyIssue.objects.filter(study=study):
        labelling = Assignment.objects.filter(study=study, issue=study_issue.issue, stage=Stage.LABELLING)
        open_ = labelling.exclude(status=Assignment.Status.SUBMITTED).count()
        if study_issue.stage == IssueStage.LABELLING and labelling.exists() and not open_:
            found.append(f"{study_issue}: in labelling with every labelling assignment submitted")
        if study_issue.stage in (IssueStage.RECONCILIATION, IssueStage.DECIDED) and open_:
            found.append(f"{study_issue}: past labelling with {open_} labelling assignment(s) open")
        if (study_issue.stage == IssueStage.DECIDED) != bool(study_issue.decision):
            found.append(f"{study_issue}: stage {study_issue.stage} with decision {study_issue.decision!r}")
    twice = FinalValue.objects.filter(study_issue__study=study).values("study_issue", "field").annotate(n=Count("id"))
    found += [f"{row['n']} final values of one field" for row in twice if row["n"] > 1]
    return found


def test_tabs_saving_and_submitting_at_once_lose_no_acknowledged_save(server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    fields = {field.key: field for field in study.fields.all()}
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    study_issue = StudyIssueFactory(study=study)
    assignments = {}
    for annotator in annotators:
        assignment = AssignmentFactory(
            study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING
        )
        annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
        annotation_save(assignment=assignment, field=fields["component"], value=["Model"])
        assignments[annotator] = assignment
    save_url, submit_url = page(study_issue, "studies:save_field", "impact"), page(study_issue, "studies:submit")

    users = [annotator for annotator in annotators for _ in range(TABS)]
    all_at_once = threading.Barrier(len(users), timeout=120)  # a deadline for the slowest tab, not a speed limit

    def tab(browser: Browser, seed: int):
        """Saves the impact level again and again, submits when every tab does, and goes on trying to save."""
        rng = random.Random(seed)
        acknowledged, submissions, version = [], [], 0
        for attempt in range(SAVES):
            if attempt == SAVES // 2:
                all_at_once.wait()
                submissions.append(browser.post(submit_url, {}))
            value = rng.choice("1234")
            response = browser.post(save_url, {"value": value, "version": version}, **HTMX)
            assert response.status in (200, 409, 422), response
            if response.status == 200:
                version = version_in(response.body, r'id="version-impact" value="(\d+)"')
                acknowledged.append((version, value))
            elif response.status == 409:
                version = version_in(response.body, r'id="version-impact" value="(\d+)"')
            else:
                assert "submitted" in response.body or "closed" in response.body, response.body
        submissions.append(browser.post(submit_url, {}))  # once more, from a tab left open
        assert all(response.status == 302 for response in submissions)
        return acknowledged

    browsers = [Browser(server.url, user) for user in users]
    results = at_once([lambda index=index: tab(browsers[index], index) for index in range(len(users))])

    for annotator in annotators:
        acknowledged = sorted(
            save for user, saves in zip(users, results, strict=True) if user == annotator for save in saves
        )
        assert [version for version, _ in acknowledged] == list(range(1, len(acknowledged) + 1)), (
            "each version acknowledged once, none skipped"
        )
        annotation = Annotation.objects.get(assignment=assignments[annotator], field=fields["impact"])
        assert (annotation.version, str(annotation.value)) == acknowledged[-1], "the last acknowledged save stands"
        history = AnnotationEvent.objects.filter(pgh_obj=annotation).order_by("pgh_id")
        assert [(event.version, str(event.value)) for event in history] == acknowledged, "no write unacknowledged"
        assignment = Assignment.objects.get(pk=assignments[annotator].pk)
        assert assignment.status == Assignment.Status.SUBMITTED
        assert max(event.pgh_created_at for event in history) <= assignment.submitted_at, "nothing after submitting"
    study_issue.refresh_from_db()
    assert (study_issue.stage, study_issue.version) == (IssueStage.RECONCILIATION, 2), "moved on exactly once"
    assert StudyIssueEvent.objects.filter(pgh_obj=study_issue, stage=IssueStage.RECONCILIATION).count() == 1
    assert impossible_states(study) == []


def test_adjudicators_setting_final_values_and_deciding_at_once_get_one_decision(server, study, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ["2", "3"], strict=True):
        label(assignment, impact=impact)
    fields = {field.key: field for field in study.fields.all()}
    final_value_save(study_issue, fields["scenario"], value="Wrong shape", rationale="", user=adjudicator)
    final_value_save(study_issue, fields["component"], value=["Model", "Engine"], rationale="", user=adjudicator)
    final_value_save(study_issue, fields["impact"], value="2", rationale="the log", user=adjudicator)
    study_issue.refresh_from_db()
    shown_version = study_issue.version  # what every tab's decision form says
    final_url, decision_url = page(study_issue, "studies:final_value", "impact"), page(study_issue, "studies:decision")

    users = [adjudicator, owner] * TABS
    all_at_once = threading.Barrier(len(users), timeout=120)  # a deadline for the slowest tab, not a speed limit

    def tab(browser: Browser, seed: int):
        """Sets the final impact again and again, decides (include) when every tab does, and goes on trying."""
        rng = random.Random(seed)
        acknowledged, decision, version = [], None, 1
        for attempt in range(SAVES):
            if attempt == SAVES // 2:
                all_at_once.wait()
                decision = browser.post(decision_url, {"decision": "include", "version": shown_version})
            value = rng.choice("1234")
            data = {"value": value, "version": version, "rationale": f"tab {seed}"}
            response = browser.post(final_url, data, **HTMX)
            assert response.status in (200, 409, 422), response
            if response.status in (200, 409):
                version = version_in(response.body, r'name="version" value="(\d+)"')
            if response.status == 200:
                acknowledged.append((version, value))
        return decision, acknowledged

    browsers = [Browser(server.url, user) for user in users]
    results = at_once([lambda index=index: tab(browsers[index], index) for index in range(len(users))])

    decisions = sorted((response.status, user.pk) for user, (response, _) in zip(users, results, strict=True))
    assert [status for status, _ in decisions] == [302] + [409] * (len(results) - 1), "one decision, the rest refused"
    acknowledged = [(1, "2"), *sorted(save for _, saves in results for save in saves)]
    assert [version for version, _ in acknowledged] == list(range(1, len(acknowledged) + 1))
    final = FinalValue.objects.get(study_issue=study_issue, field=fields["impact"])
    assert (final.version, str(final.value)) == acknowledged[-1], "the last acknowledged final value stands"
    history = FinalValueEvent.objects.filter(pgh_obj=final).order_by("pgh_id")
    assert [(event.version, str(event.value)) for event in history] == acknowledged, "no write unacknowledged"
    study_issue.refresh_from_db()
    assert (study_issue.stage, study_issue.decision) == (IssueStage.DECIDED, StudyIssue.Decision.INCLUDE)
    assert (study_issue.decided_by_id, study_issue.version) == (decisions[0][1], shown_version + 1)
    assert StudyIssueEvent.objects.filter(pgh_obj=study_issue, stage=IssueStage.DECIDED).count() == 1
    assert max(event.pgh_created_at for event in history) <= study_issue.decided_at, "nothing after the decision"
    assert impossible_states(study) == []
