"""Admins create studies in the browser; owners manage members and assignments; nobody else can."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studies.models import Assignment, Membership, Stage, Study
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_study_with_the_preset_and_owns_it(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("studies:create"), {
        "name": "TF silent bugs", "slug": "tf-silent", "description": "", "guidelines": "Read **twice**.",
        "screening": "on", "annotators_per_issue": 3, "preset": "silent-bugs",
    })  # fmt: skip

    study = Study.objects.get(slug="tf-silent")
    assert response["Location"] == reverse("studies:manage", args=["tf-silent"])
    assert study.fields.count() == 11 and study.annotators_per_issue == 3
    assert Membership.objects.filter(study=study, user=admin_user, role="owner").exists()


def test_researchers_cannot_create_studies(client, researcher):
    client.force_login(researcher)

    assert client.get(reverse("studies:create")).status_code == 404
    assert client.post(reverse("studies:create"), {"name": "x", "slug": "x"}).status_code == 404
    assert not Study.objects.exists()


@pytest.fixture
def owned(study):
    owner = MembershipFactory(study=study, role="owner").user
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(2)]
    for _ in range(4):
        StudyIssueFactory(study=study)
    return study, owner, annotators


def test_an_owner_adds_and_removes_members(client, owned):
    study, owner, _ = owned
    newcomer = UserFactory(username="chen")
    client.force_login(owner)

    client.post(reverse("studies:member_add", args=[study.slug]), {"username": "chen", "role": "adjudicator"})
    membership = Membership.objects.get(study=study, user=newcomer)
    client.post(reverse("studies:member_remove", args=[study.slug, membership.pk]))

    assert not Membership.objects.filter(study=study, user=newcomer).exists()


def test_an_annotator_who_started_keeps_the_role(client, owned):
    study, owner, annotators = owned
    AssignmentFactory(study=study, issue=study.issues.first(), annotator=annotators[0], status="in_progress")
    membership = Membership.objects.get(study=study, user=annotators[0])
    client.force_login(owner)

    response = client.post(reverse("studies:member_remove", args=[study.slug, membership.pk]), follow=True)

    assert "has started labelling" in response.text
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_owner_assigns_at_random_then_takes_back_what_is_unstarted(client, owned):
    study, owner, annotators = owned
    client.force_login(owner)

    client.post(reverse("studies:assign", args=[study.slug]), {"stage": "labelling", "per_issue": 2, "seed": 3})
    assert Assignment.objects.filter(study=study, stage=Stage.LABELLING).count() == 8
    started = Assignment.objects.filter(annotator=annotators[0]).first()
    started.status = Assignment.Status.IN_PROGRESS
    started.save()
    client.post(reverse("studies:unassign", args=[study.slug]), {"username": annotators[0].username})

    assert list(Assignment.objects.filter(annotator=annotators[0])) == [started]


def test_an_owner_assigns_from_a_csv_and_sees_what_is_wrong(client, owned):
    study, owner, annotators = owned
    issue = study.issues.select_related("repository").first()
    good = f"issue,annotator\n{issue.repository.full_name}#{issue.number},{annotators[1].username}\n"
    client.force_login(owner)

    client.post(reverse("studies:assign", args=[study.slug]),
                {"stage": "labelling", "csv": SimpleUploadedFile("a.csv", good.encode())})  # fmt: skip
    bad = client.post(reverse("studies:assign", args=[study.slug]),
                      {"stage": "labelling", "csv": SimpleUploadedFile("a.csv", b"issue,annotator\nnope,x\n")},
                      follow=True)  # fmt: skip

    assert list(Assignment.objects.values_list("issue_id", "annotator_id")) == [(issue.pk, annotators[1].pk)]
    assert "is not an issue" in bad.text


def test_annotators_and_strangers_get_404_on_management(client, owned):
    study, _, annotators = owned
    for user in (annotators[0], UserFactory()):
        client.force_login(user)
        assert client.get(reverse("studies:manage", args=[study.slug])).status_code == 404
        assert client.post(reverse("studies:assign", args=[study.slug]), {"per_issue": 1}).status_code == 404
        assert (
            client.post(
                reverse("studies:member_add", args=[study.slug]), {"username": user.username, "role": "owner"}
            ).status_code
            == 404
        )
    assert not Assignment.objects.exists()
    assert not Membership.objects.filter(role="owner", user=annotators[0]).exists()
