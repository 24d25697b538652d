"""No silent overwrite, on every path that writes a versioned value: the pages, an upload, a command, the Django
admin, plain SQL. The database raises the version; one check refuses a write based on an older one (409); a form
without a whole-number version is a 400 (studies/versions.py)."""

import pytest
from django.db import connection
from django.urls import reverse

from studies.annotation import annotation_save
from studies.models import Annotation, FinalValue, IssueStage, StudyIssue
from studies.workflow import decide, final_value_save
from tests.helpers import label, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def reconciling(labelled):
    """An issue in reconciliation with a final value set, as the adjudicator's tab shows it."""
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    study_issue.refresh_from_db()
    impact = study_issue.study.fields.get(key="impact")
    final_value_save(study_issue, impact, value="2", rationale="GPU only", user=adjudicator, version=0)
    return study_issue, adjudicator, owner


def endpoints(study_issue):
    """Every page endpoint that writes a versioned value, with a form that would otherwise be accepted."""
    return {
        "final value": (page(study_issue, "studies:final_value", "impact"), {"value": "3", "rationale": "why"}),
        "decision": (page(study_issue, "studies:decision"), {"decision": "exclude", "reason": "not_a_bug"}),
    }


def state(study_issue) -> tuple:
    final = FinalValue.objects.get(study_issue=study_issue, field__key="impact")
    now = StudyIssue.objects.get(pk=study_issue.pk)
    return (final.value, final.version, now.stage, now.decision, now.version)


@pytest.mark.parametrize("version", [None, "", "two", "-1", "1.0", "١", "1" * 30])
@pytest.mark.parametrize("endpoint", ["final value", "decision"])
def test_a_form_without_a_whole_number_version_is_a_clear_400_and_changes_nothing(
    client, reconciling, endpoint, version
):
    study_issue, adjudicator, _ = reconciling
    client.force_login(adjudicator)
    url, data = endpoints(study_issue)[endpoint]
    before = state(study_issue)

    response = client.post(url, data if version is None else {**data, "version": version})

    assert response.status_code == 400 and "version" in response.text
    assert state(study_issue) == before


@pytest.mark.parametrize("endpoint", ["final value", "decision"])
def test_a_form_based_on_an_older_version_is_a_409_and_changes_nothing(client, reconciling, endpoint):
    study_issue, adjudicator, _ = reconciling
    client.force_login(adjudicator)
    url, data = endpoints(study_issue)[endpoint]
    stale = {"final value": 0, "decision": StudyIssue.objects.get(pk=study_issue.pk).version - 1}[endpoint]
    before = state(study_issue)

    response = client.post(url, {**data, "version": stale})

    assert response.status_code == 409
    assert state(study_issue) == before


def test_reopening_from_an_older_page_is_a_409(client, reconciling):
    study_issue, adjudicator, owner = reconciling
    shown = StudyIssue.objects.get(pk=study_issue.pk).version  # scenario and component: agreed, so final
    decide(study_issue, include=True, user=adjudicator, version=shown)
    client.force_login(owner)

    stale = client.post(page(study_issue, "studies:reopen"), {"to_stage": "labelling", "version": shown})
    missing = client.post(page(study_issue, "studies:reopen"), {"to_stage": "labelling"})

    assert (stale.status_code, missing.status_code) == (409, 400)
    assert StudyIssue.objects.get(pk=study_issue.pk).stage == IssueStage.DECIDED


def test_the_django_admin_raises_the_version_so_an_open_page_gets_a_conflict(client, admin_client, reconciling):
    study_issue, adjudicator, _ = reconciling
    shown = StudyIssue.objects.get(pk=study_issue.pk).version
    change = reverse("admin:studies_studyissue_change", args=[study_issue.pk])
    form = {
        "study": study_issue.study_id,
        "issue": study_issue.issue_id,
        "stage": "decided",
        "decision": "exclude",
        "reason": "other",
        "decision_note": "set in the admin",
        "version": shown,
    }

    admin_client.post(change, form)
    client.force_login(adjudicator)
    response = client.post(page(study_issue, "studies:decision"), {"decision": "include", "version": shown})

    assert StudyIssue.objects.get(pk=study_issue.pk).version == shown + 1
    assert response.status_code == 409


def test_plain_sql_raises_the_versions_too(reconciling):
    study_issue, *_ = reconciling
    before = dict(Annotation.objects.values_list("pk", "version"))

    with connection.cursor() as cursor:
        cursor.execute("UPDATE studies_annotation SET note = 'by hand'")

    assert dict(Annotation.objects.values_list("pk", "version")) == {pk: v + 1 for pk, v in before.items()}


def test_every_save_is_a_version_of_its_own(labelled):
    """Saving the same value again is still a save: each acknowledged save has its own version (the concurrency
    tests count on it)."""
    _, _, _, (assignment, _) = labelled
    impact = assignment.study.fields.get(key="impact")

    versions = [annotation_save(assignment=assignment, field=impact, value="2", version=v).version for v in (0, 1, 2)]

    assert versions == [1, 2, 3]
