"""One factory per model; tests build exactly the data they need."""

from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from issues.models import ImportRun, Issue, IssueComment, Repository
from studies.models import Assignment, Choice, CodebookField, Membership, Stage, Study, StudyIssue

TEST_PASSWORD = "correct horse battery staple"


@cache
def test_password_hash() -> str:
    """The test password hashed once: the real hasher (PBKDF2, a third of a second a hash here), so that logging in
    works in every process, but not once per user of every test."""
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"researcher{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.LazyFunction(test_password_hash)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository
        django_get_or_create = ["owner", "name"]

    owner = "deepflow"
    name = factory.Sequence(lambda n: f"repo{n}")


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    repository = factory.SubFactory(RepositoryFactory)
    number = factory.Sequence(lambda n: 1000 + n)
    title = factory.Sequence(lambda n: f"Layer {n} returns a wrong output shape without raising")
    body = "**Describe the current behavior**\n\nThe shape is `(None, 3)` instead of `(None, 4)`."
    author_login = "reporter"
    state = Issue.State.CLOSED
    state_reason = "completed"
    labels = factory.LazyFunction(lambda: ["type:bug", "comp:layers"])
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    closed_at = factory.LazyFunction(timezone.now)
    html_url = factory.LazyAttribute(
        lambda issue: f"https://github.com/{issue.repository.full_name}/issues/{issue.number}"
    )
    payload = factory.LazyAttribute(lambda issue: {"number": issue.number, "title": issue.title})


class IssueCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IssueComment

    github_id = factory.Sequence(lambda n: 900_000_000 + n)
    issue = factory.SubFactory(IssueFactory)
    author_login = "maintainer"
    body = "Can you share a standalone reproduction?"
    created_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(lambda comment: {"id": comment.github_id, "body": comment.body})


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    name = factory.Sequence(lambda n: f"Silent bugs study {n}")
    slug = factory.Sequence(lambda n: f"silent-bugs-{n}")
    description = "Label silent bugs."
    screening = False  # most tests are about labelling; those about screening say so


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    study = factory.SubFactory(StudyFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ANNOTATOR


class StudyIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyIssue

    study = factory.SubFactory(StudyFactory)
    issue = factory.SubFactory(IssueFactory)
    stage = factory.LazyAttribute(lambda study_issue: study_issue.study.first_stage)


class CodebookFieldFactory(factory.django.DjangoModelFactory):
    """A single-choice field; give it choices with ChoiceFactory."""

    class Meta:
        model = CodebookField

    study = factory.SubFactory(StudyFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    kind = CodebookField.Kind.SINGLE
    stage = Stage.LABELLING
    position = factory.Sequence(lambda n: n)


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    field = factory.SubFactory(CodebookFieldFactory)
    value = factory.Sequence(lambda n: f"value {n}")
    label = factory.LazyAttribute(lambda choice: choice.value)
    position = factory.Sequence(lambda n: n)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    study = factory.SubFactory(StudyFactory)
    issue = factory.SubFactory(IssueFactory)
    annotator = factory.SubFactory(UserFactory)
    stage = Stage.LABELLING


class ImportRunFactory(factory.django.DjangoModelFactory):
    """A finished command-line import of one file."""

    class Meta:
        model = ImportRun

    source = ImportRun.Source.COMMAND
    status = ImportRun.Status.DONE
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    files = factory.LazyFunction(lambda: [{"name": "dump.jsonl", "size": 1234, "sha256": "ab" * 32}])
    counts = factory.LazyFunction(lambda: {"created": 7})
