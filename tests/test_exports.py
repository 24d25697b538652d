"""The labelled dataset: one row per issue, final values in codebook order, safe to open in a spreadsheet."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotator.csv_writer import safe_cell
from studies.workflow import decide, final_value_save
from tests.factories import IssueFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import label

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(labelled):
    """The labelled issue included with final values; a second issue of the study still in labelling."""
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    fields = {field.key: field for field in study_issue.study.fields.all()}
    final_value_save(study_issue, fields["scenario"], value="Wrong shape", rationale="", user=adjudicator)
    final_value_save(study_issue, fields["component"], value=["Model", "Engine"], rationale="", user=adjudicator)
    final_value_save(study_issue, fields["impact"], value="3", rationale="training", user=adjudicator)
    decide(study_issue, include=True, user=adjudicator)
    pending = StudyIssueFactory(study=study_issue.study, issue=IssueFactory(title='=HYPERLINK("http://evil")'))
    return study_issue, pending, owner, assignments


def export(study, *options) -> str:
    out = io.StringIO()
    call_command("export_labels", "--study", study.slug, *options, stdout=out)
    return out.getvalue()


def test_one_row_per_issue_with_its_decision_and_final_values(decided):
    study_issue, pending, _, _ = decided

    rows = list(csv.DictReader(io.StringIO(export(study_issue.study))))

    issue = study_issue.issue
    included = next(row for row in rows if row["number"] == str(issue.number))
    assert len(rows) == 2
    assert (included["url"], included["stage"], included["decision"]) == (issue.html_url, "decided", "included")
    assert (included["scenario"], included["impact"]) == ("Wrong shape", "3")
    assert (included["component_1"], included["component_2"]) == ("Model", "Engine")
    header = next(csv.reader(io.StringIO(export(study_issue.study))))
    assert header[:8] == [
        "repository",
        "number",
        "url",
        "title",
        "stage",
        "decision",
        "exclusion_reason",
        "duplicate_of",
    ]
    assert header.index("scenario") < header.index("component_1") < header.index("impact")  # codebook order


def test_formulas_in_untrusted_text_are_neutralised(decided):
    study_issue, pending, _, _ = decided

    rows = list(csv.DictReader(io.StringIO(export(study_issue.study))))

    title = next(row["title"] for row in rows if row["number"] == str(pending.issue.number))
    assert title == '\'=HYPERLINK("http://evil")'
    formulas = ["=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(1,1)", "\t=1", "\r=1", '=HYPERLINK("x")', "-2-"]
    assert [safe_cell(text) for text in formulas] == ["'" + text for text in formulas]
    # A plain number is no formula, negative numbers and kappas below zero included: it stays a number.
    assert [safe_cell(value) for value in ("-0.25", "+3", "1e-05", -2, 0.5, "plain", None)] == [
        "-0.25",
        "+3",
        "1e-05",
        "-2",
        "0.5",
        "plain",
        "",
    ]


def test_json_and_excel_variants_to_a_file(decided, tmp_path):
    study_issue, *_ = decided

    export(study_issue.study, "--format", "json", "-o", str(tmp_path / "labels.json"))
    export(study_issue.study, "--excel", "-o", str(tmp_path / "labels.csv"))

    rows = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert {row["decision"] for row in rows} == {"included", ""} and rows[0]["repository"]
    assert (tmp_path / "labels.csv").read_bytes().startswith(b"\xef\xbb\xbfrepository,number,url")


def test_annotators_values_only_for_revealed_issues(decided):
    study_issue, pending, _, (first, second) = decided
    pending_assignment = second.__class__.objects.create(
        study=study_issue.study, issue=pending.issue, annotator=first.annotator, stage="labelling"
    )
    label(pending_assignment, impact="4", submit=False)

    rows = list(csv.DictReader(io.StringIO(export(study_issue.study, "--with-annotators"))))

    by_number = {row["number"]: row for row in rows}
    assert by_number[str(study_issue.issue.number)][f"impact__{second.annotator.username}"] == "3"
    assert by_number[str(pending.issue.number)][f"impact__{first.annotator.username}"] == ""  # still blind


def test_the_download_is_for_owners_and_adjudicators(client, decided):
    study_issue, _, owner, (first, _) = decided
    url = reverse("studies:export", args=[study_issue.study.slug])

    client.force_login(first.annotator)
    refused = client.get(url)
    client.force_login(owner)
    response = client.get(url + "?format=json")

    long = client.get(url + "?layout=long")
    assert refused.status_code == 404
    assert response["Content-Disposition"].endswith('-labels.json"')
    assert len(json.loads(b"".join(response.streaming_content))) == 2
    rows = list(csv.DictReader(io.StringIO(b"".join(long.streaming_content).decode())))
    assert {row["kind"] for row in rows} == {"annotation", "final"} and rows[0]["issue"].endswith(
        f"#{study_issue.issue.number}"
    )


def test_the_long_download_leaves_out_values_the_viewer_still_labels_blind(client, labelled):
    study_issue, _, owner, (first, second) = labelled
    label(second, impact="4")  # submitted; the issue stays in labelling until the first submits too
    MembershipFactory(study=study_issue.study, user=first.annotator, role="owner")  # an owner who labels it too
    client.force_login(first.annotator)

    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    client.get(
                        reverse("studies:export", args=[study_issue.study.slug]) + "?layout=long"
                    ).streaming_content
                ).decode()
            )
        )
    )
    client.force_login(owner)
    full = b"".join(
        client.get(reverse("studies:export", args=[study_issue.study.slug]) + "?layout=long").streaming_content
    ).decode()

    assert rows == [] and second.annotator.username in full
