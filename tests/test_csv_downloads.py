"""Every CSV the app writes is safe to open in a spreadsheet: formula-looking text planted everywhere a user can
put text (the values of issue 14's report among them) comes out with a leading apostrophe in each CSV download
that shows it, and plain numbers stay numbers."""

import csv
import io
import re

import pytest
from django.urls import reverse

from annotator.csv_writer import FORMULA_STARTS
from issues.models import ImportProblem
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.discussion import comment_post
from studies.export_profiles import profile_save
from studies.models import Stage
from studies.workflow import final_value_save
from tests.factories import (
    AssignmentFactory,
    ImportRunFactory,
    IssueFactory,
    MembershipFactory,
    StudyIssueFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# A username may start with + - or @ (Django's validator); everything else here is free text.
PLANTED = {
    "title": '=HYPERLINK("http://evil","click")',
    "username": "+1+1",
    "note": "@SUM(1,1)",
    "rationale": "=cmd|' /C calc'!A0",
    "comment": "=1+1",
    "value": "-2+3",
    "header": "@header",
    "file": "=evil.json",
}


@pytest.fixture
def planted(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    fields = {field.key: field for field in study.fields.all()}
    owner = MembershipFactory(study=study, role="owner").user
    hostile = UserFactory(username=PLANTED["username"])
    other = UserFactory()
    for user in (hostile, other):
        MembershipFactory(study=study, user=user, role="annotator")
    for impacts in (("2", "3"), ("3", "2"), ("2", "3"), ("3", "2")):  # never agreeing: Cohen's kappa is -1
        study_issue = StudyIssueFactory(study=study, issue=IssueFactory(title=PLANTED["title"]))
        work = [
            AssignmentFactory(study=study, issue=study_issue.issue, annotator=user, stage=Stage.LABELLING)
            for user in (hostile, other)
        ]
        for assignment, impact in zip(work, impacts, strict=True):
            annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
            annotation_save(assignment=assignment, field=fields["component"], value=["Model"])
            annotation_save(assignment=assignment, field=fields["impact"], value=impact, note=PLANTED["note"])
            annotation_save(assignment=assignment, field=fields["buggy_version"], value=PLANTED["value"])
            assignment_submit(assignment=assignment)
        study_issue.refresh_from_db()
        final_value_save(
            study_issue, fields["impact"], value="2", rationale=PLANTED["rationale"], user=owner, version=0
        )
        comment_post(study_issue, author=owner, body=PLANTED["comment"])
    columns = [{"value": "title", "header": PLANTED["header"]}, {"value": "final:buggy_version"}]
    profile_save(study, {"name": "journal", "columns": columns, "included_only": False})
    run = ImportRunFactory()
    ImportProblem.objects.create(run=run, source=PLANTED["file"], location="line 1", reason="@not JSON")
    return study, owner, run


def downloads(study, run) -> dict[str, str]:
    export, agreement = reverse("studies:export", args=[study.slug]), reverse("agreement:report", args=[study.slug])
    return {
        "labels, wide": export,
        "labels, wide with each annotator": export + "?with_annotators=1",
        "labels, wide for Excel": export + "?excel=1",
        "labels, long": export + "?layout=long",
        "history": reverse("studies:history_export", args=[study.slug]),
        "labels, an export profile": export + "?profile=journal",
        "agreement": agreement + "?format=csv",
        "import errors": reverse("issues:import_errors", args=[run.pk]),
    }


def cells(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8").removeprefix("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_no_csv_download_holds_a_cell_a_spreadsheet_would_run(client, planted, admin_user):
    study, owner, run = planted
    MembershipFactory(study=study, user=admin_user, role="owner")
    client.force_login(admin_user)
    found = {}

    for name, url in downloads(study, run).items():
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), name
        found[name] = set()
        for cell in cells(response):
            assert not cell.startswith(FORMULA_STARTS) or NUMBER.fullmatch(cell), (name, cell)
            found[name] |= {key for key, value in PLANTED.items() if value in cell and cell.startswith("'")}

    assert found == {
        "labels, wide": {"title", "value"},
        "labels, wide with each annotator": {"title", "value"},
        "labels, wide for Excel": {"title", "value"},
        "labels, long": {"username", "note", "value", "rationale"},
        "history": {"username", "note", "value", "rationale", "comment"},
        "labels, an export profile": {"header", "title", "value"},
        "agreement": set(),  # field keys, usernames inside "cohen_kappa a vs b", and numbers (see below)
        "import errors": {"file"},
    }


def test_negative_numbers_stay_numbers(client, planted, admin_user):
    """Kappas below zero are numbers, not formulas: the agreement CSV keeps them as they are (here κ = -1)."""
    study, _, run = planted
    MembershipFactory(study=study, user=admin_user, role="owner")
    client.force_login(admin_user)

    values = cells(client.get(downloads(study, run)["agreement"]))

    assert "-1.000000" in values
