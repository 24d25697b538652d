"""Owners add imported issues to their study by repository, labels, state, dates and text."""

import pytest
from django.urls import reverse

from issues.search import index_stale_issues
from tests.factories import IssueFactory, MembershipFactory, RepositoryFactory, StudyIssueFactory
from tests.helpers import FormPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def repository():
    """Issues an admin imported and shared with the owners of studies (studies/access.py)."""
    repository = RepositoryFactory(owner="tensorflow", name="tensorflow")
    bug = ["comp:keras", "type:bug"]
    IssueFactory(repository=repository, number=1, labels=bug, state="closed", title="Fit is silent", shared=True)
    IssueFactory(
        repository=repository, number=2, labels=["comp:keras"], state="closed", title="Summary lies", shared=True
    )
    IssueFactory(repository=repository, number=3, labels=bug, state="open", title="Open one", shared=True)
    IssueFactory(repository=repository, number=4, labels=bug, state="closed", is_pull_request=True, shared=True)
    IssueFactory(number=5, labels=bug, state="closed", shared=True)  # another repository
    return repository


@pytest.fixture
def owner(study):
    return MembershipFactory(study=study, role="owner").user


def url(study):
    return reverse("studies:add_issues", args=[study.slug])


def test_it_previews_then_adds_the_matching_issues(client, study, owner, repository):
    StudyIssueFactory(study=study, issue=repository.issues.get(number=1))
    client.force_login(owner)
    filters = {"repository": repository.pk, "labels": "type:bug, comp:keras", "state": "closed"}

    preview = client.get(url(study), filters, headers={"HX-Request": "true"})
    added = client.post(url(study) + "?" + "&".join(f"{k}={v}" for k, v in filters.items()), follow=True)

    assert "<strong>1</strong> issue match" in preview.text and "<strong>0</strong> to add" in preview.text
    assert sorted(study.issues.values_list("number", flat=True)) == [1]
    filters["labels"] = "comp:keras"
    client.post(url(study) + f"?repository={repository.pk}&labels=comp:keras&state=closed")
    assert sorted(study.issues.values_list("number", flat=True)) == [1, 2]
    assert "0 issues added" in added.text


def test_it_finds_issues_by_text(client, study, owner, repository):
    index_stale_issues()
    client.force_login(owner)

    client.post(url(study) + f"?repository={repository.pk}&state=all&q=summary")

    assert list(study.issues.values_list("number", flat=True)) == [2]


def test_wrong_filters_add_nothing_and_are_shown_at_the_field(client, study, owner, repository):
    client.force_login(owner)

    response = client.post(url(study) + f"?repository={repository.pk}&state=open&since=yesterday&q=summary")

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("id_since") == ["Enter a valid date."]
    assert [page.value(f"id_{name}") for name in ("repository", "state", "since", "q")] == [
        str(repository.pk),
        "open",
        "yesterday",
        "summary",
    ]
    assert not study.issues.exists()


def test_only_owners_and_admins_may_add(client, study, repository):
    annotator = MembershipFactory(study=study, role="annotator").user
    client.force_login(annotator)

    assert client.get(url(study)).status_code == 404
    assert client.post(url(study) + f"?repository={repository.pk}&state=all").status_code == 404
    assert not study.issues.exists()


def test_wrong_method_is_refused(client, study, owner):
    client.force_login(owner)

    assert client.put(url(study)).status_code == 405
