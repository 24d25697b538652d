"""Final values: agreed ones are final as soon as the issue reaches reconciliation, an adjudicator's are adjudicated,
"no answer" only on purpose; the exports say which is which (issue 13)."""

import csv
import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command

from annotator.bidi import isolate
from studies.annotation import annotation_save, assignment_submit
from studies.models import FinalValue, IssueStage, StudyIssue
from studies.workflow import decide, final_value_save, reopen
from tests.factories import MembershipFactory
from tests.helpers import label, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def reconciling(labelled):
    """Both annotators agree on scenario and component, and differ on the impact (2 and 3)."""
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    fields = {field.key: field for field in study_issue.study.fields.all()}
    names = sorted(assignment.annotator.username for assignment in assignments)
    return study_issue, adjudicator, owner, assignments, fields, names


def finals(study_issue) -> dict:
    return {
        final.field.key: (final.value, final.source, final.agreed_by)
        for final in FinalValue.objects.filter(study_issue=study_issue).select_related("field")
    }


def test_it_makes_agreed_values_final_when_the_last_annotator_submits(reconciling):
    study_issue, adjudicator, _, _, fields, names = reconciling

    assert finals(study_issue) == {
        "scenario": ("Wrong shape", "agreed", names),
        "component": (["Model", "Engine"], "agreed", names),
    }
    final_value_save(study_issue, fields["impact"], value="3", rationale="Training.", user=adjudicator)
    decide(study_issue, include=True, user=adjudicator)  # no click on the agreed fields
    assert StudyIssue.objects.get(pk=study_issue.pk).decision == "include"


def test_it_refuses_an_empty_final_value_unless_cleared_on_purpose(reconciling):
    study_issue, adjudicator, _, _, fields, _ = reconciling

    with pytest.raises(ValidationError) as refused:
        final_value_save(study_issue, fields["impact"], value="", rationale="Unclear.", user=adjudicator)
    assert refused.value.messages == [
        f"Choose the final value of {isolate('Impact')}, or clear it on purpose (no answer)."
    ]
    assert "impact" not in finals(study_issue)
    final_value_save(study_issue, fields["impact"], value="", rationale="Unclear.", user=adjudicator, clear=True)
    assert finals(study_issue)["impact"] == (None, "adjudicated", [])


def test_a_changed_agreed_value_needs_a_reason_and_becomes_adjudicated(reconciling):
    study_issue, adjudicator, _, _, fields, names = reconciling

    with pytest.raises(ValidationError) as refused:
        final_value_save(
            study_issue, fields["scenario"], value="Wrong displayed message", rationale="", user=adjudicator
        )
    assert refused.value.messages == [
        f"The annotators agreed on {isolate('Wrong shape')}: say why {isolate('Scenario')} takes another value."
    ]
    final_value_save(
        study_issue,
        fields["scenario"],
        value="Wrong displayed message",
        rationale="The log says so.",
        user=adjudicator,
    )
    assert finals(study_issue)["scenario"] == ("Wrong displayed message", "adjudicated", [])
    final_value_save(study_issue, fields["scenario"], value="Wrong shape", rationale="", user=adjudicator)
    assert finals(study_issue)["scenario"] == ("Wrong shape", "agreed", names)  # back to what they agreed


def test_agreed_values_follow_the_annotators_after_a_reopen_into_labelling(reconciling):
    study_issue, adjudicator, owner, assignments, fields, names = reconciling
    final_value_save(study_issue, fields["impact"], value="3", rationale="Training.", user=adjudicator)
    decide(study_issue, include=True, user=adjudicator)
    reopen(study_issue, to_stage=IssueStage.LABELLING, user=owner)

    annotation_save(assignment=assignments[0], field=fields["scenario"], value="Wrong displayed message")
    annotation_save(assignment=assignments[0], field=fields["component"], value=["Engine"])
    annotation_save(assignment=assignments[1], field=fields["component"], value=["Engine"])
    for assignment in assignments:
        assignment_submit(assignment=assignment)

    assert finals(study_issue) == {
        "component": (["Engine"], "agreed", names),  # the new agreement
        "impact": (3, "adjudicated", []),  # the adjudicator's word stays
    }  # scenario: they differ now, so it waits for the adjudicator


