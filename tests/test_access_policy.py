"""The access policy (studies/access.py) as tables a reader can check: who sees whose values, who may do what.

The tables are written out by hand. The pure rule is checked against them, and
so is the database's answer (`StudyIssue.objects.revealed_to`) on real rows,
so that the per-issue rule and the QuerySet filter derived from it cannot
drift apart.
"""

import pytest

from studies.access import StudyAccess, reveals
from studies.models import Assignment, IssueStage, Stage, StudyIssue
from tests.factories import AdminFactory, AssignmentFactory, MembershipFactory, StudyFactory, StudyIssueFactory

pytestmark = pytest.mark.django_db

S, D, L, R, X = "screening", "discussion", "labelling", "reconciliation", "decided"
ALL = {S, D, L, R, X}

# (viewer, whether they label the issue) -> stages at which everyone's values on it are revealed to them:
# (with the study's "reveal after decision" off, with it on).
REVEALED = {
    ("annotator", True): ({R, X}, {X}),
    ("annotator", False): ({R, X}, {X}),
    ("adjudicator", True): ({D, R, X}, {D, R, X}),
    ("adjudicator", False): (ALL, ALL),
    ("owner", True): ({D, R, X}, {D, R, X}),
    ("owner", False): (ALL, ALL),
    ("annotator+adjudicator", True): ({D, R, X}, {D, R, X}),
    ("annotator+owner", True): ({D, R, X}, {D, R, X}),
    ("admin", False): (ALL, ALL),  # an admin who is no member
}


def rows():
    for (viewer, labels_it), by_setting in REVEALED.items():
        for reveal_after_decision, revealed in zip((False, True), by_setting, strict=True):
            for stage in (S, D, L, R, X):
                yield viewer, labels_it, reveal_after_decision, stage, stage in revealed


@pytest.mark.parametrize(("viewer", "labels_it", "reveal_after_decision", "stage", "revealed"), list(rows()))
def test_the_reveal_rule_is_the_table(viewer, labels_it, reveal_after_decision, stage, revealed):
    oversees = viewer != "annotator"

    assert (
        reveals(stage, oversees=oversees, labels_it=labels_it, reveal_after_decision=reveal_after_decision) is revealed
    )


@pytest.mark.parametrize("reveal_after_decision", [False, True])
def test_the_database_reveals_exactly_the_issues_of_the_table(reveal_after_decision):
    """One study with an issue at every stage, labelled by the viewer or not, for every kind of viewer."""
    study = StudyFactory(reveal_after_decision=reveal_after_decision)
    for (viewer, labels_it), by_setting in REVEALED.items():
        user = _viewer(study, viewer)
        expected, issues = set(), {}
        for stage in (S, D, L, R, X):
            study_issue = StudyIssueFactory(study=study, stage=stage)
            if labels_it:
                AssignmentFactory(study=study, issue=study_issue.issue, annotator=user, stage=Stage.LABELLING)
            issues[study_issue.pk] = study_issue
            if stage in by_setting[reveal_after_decision]:
                expected.add(study_issue.pk)
        access = StudyAccess(study, user)

        from_database = set(StudyIssue.objects.revealed_to(access).filter(pk__in=issues).values_list("pk", flat=True))
        one_by_one = {pk for pk, study_issue in issues.items() if StudyAccess(study, user).is_revealed(study_issue)}
        hidden = set(issues) & access.hidden_study_issue_ids

        assert from_database == one_by_one == expected, viewer
        assert hidden == set(issues) - expected


# viewer -> (may see the study, manage it, oversee it, see agreement when the study allows annotators to, and when
# it does not)
STUDY_RIGHTS = {
    "outsider": (False, False, False, False, False),
    "annotator": (True, False, False, True, False),
    "adjudicator": (True, False, True, True, True),
    "owner": (True, True, True, True, True),
    "admin": (True, True, True, True, True),
}


@pytest.mark.parametrize(("viewer", "rights"), STUDY_RIGHTS.items())
def test_who_may_do_what_in_a_study(viewer, rights):
    allowing, not_allowing = StudyFactory(annotators_see_agreement=True), StudyFactory()
    user = _viewer(allowing, viewer)
    if viewer in ("annotator", "adjudicator", "owner"):
        MembershipFactory(study=not_allowing, user=user, role=viewer)
    access = StudyAccess(allowing, user)

    assert (
        access.may_see,
        access.may_manage,
        access.oversees,
        access.may_see_agreement,
        StudyAccess(not_allowing, user).may_see_agreement,
    ) == rights
    assert access.may_export is access.oversees and access.may_download_history is access.may_manage


# viewer, whether they label the issue, whether the study lets annotators reconcile -> may set final values and decide
RECONCILERS = [
    ("annotator", False, False, False),
    ("annotator", True, False, False),
    ("annotator", False, True, False),
    ("annotator", True, True, True),
    ("adjudicator", False, False, True),
    ("owner", False, False, True),
    ("admin", False, False, True),
]


@pytest.mark.parametrize(("viewer", "labels_it", "together", "may"), RECONCILERS)
def test_who_may_reconcile_an_issue(viewer, labels_it, together, may):
    study = StudyFactory(annotators_reconcile=together)
    user = _viewer(study, viewer)
    study_issue = StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)
    if labels_it:
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=user, stage=Stage.LABELLING)

    assert StudyAccess(study, user).may_reconcile(study_issue) is may


def test_one_annotators_own_assignments_are_never_hidden_from_them():
    study = StudyFactory()
    me, other = _viewer(study, "annotator"), _viewer(study, "annotator")
    study_issue = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    mine, theirs = (
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=person, stage=Stage.LABELLING)
        for person in (me, other)
    )

    hidden = set(StudyAccess(study, me).hidden_assignments().values_list("pk", flat=True))

    assert hidden == {theirs.pk} and mine.pk not in hidden
    assert set(Assignment.objects.values_list("pk", flat=True)) == {mine.pk, theirs.pk}


def _viewer(study, viewer: str):
    if viewer == "admin":
        return AdminFactory()
    if viewer == "outsider":
        return MembershipFactory(role="annotator").user  # a member of another study only
    roles = viewer.split("+")
    user = MembershipFactory(study=study, role=roles[0]).user
    for role in roles[1:]:
        MembershipFactory(study=study, user=user, role=role)
    return user
