"""Scripted set-up: create_study, add_members and assign follow the same rules as the pages."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from studies.models import Assignment, Membership, Stage, Study
from tests.factories import AssignmentFactory, IssueFactory, MembershipFactory, StudyIssueFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


def test_create_study_with_the_preset_and_an_owner():
    owner = UserFactory(username="alice")

    out = run("create_study", "tf-silent", "--name", "TF silent bugs", "--preset", "silent-bugs", "--owner", "alice")

    study = Study.objects.get(slug="tf-silent")
    assert "with 11 codebook fields" in out
    assert study.screening and study.fields.filter(key="silent_bug").exists()
    assert Membership.objects.filter(study=study, user=owner, role="owner").exists()


def test_create_study_without_screening():
    run("create_study", "s", "--name", "S", "--preset", "silent-bugs", "--no-screening")

    study = Study.objects.get(slug="s")
    assert not study.screening
    assert not study.fields.filter(stage=Stage.SCREENING).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "nobody"], "No user 'nobody'"),
        (["--preset", "silent-bugs", "--name", ""], "This field cannot be blank"),
    ],
)
def test_create_study_refuses_and_leaves_nothing_behind(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_study", "s", "--name", "S", *args)

    assert not Study.objects.exists()


def test_add_members_gives_roles_and_names_unknown_users(study):
    UserFactory(username="bruno")
    UserFactory(username="chen")

    out = run("add_members", study.slug, "bruno", "chen", "--role", "annotator")
    again = run("add_members", study.slug, "chen", "--role", "annotator")

    assert "2 added as annotator" in out and "1 had that role already" in again
    with pytest.raises(CommandError, match="No such user"):
        run("add_members", study.slug, "bruno", "zoe", "--role", "adjudicator")
    assert not Membership.objects.filter(role="adjudicator").exists()  # all or nothing


@pytest.fixture
def team_study(study):
    study.screening = True  # a study that screens first: assignments start with the screening
    study.save()
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    issues = [StudyIssueFactory(study=study).issue for _ in range(10)]
    return study, annotators, issues


def assignments(study, stage=Stage.SCREENING):
    return sorted(Assignment.objects.filter(study=study, stage=stage).values_list("issue_id", "annotator_id"))


def test_balanced_assignment_gives_each_issue_k_different_annotators_and_evens_the_load(team_study):
    study, annotators, issues = team_study

    out = run("assign", study.slug, "--per-issue", 2, "--seed", 7)

    made = assignments(study)
    assert "20 assignments made (screening)" in out
    per_issue = Counter(issue for issue, _ in made)
    assert set(per_issue.values()) == {2} and len(per_issue) == 10
    assert len(set(made)) == 20  # never the same annotator twice on an issue
    load = Counter(annotator for _, annotator in made)
    assert max(load.values()) - min(load.values()) <= 1


def test_balanced_assignment_is_reproducible_and_the_seed_matters(team_study):
    study, _, _ = team_study
    draws = {}
    for seed in (1, 1, 2, 3):
        Assignment.objects.all().delete()
        run("assign", study.slug, "--per-issue", 1, "--seed", seed)
        draws.setdefault(seed, []).append(assignments(study))

    assert draws[1][0] == draws[1][1]
    assert len({tuple(draw[0]) for draw in draws.values()}) > 1


def test_assigning_again_only_fills_the_gaps(team_study):
    study, annotators, issues = team_study
    AssignmentFactory(study=study, issue=issues[0], annotator=annotators[0], stage=Stage.SCREENING)

    out = run("assign", study.slug, "--per-issue", 2)

    assert "19 assignments made" in out and "1 were there already" in out
    assert Counter(issue for issue, _ in assignments(study))[issues[0].pk] == 2


def test_a_check_on_a_gold_issue_is_not_one_of_its_labellers(team_study):
    """annotators[0] is checked on issue 0 (studies/gold.py): it still gets two labellers, neither of them her."""
    study, annotators, issues = team_study
    Assignment.objects.create(
        study=study, issue=issues[0], annotator=annotators[0], stage="labelling", purpose="check"
    )

    run("assign", study.slug, "--per-issue", 2, "--stage", "labelling")

    labellers = Assignment.objects.real().filter(study=study, issue=issues[0], stage=Stage.LABELLING)
    assert sorted(labellers.values_list("annotator_id", flat=True)) == sorted(a.pk for a in annotators[1:])


def test_balanced_assignment_needs_enough_annotators(team_study):
    study, _, _ = team_study

    with pytest.raises(CommandError, match="4 annotators per issue, but the study has 3"):
        run("assign", study.slug, "--per-issue", 4)


def test_assignment_from_csv_by_url_or_short_reference(team_study, tmp_path):
    study, annotators, issues = team_study
    first, second = issues[0], issues[1]
    repo = first.repository
    csv = tmp_path / "a.csv"
    csv.write_text(
        "issue,annotator\n"
        f"https://github.com/{repo.owner}/{repo.name}/issues/{first.number},{annotators[0].username}\n"
        f"{second.repository.owner}/{second.repository.name}#{second.number},{annotators[1].username}\n"
    )

    run("assign", study.slug, "--csv", csv, "--stage", "labelling")

    assert assignments(study, Stage.LABELLING) == sorted([(first.pk, annotators[0].pk), (second.pk, annotators[1].pk)])


def test_assignment_from_csv_checks_every_line_first(team_study, tmp_path):
    study, annotators, issues = team_study
    outsider = IssueFactory()
    csv = tmp_path / "a.csv"
    repo = issues[0].repository
    csv.write_text(
        "issue,annotator\n"
        f"{repo.owner}/{repo.name}#{issues[0].number},{annotators[0].username}\n"
        f"{outsider.repository.owner}/{outsider.repository.name}#{outsider.number},{annotators[0].username}\n"
        f"{issues[1].repository.owner}/{issues[1].repository.name}#{issues[1].number},stranger\n"
        "not an issue,x\n"
    )

    with pytest.raises(CommandError) as error:
        run("assign", study.slug, "--csv", csv)

    assert "line 3: " in str(error.value) and "is not in the study" in str(error.value)
    assert "line 4: 'stranger' is not an annotator of the study" in str(error.value)
    assert "line 5: 'not an issue' is not an issue" in str(error.value)
    assert not Assignment.objects.exists()