def test_the_data_migration_fills_agreed_values_of_issues_already_in_reconciliation(reconciling):
    study_issue, adjudicator, _, _, fields, names = reconciling
    # As before agreed values were final at once: the adjudicator clicked the scenario, nothing else yet.
    FinalValue.objects.filter(study_issue=study_issue).delete()
    FinalValue.objects.create(
        study_issue=study_issue, field=fields["scenario"], value="Wrong shape", set_by=adjudicator
    )
    FinalValue.objects.create(study_issue=study_issue, field=fields["impact"], value=3, set_by=adjudicator)
    migration = importlib.import_module("studies.migrations.0011_fill_agreed_final_values")

    migration.fill_agreed_final_values(apps, None)

    assert finals(study_issue) == {
        "scenario": ("Wrong shape", "agreed", names),  # what they all gave: agreed, whoever clicked it
        "component": (["Model", "Engine"], "agreed", names),
        "impact": (3, "adjudicated", []),
    }
    assert FinalValue.objects.get(study_issue=study_issue, field=fields["scenario"]).set_by == adjudicator


# --- "Accept every agreed value" ---


def test_it_accepts_every_agreed_value_at_once(client, reconciling):
    study_issue, adjudicator, *_ = reconciling
    FinalValue.objects.filter(study_issue=study_issue).delete()
    client.force_login(adjudicator)

    response = client.post(page(study_issue, "studies:accept_agreed"), follow=True)

    assert "2 agreed values are final now." in response.text
    assert set(finals(study_issue)) == {"scenario", "component"}
    again = client.post(page(study_issue, "studies:accept_agreed"), follow=True)
    assert "Every agreed value is final already; nothing changed." in again.text
    assert 'class="message message-info"' in again.text


def test_it_rejects_get(client, reconciling):
    study_issue, adjudicator, *_ = reconciling
    client.force_login(adjudicator)
    assert client.get(page(study_issue, "studies:accept_agreed")).status_code == 405


def test_it_sends_the_anonymous_to_log_in(client, reconciling):
    study_issue, *_ = reconciling
    response = client.post(page(study_issue, "studies:accept_agreed"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_is_not_found_for_a_non_member_and_refused_to_an_annotator(client, reconciling):
    study_issue, _, _, assignments, *_ = reconciling
    FinalValue.objects.filter(study_issue=study_issue).delete()
    client.force_login(MembershipFactory().user)  # a member of another study
    assert client.post(page(study_issue, "studies:accept_agreed")).status_code == 404
    client.force_login(assignments[0].annotator)
    assert client.post(page(study_issue, "studies:accept_agreed")).status_code == 403
    assert finals(study_issue) == {}


# --- The page and the exports ---


def test_the_page_shows_the_final_values_by_their_labels_and_source(client, reconciling):
    study_issue, adjudicator, _, _, fields, names = reconciling
    final_value_save(study_issue, fields["impact"], value="1", rationale="Only the UI.", user=adjudicator)
    client.force_login(adjudicator)

    text = client.get(page(study_issue)).text

    assert f"Final: <bdi>1 — interface only</bdi> (adjudicated by {adjudicator.username})" in text
    assert f"Final: <bdi>Wrong shape</bdi> (agreed by {', '.join(names)})" in text


def test_the_exports_say_whether_each_final_value_was_agreed_or_adjudicated(reconciling):
    study_issue, adjudicator, _, _, fields, _ = reconciling
    final_value_save(study_issue, fields["impact"], value="3", rationale="Training.", user=adjudicator)

    wide = io.StringIO()
    call_command("export_labels", "--study", study_issue.study.slug, stdout=wide)
    long = io.StringIO()
    call_command("export_labels", "--study", study_issue.study.slug, "--layout", "long", stdout=long)

    (row,) = csv.DictReader(io.StringIO(wide.getvalue()))
    assert (row["scenario"], row["scenario_source"]) == ("Wrong shape", "agreed")
    assert (row["impact"], row["impact_source"]) == ("3", "adjudicated")
    assert row["root_cause_source"] == ""  # no final value
    final_rows = [r for r in csv.DictReader(io.StringIO(long.getvalue())) if r["kind"] == "final"]
    assert {(r["field"], r["source"], r["annotator"]) for r in final_rows} == {
        ("scenario", "agreed", ""),
        ("component", "agreed", ""),
        ("impact", "adjudicated", adjudicator.username),
    }


def test_it_accepts_agreed_values_in_a_bounded_number_of_queries(client, reconciling, django_assert_max_num_queries):
    study_issue, adjudicator, *_ = reconciling
    FinalValue.objects.filter(study_issue=study_issue).delete()
    client.force_login(adjudicator)

    # the same for 2 agreed fields as for 10: one insert for all (and one look-up of the codebook version)
    with django_assert_max_num_queries(15):
        client.post(page(study_issue, "studies:accept_agreed"))
    assert len(finals(study_issue)) == 2
