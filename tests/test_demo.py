import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator.demo import DEMO_PASSWORD, DEMO_STUDY_SLUG, FIXTURES, DemoNotAllowed, demo_load
from issues.models import Issue, IssueComment
from studies.models import Assignment, CodebookField, Membership, Study
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True


def test_it_loads_the_demo_issues_with_their_comments(demo_mode):
    issue_objects = json.loads((FIXTURES / "issues.json").read_text())

    demo_load()

    assert 25 <= Issue.objects.count() == len(issue_objects) <= 40
    for obj in issue_objects:
        issue = Issue.objects.get(number=obj["number"])
        assert issue.repository.full_name == "deepflow/deepflow"
        assert issue.payload == obj
        assert issue.comments.count() == obj["comments"], f"#{obj['number']}"
    assert IssueComment.objects.exclude(body="").count() == IssueComment.objects.count()


def test_it_builds_the_demo_study_with_three_researchers_and_an_admin(demo_mode):
    demo_load()

    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    assert study.issues.count() == Issue.objects.count()
    researchers = get_user_model().objects.filter(memberships__study=study).distinct()
    assert sorted(user.username for user in researchers) == ["alice", "bruno", "chen"]
    assert Membership.objects.filter(study=study, role=Membership.Role.OWNER).get().user.username == "alice"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert not any(user.is_staff for user in researchers)


def test_the_demo_study_is_ready_to_screen_with_the_silent_bugs_codebook(demo_mode):
    demo_load()

    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    assert "silent_bug" in set(study.fields.values_list("key", flat=True)) and study.screening
    screening = Assignment.objects.filter(study=study, stage="screening")
    assert screening.count() == 3 * study.issues.count()  # the three annotators vote on every issue
    assert set(study.study_issues.values_list("stage", flat=True)) == {"screening"}


def test_loading_twice_changes_nothing(demo_mode):
    demo_load()
    counts = (
        Issue.objects.count(),
        IssueComment.objects.count(),
        Membership.objects.count(),
        Assignment.objects.count(),
        CodebookField.objects.count(),
    )

    demo_load()

    assert (
        Issue.objects.count(),
        IssueComment.objects.count(),
        Membership.objects.count(),
        Assignment.objects.count(),
        CodebookField.objects.count(),
    ) == counts


def test_it_refuses_demo_accounts_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(DemoNotAllowed):
        demo_load()
    with pytest.raises(CommandError, match="ANNOTATOR_DEMO=1"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()


def test_the_command_leaves_a_database_with_data_alone(demo_mode, capsys):
    IssueFactory()

    call_command("load_demo")

    assert "already has data" in capsys.readouterr().out
    assert not Study.objects.exists()


def test_the_demo_has_realistic_bug_reports():
    issues = json.loads((FIXTURES / "issues.json").read_text())
    bodies = [issue["body"] or "" for issue in issues]

    assert sum("```python" in body for body in bodies) >= 20, "reproduction code in fenced blocks"
    assert any("Traceback (most recent call last)" in body for body in bodies)
    assert any("\r\n" in body for body in bodies), "CRLF line ends, as real dumps have"
    assert any(body == "" for body in bodies), "a null body, as real dumps have"
    assert len({issue["user"]["login"] for issue in issues}) >= 10
