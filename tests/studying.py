"""Helpers for tests of the study workflow: a team, labelling an issue, the URLs of an issue."""

from django.urls import reverse

from studies.annotation import annotation_save, assignment_submit
from tests.factories import MembershipFactory


def team(study, annotators=3):
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    owner = MembershipFactory(study=study, role="owner").user
    return adjudicator, owner, [MembershipFactory(study=study, role="annotator").user for _ in range(annotators)]


def label(assignment, *, impact: str, submit: bool = True, uncertain: bool = False) -> None:
    fields = {field.key: field for field in assignment.study.fields.all()}
    annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
    annotation_save(assignment=assignment, field=fields["component"], value=["Model", "Engine"])
    annotation_save(
        assignment=assignment,
        field=fields["impact"],
        value=impact,
        uncertain=uncertain,
        note="only on GPU" if uncertain else "",
    )
    if submit:
        assignment_submit(assignment=assignment)


def page(study_issue, name="studies:reconcile", *extra):
    repository = study_issue.issue.repository
    args = [study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number, *extra]
    return reverse(name, args=args)


# Impact levels given by annotators ann, bob and cyd to five issues (None: no rating): conftest's study_with_ratings.
IMPACT = [(2, 3, 3), (1, 1, None), (4, 4, 4), (2, 1, 2), (3, 3, 3)]
