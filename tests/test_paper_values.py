"""The silent-bugs preset takes every value of the dataset the paper published (tests/data/silent-bugs-data.csv),
and a study made from the preset before it did gets the change by loading the preset again."""

import csv
from pathlib import Path

import pytest
from django.urls import reverse

from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import Annotation, CodebookField, FinalValue, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import label

pytestmark = pytest.mark.django_db

PAPER = Path(__file__).parent / "data" / "silent-bugs-data.csv"
# The paper's columns that are free text or lists in the codebook, and the field each one goes to.
COLUMNS = {"gist": "gist_urls", "Buggy Version": "buggy_version", "Fixed Version": "fixed_version"}


def paper_rows() -> list[dict]:
    with PAPER.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter=";"))


def test_every_value_of_the_papers_dataset_is_taken(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    fields = {field.key: field for field in study.fields.all()}
    annotator = MembershipFactory(study=study, role="annotator").user
    for row in paper_rows():
        study_issue = StudyIssueFactory(study=study)
        assignment = AssignmentFactory(
            study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING
        )
        for column, key in COLUMNS.items():
            annotation_save(assignment=assignment, field=fields[key], value=row[column])
        commits = "" if row["Fixing commit"] in ("", "None") else row["Fixing commit"]
        annotation_save(assignment=assignment, field=fields["fixing_commits"], value=commits)
        saved = dict(Annotation.objects.filter(assignment=assignment).values_list("field__key", "value"))
        assert {key: saved[key] for key in COLUMNS.values()} == {key: row[column] for column, key in COLUMNS.items()}
        assert saved["fixing_commits"] == (commits.split(", ") if commits else None)


def test_a_study_made_from_the_earlier_preset_takes_the_change_by_loading_it_again(study):
    earlier = preset("silent-bugs")
    kinds = {"gist_urls": "urls", "buggy_version": "version", "fixed_version": "version"}
    for item in earlier["fields"]:
        item["kind"] = kinds.get(item["key"], item["kind"])
    codebook_load(study, earlier, screening=False)
    alice, bruno = UserFactory(), UserFactory()
    study_issue = StudyIssueFactory(study=study)
    gist = study.fields.get(key="gist_urls")
    assignments = [
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)
        for annotator in (alice, bruno)
    ]
    for assignment in assignments:
        annotation_save(assignment=assignment, field=gist, value="https://gist.github.com/a/1\nhttps://x.org/2")
        label(assignment, impact="3")
    # Agreed, so final already; an adjudicator kept one of the two links.
    FinalValue.objects.filter(study_issue=study_issue, field=gist).update(value=["https://gist.github.com/a/1"])

    codebook_load(study, preset("silent-bugs"), screening=False)

    assert dict(study.fields.filter(key__in=kinds).values_list("key", "kind")) == dict.fromkeys(kinds, "text")
    assert set(Annotation.objects.filter(field=gist).values_list("value", flat=True)) == {
        "https://gist.github.com/a/1 https://x.org/2"
    }
    assert FinalValue.objects.get(field=gist).value == "https://gist.github.com/a/1"
    fixed = study.fields.get(key="fixed_version")
    assert fixed.clean_value(paper_rows()[7]["Fixed Version"]).startswith("Fix is not accessible.")


def test_a_kind_change_that_would_lose_values_stays_refused(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    changed = preset("silent-bugs")
    next(item for item in changed["fields"] if item["key"] == "fixed_version")["kind"] = CodebookField.Kind.VERSION
    with pytest.raises(ValueError, match="field 9 \\(fixed_version\\): its kind cannot change from text to version"):
        codebook_load(study, changed, screening=False)


def test_an_owner_loads_the_preset_again_from_the_codebook_page(client, study):
    earlier = preset("silent-bugs")
    for item in earlier["fields"]:
        item["kind"] = {"fixed_version": "version"}.get(item["key"], item["kind"])
    del earlier["export_profiles"]
    codebook_load(study, earlier)
    client.force_login(MembershipFactory(study=study, role="owner").user)

    loaded = client.post(reverse("studies:codebook_load_preset", args=[study.slug]), {"preset": "silent-bugs"})

    assert loaded.status_code == 302
    assert study.fields.get(key="fixed_version").kind == "text"
    assert list(study.export_profiles.values_list("name", flat=True)) == ["paper"]
