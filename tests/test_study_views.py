import re

import pytest
from django.urls import reverse

from studies.models import Membership
from tests.factories import MembershipFactory, RepositoryFactory, StudyFactory, StudyIssueFactory

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_studies_a_researcher_is_member_of(client, member, study):
    other = StudyFactory(name="Someone else's study")
    client.force_login(member)

    response = client.get(reverse("studies:list"))

    assert response.status_code == 200
    assert study.name in response.text
    assert other.name not in response.text


def test_it_lists_every_study_for_an_admin(client, admin_user):
    studies = StudyFactory.create_batch(3)
    client.force_login(admin_user)

    response = client.get(reverse("studies:list"))

    for study in studies:
        assert study.name in response.text


def test_it_shows_the_researchers_roles_and_counts(client, study):
    user = MembershipFactory(study=study, role=Membership.Role.OWNER).user
    MembershipFactory(study=study, user=user, role=Membership.Role.ANNOTATOR)
    StudyIssueFactory.create_batch(3, study=study)
    client.force_login(user)

    response = client.get(reverse("studies:list"))

    assert "3 issues" in response.text
    assert "1 member" in response.text
    assert "you are annotator, owner" in response.text


def test_it_counts_every_member_of_each_study_for_a_researcher(client, member, study):
    other = StudyFactory()
    MembershipFactory.create_batch(2, study=study)
    MembershipFactory(study=other, user=member, role=Membership.Role.OWNER)
    MembershipFactory.create_batch(3, study=other)
    client.force_login(member)

    response = client.get(reverse("studies:list"))

    assert "3 members" in response.text
    assert "4 members" in response.text
    assert not re.search(r"\b1 member\b", response.text)


def test_it_redirects_anonymous_users_to_login(client, study):
    for url in [reverse("studies:list"), reverse("studies:detail", args=[study.slug])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_it_rejects_post_on_the_list(client, member):
    client.force_login(member)
    assert client.post(reverse("studies:list")).status_code == 405


def test_it_shows_a_study_to_its_members(client, member, study):
    study_issue = StudyIssueFactory(study=study)
    client.force_login(member)

    response = client.get(reverse("studies:detail", args=[study.slug]))

    assert response.status_code == 200
    assert study_issue.issue.title in response.text
    assert member.username in response.text
    assert "<html" in response.text


def test_it_hides_a_study_from_non_members(client, researcher, study):
    client.force_login(researcher)

    response = client.get(reverse("studies:detail", args=[study.slug]))

    assert response.status_code == 404


def test_it_shows_any_study_to_an_admin(client, admin_user, study):
    client.force_login(admin_user)
    assert client.get(reverse("studies:detail", args=[study.slug])).status_code == 200


def test_it_rejects_post_on_a_study(client, member, study):
    client.force_login(member)
    assert client.post(reverse("studies:detail", args=[study.slug])).status_code == 405


def test_it_pages_issues_and_returns_only_the_list_to_htmx(client, member, study):
    repository = RepositoryFactory()
    issues = [StudyIssueFactory(study=study, issue__repository=repository).issue for _ in range(51)]
    client.force_login(member)

    response = client.get(reverse("studies:detail", args=[study.slug]), {"page": 2}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="issue-list">')
    assert "<html" not in response.text
    assert issues[-1].title in response.text
    assert issues[0].title not in response.text
    assert "Page 2 of 2 (51 issues)" in response.text


def test_it_keeps_study_pages_to_a_few_queries(client, member, study, django_assert_max_num_queries):
    StudyFactory.create_batch(5)
    for other in StudyFactory.create_batch(5):
        MembershipFactory(study=other, user=member)
    StudyIssueFactory.create_batch(30, study=study)
    MembershipFactory.create_batch(5, study=study)
    client.force_login(member)

    with django_assert_max_num_queries(7):
        client.get(reverse("studies:list"))
    with django_assert_max_num_queries(12):  # with the member's own progress, re-checks and the stages
        client.get(reverse("studies:detail", args=[study.slug]))
