"""Every change is recorded by the database: who, when, from what to what; shown without breaking blindness."""

import csv
import io
import re

import pytest
from django.db import connection
from django.urls import reverse

from studies.access import StudyAccess
from studies.assignment import assign_balanced
from studies.history import issue_history, study_activity
from studies.models import Annotation, AnnotationEvent
from studies.workflow import decide
from tests.factories import IssueFactory, MembershipFactory
from tests.helpers import label, page

pytestmark = pytest.mark.django_db


def save(client, study_issue, key, **data):
    """As the page sends it: with the version of the field it shows (unless the test says which)."""
    if "version" not in data:
        data["version"] = shown_version(client.get(page(study_issue, "studies:annotate")).text, key)
    return client.post(page(study_issue, "studies:save_field", key), data, headers={"HX-Request": "true"})


def shown_version(html: str, key: str) -> str:
    return re.search(rf'id="version-{key}" value="(\d+)"', html)[1]


def test_a_change_made_in_the_browser_is_recorded_with_its_author_and_both_values(client, labelled):
    study_issue, *_, (first, _) = labelled
    client.force_login(first.annotator)

    save(client, study_issue, "impact", value="2")
    save(client, study_issue, "impact", value="3", note="worse on GPU")

    changes = [
        c
        for c in issue_history(study_issue, StudyAccess(study_issue.study, first.annotator))
        if c.what == "annotation"
    ]
    assert [(c.user, c.action) for c in changes] == [
        (first.annotator.username, "created"),
        (first.annotator.username, "changed"),
    ]
    # The codebook's words, not the stored ones.
    assert ("value", "2 — wrong information", "3 — model works differently") in changes[1].changes
    assert ("note", "", "worse on GPU") in changes[1].changes
    issue = study_issue.issue
    where = f"{issue.repository.full_name}#{issue.number}"
    assert changes[1].object == f"Impact of {first.annotator.username} on {where}"  # the activity mixes issues
    assert changes[1].url.endswith("/fields/impact/")


def test_no_code_path_skips_the_record(labelled):
    study_issue, *_, (first, _) = labelled
    label(first, impact="2", submit=False)

    Annotation.objects.filter(assignment=first).update(value=None)  # a bulk update, no save() and no signal
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM studies_annotation WHERE assignment_id = %s", [first.pk])  # raw SQL

    labels = list(AnnotationEvent.objects.filter(assignment=first).values_list("pgh_label", flat=True))
    assert labels.count("update") == 3 and labels.count("delete") == 3


def test_the_record_cannot_be_rewritten(labelled):
    study_issue, *_, (first, _) = labelled
    label(first, impact="2", submit=False)

    with pytest.raises(Exception, match="Cannot update or delete rows"), connection.cursor() as cursor:
        cursor.execute("UPDATE studies_annotationevent SET note = 'forged'")


def test_the_issue_history_shows_stage_decision_and_assignments(client, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    decide(study_issue, include=False, reason="user_error", note="Misuse.", user=adjudicator)
    client.force_login(owner)

    text = client.get(page(study_issue, "studies:issue_history")).text

    assert "issue stage and decision" in text and "assignment" in text
    assert "<del>labelling</del> → <ins>reconciliation</ins>" in text
    assert "<del>reconciliation</del> → <ins>decided</ins>" in text and "user_error" in text


def test_history_keeps_other_annotators_values_from_a_blind_annotator(client, labelled):
    study_issue, *_, (first, second) = labelled
    label(second, impact="4", submit=False, uncertain=True)  # "only on GPU"
    client.force_login(first.annotator)

    tab = client.get(page(study_issue, "studies:issue_history")).text

    assert "only on GPU" not in tab
    assert not [
        c
        for c in issue_history(study_issue, StudyAccess(study_issue.study, first.annotator))
        if c.what == "annotation"
    ]
    assert [
        c
        for c in issue_history(study_issue, StudyAccess(study_issue.study, second.annotator))
        if c.what == "annotation"
    ]


def test_the_owner_exports_the_full_history_as_csv(client, labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    client.force_login(owner)

    response = client.get(reverse("studies:history_export", args=[study_issue.study.slug]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))

    assert response["Content-Disposition"].endswith('-history.csv"')
    assert {"when", "user", "what", "action", "object", "field", "before", "after", "url"} == set(rows[0])
    whats = {row["what"] for row in rows}
    assert {"membership", "assignment", "annotation", "issue stage and decision", "codebook field"} <= whats
    assert any(
        row["what"] == "annotation" and row["field"] == "value" and row["after"] == "3 — model works differently"
        for row in rows
    )
    assert not any("_id" in row["field"] for row in rows)


def test_the_activity_feed_is_for_owners_and_adjudicators(client, labelled):
    study_issue, adjudicator, owner, (first, _) = labelled
    label(first, impact="2", submit=False)
    url = reverse("studies:activity", args=[study_issue.study.slug])

    client.force_login(first.annotator)
    annotator = client.get(url).status_code
    client.force_login(adjudicator)
    adjudicator_view = client.get(url)

    assert annotator == 404 and adjudicator_view.status_code == 200
    assert "membership" in adjudicator_view.text and "annotation" in adjudicator_view.text


def test_a_bulk_assignment_refreshes_the_planner_statistics_of_the_history(study):
    for _ in range(3):
        MembershipFactory(study=study, role="annotator")
    study.add_issues([IssueFactory().pk for _ in range(400)])

    assign_balanced(study, per_issue=3, stage="labelling")

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'studies_assignmentevent'")
        assert cursor.fetchone()[0] >= 1200  # as counted by ANALYZE; -1 (never analysed) without it


def test_the_activity_feed_shows_the_newest_changes_as_the_full_history_does(labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    decide(study_issue, include=False, reason="user_error", note="Misuse.", user=adjudicator)

    everything = study_activity(StudyAccess(study_issue.study, owner), limit=None)
    latest = study_activity(StudyAccess(study_issue.study, owner), limit=7)

    assert len(everything) > 7
    assert [(c.at, c.what, c.action, c.changes) for c in latest] == [
        (c.at, c.what, c.action, c.changes) for c in everything[:7]
    ]
