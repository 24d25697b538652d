"""Gathering a field's ratings: submitted work only, one row per issue rated twice or more, subsets and windows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agreement.ratings import field_ratings
from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import Assignment, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(study):
    """Three annotators on three issues; the third issue has only one submitted rating."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    people = [MembershipFactory(study=study, role="annotator", user__username=name).user for name in "abc"]
    issues = [StudyIssueFactory(study=study).issue for _ in range(3)]
    plan = {  # issue index: [(annotator index, impact, component, scenario, submit)]
        0: [
            (0, "2", ["Model"], "Wrong shape", True),
            (1, "3", ["Model", "Engine"], "Wrong shape", True),
            (2, "3", ["Engine", "Model"], {"other": "NaN loss"}, True),
        ],
        1: [
            (0, "1", ["Layers"], "Wrong shape", True),
            (1, "1", ["Layers"], "Wrong shape", True),
            (2, "4", ["Layers"], "Wrong shape", False),
        ],
        2: [(0, "2", ["Model"], "Wrong shape", True), (1, "2", ["Model"], "Wrong shape", False)],
    }
    fields = {field.key: field for field in study.fields.all()}
    for index, entries in plan.items():
        for who, impact, component, scenario, submit in entries:
            assignment = AssignmentFactory(
                study=study, issue=issues[index], annotator=people[who], stage=Stage.LABELLING
            )
            annotation_save(assignment=assignment, field=fields["impact"], value=impact)
            annotation_save(assignment=assignment, field=fields["component"], value=component)
            annotation_save(assignment=assignment, field=fields["scenario"], value=scenario)
            annotation_save(assignment=assignment, field=fields["root_cause"], value="Type confusion")
            if submit:  # marked directly: here every issue stays in labelling whoever submits
                assignment.status, assignment.submitted_at = Assignment.Status.SUBMITTED, timezone.now()
                assignment.save()
    return study, fields, issues


def test_it_gathers_submitted_ratings_of_issues_rated_at_least_twice(rated):
    study, fields, issues = rated

    impact = field_ratings(study, fields["impact"])

    assert (impact.level, impact.scale, impact.coders) == ("ordinal", [1, 2, 3, 4], ["a", "b", "c"])
    assert impact.units == [issues[0].pk, issues[1].pk]  # the third has one submitted rating only
    assert impact.rows == [[2, 3, 3], [1, 1, None]]  # c has not submitted the second issue
    assert impact.ratings == 5


def test_sets_for_multiple_choices_and_other_texts_as_their_own_category(rated):
    study, fields, _ = rated

    component = field_ratings(study, fields["component"])
    scenario = field_ratings(study, fields["scenario"])

    assert component.rows[0] == [frozenset({"Model"}), frozenset({"Model", "Engine"}), frozenset({"Engine", "Model"})]
    assert scenario.rows[0] == ["Wrong shape", "Wrong shape", "Other: NaN loss"]


def test_a_subset_of_annotators_and_a_window_of_submissions(rated):
    study, fields, issues = rated
    Assignment.objects.filter(annotator__username="a", issue=issues[1]).update(
        submitted_at=timezone.now() - timedelta(days=10)
    )

    pair = field_ratings(study, fields["impact"], annotators=["a", "b"])
    recent = field_ratings(study, fields["impact"], since=timezone.now() - timedelta(days=1))

    assert pair.coders == ["a", "b"] and pair.rows == [[2, 3], [1, 1]]
    assert recent.units == [issues[0].pk]  # a's rating of the second issue is older: one rating left there


def test_free_text_fields_have_no_agreement(rated):
    study, fields, _ = rated

    with pytest.raises(ValueError, match="agreement needs choices, levels or votes"):
        field_ratings(study, fields["fixed_version"])
