"""The demo: synthetic issues of a fictional framework, a study and its team.

Loaded by `make run` into an empty database when ANNOTATOR_DEMO is on. The
demo accounts share one public password, so they exist only in demo mode.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from issues.github import comment_fields, issue_fields, issue_number_of_comment, repository_of
from issues.models import Issue, IssueComment, Repository
from studies.models import Membership, Study, StudyIssue

FIXTURES = settings.BASE_DIR / "fixtures" / "demo"
DEMO_PASSWORD = "annotate-demo"
DEMO_STUDY_SLUG = "deepflow-silent-bugs"

# username, is admin, roles in the demo study, description for the login page
DEMO_ACCOUNTS = [
    ("admin", True, [], "admin: imports data, creates studies, sees everything"),
    ("alice", False, [Membership.Role.OWNER, Membership.Role.ANNOTATOR], "researcher, owner of the demo study"),
    ("bruno", False, [Membership.Role.ANNOTATOR], "researcher, annotator"),
    ("chen", False, [Membership.Role.ANNOTATOR, Membership.Role.ADJUDICATOR], "researcher, annotator and adjudicator"),
]


class DemoNotAllowed(Exception):
    pass


def demo_logins() -> list[tuple[str, str]]:
    return [(username, description) for username, _, _, description in DEMO_ACCOUNTS]


def database_is_empty() -> bool:
    return not (get_user_model().objects.exists() or Issue.objects.exists())


@transaction.atomic
def demo_load(*, fixtures: Path = FIXTURES) -> Study:
    """Create the demo accounts, issues and study in one transaction."""
    if not settings.DEMO_MODE:
        raise DemoNotAllowed("The demo accounts have a public password; set ANNOTATOR_DEMO=1 to load them.")
    issues = [_save_issue(obj) for obj in json.loads((fixtures / "issues.json").read_text())]
    by_number = {issue.number: issue for issue in issues}
    for obj in json.loads((fixtures / "comments.json").read_text()):
        IssueComment.objects.update_or_create(
            github_id=obj["id"],
            defaults={**comment_fields(obj), "issue": by_number[issue_number_of_comment(obj)]},
        )
    study, _ = Study.objects.update_or_create(
        slug=DEMO_STUDY_SLUG,
        defaults={
            "name": "Silent bugs in DeepFlow (demo)",
            "description": (
                "A replication of the Keras/TensorFlow silent-bug study on a fictional framework: "
                "screen closed bug reports, label the silent ones with scenario, component and "
                "impact, then settle disagreements."
            ),
        },
    )
    StudyIssue.objects.bulk_create([StudyIssue(study=study, issue=issue) for issue in issues], ignore_conflicts=True)
    for username, is_admin, roles, _ in DEMO_ACCOUNTS:
        user = _demo_user(username, is_admin)
        for role in roles:
            Membership.objects.get_or_create(study=study, user=user, role=role)
    return study


def _save_issue(obj: dict) -> Issue:
    owner, name = repository_of(obj)
    repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
    fields = issue_fields(obj)
    issue, _ = Issue.objects.update_or_create(repository=repository, number=fields.pop("number"), defaults=fields)
    return issue


def _demo_user(username: str, is_admin: bool):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": is_admin, "is_superuser": is_admin}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
