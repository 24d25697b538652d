"""Admins create studies in the browser; owners manage members and assignments; nobody else can."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studies.annotation import annotation_save
from studies.assignment import assignment_move
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, Membership, Stage, Study
from tests.factories import AssignmentFactory, IssueFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import FormPage

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_study_with_the_preset_and_owns_it(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("studies:create"),
        {
            "name": "TF silent bugs",
            "slug": "tf-silent",
            "description": "",
            "guidelines": "Read **twice**.",
            "screening": "on",
            "annotators_per_issue": 3,
            "preset": "silent-bugs",
        },
    )

    study = Study.objects.get(slug="tf-silent")
    assert response["Location"] == reverse("studies:manage", args=["tf-silent"])
    assert study.fields.count() == 11 and study.annotators_per_issue == 3
    assert Membership.objects.filter(study=study, user=admin_user, role="owner").exists()


def test_a_refused_new_study_keeps_what_was_typed(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("studies:create"),
        {
            "name": "TF silent bugs",
            "slug": "tf silent!",
            "guidelines": "Read **twice**.",
            "annotators_per_issue": 3,
            "preset": "silent-bugs",
        },
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert "valid “slug”" in page.errors_at("id_slug")[0]
    assert [page.value(f"id_{name}") for name in ("name", "slug", "guidelines", "annotators_per_issue", "preset")] == [
        "TF silent bugs",
        "tf silent!",
        "Read **twice**.",
        "3",
        "silent-bugs",
    ]
    assert not page.checked("id_screening")
    assert not Study.objects.exists()


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


def test_the_role_of_a_new_member_is_annotator_unless_chosen(client, owned):
    study, owner, _ = owned
    client.force_login(owner)

    page = FormPage(client.get(reverse("studies:manage", args=[study.slug])).text)

    assert page.value("member-role") == "annotator"


def test_an_unknown_username_is_refused_at_the_field_and_kept(client, owned, django_assert_max_num_queries):
    study, owner, _ = owned
    client.force_login(owner)

    with django_assert_max_num_queries(12):
        response = client.post(
            reverse("studies:member_add", args=[study.slug]), {"username": "chne", "role": "adjudicator"}
        )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("member-username") == ["There is no user “chne”."]
    assert (page.value("member-username"), page.value("member-role")) == ("chne", "adjudicator")
    assert page.value("settings-name") == study.name  # the other forms of the page, fresh
    assert not Membership.objects.filter(role="adjudicator").exists()


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

    client.post(
        reverse("studies:assign", args=[study.slug]),
        {"stage": "labelling", "csv": SimpleUploadedFile("a.csv", good.encode())},
    )
    bad = client.post(
        reverse("studies:assign", args=[study.slug]),
        {"stage": "screening", "by": "csv", "csv": SimpleUploadedFile("a.csv", b"issue,annotator\nnope,x\n")},
    )

    page = FormPage(bad.text)
    assert list(Assignment.objects.values_list("issue_id", "annotator_id")) == [(issue.pk, annotators[1].pk)]
    assert bad.status_code == 422
    assert page.errors_at("assign-csv-csv") == [
        "Nothing was assigned:",
        "line 2: 'nope' is not an issue (a GitHub URL or owner/name#N)",
    ]
    assert page.value("assign-csv-stage") == "screening"


def test_more_annotators_per_issue_than_the_study_has_is_refused_at_the_field(client, owned):
    study, owner, _ = owned
    client.force_login(owner)

    response = client.post(
        reverse("studies:assign", args=[study.slug]), {"stage": "screening", "per_issue": 3, "seed": 42}
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("assign-per_issue") == [
        "3 annotators per issue, but the study has 2 annotator(s); add members first."
    ]
    assert [page.value(f"assign-{name}") for name in ("stage", "per_issue", "seed")] == ["screening", "3", "42"]
    assert not Assignment.objects.exists()


def test_taking_back_names_the_annotator(client, owned):
    study, owner, _ = owned
    client.force_login(owner)

    response = client.post(reverse("studies:unassign", args=[study.slug]), {"username": ""})

    assert response.status_code == 422
    assert '<p class="error" role="alert">This field is required.</p>' in response.text


def test_an_annotations_file_with_many_errors_shows_the_first_50_at_the_file_input(client, owned):
    study, owner, _ = owned
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = IssueFactory(shared=True)
    reference = f"{issue.repository.full_name}#{issue.number}"
    rows = [f"{reference},nobody{n},impact,3" for n in range(60)]
    client.force_login(owner)

    response = client.post(
        reverse("studies:annotations_upload", args=[study.slug]),
        {
            "csv": SimpleUploadedFile("a.csv", "\n".join(["issue,annotator,field,value", *rows]).encode()),
            "create_choices": "on",
        },
    )

    page = FormPage(response.text)
    errors = page.errors_at("upload-csv")
    assert response.status_code == 422
    assert errors[0] == "Nothing was imported: 60 errors."
    assert errors[1] == "line 2: no user 'nobody0' (--create-users makes an inactive account)"
    assert len(errors) == 1 + 50 + 1 and errors[-1] == "… and 10 more (the command lists them all)."
    assert page.checked("upload-create_choices") and not page.checked("upload-dry_run")


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


# --- One issue's assignments, by hand ---


def assignments_url(study, issue, name="studies:issue_assignments"):
    return reverse(name, args=[study.slug, issue.repository.owner, issue.repository.name, issue.number])


def change(client, study, issue, **data):
    return client.post(assignments_url(study, issue, "studies:issue_assignment_change"), data, follow=True)


def test_an_owner_moves_an_unstarted_assignment_to_another_annotator(client, owned):
    study, owner, (alice, bruno) = owned
    issue = study.issues.first()
    assignment = AssignmentFactory(study=study, issue=issue, annotator=alice)
    client.force_login(owner)

    page = client.get(assignments_url(study, issue)).text
    response = change(client, study, issue, assignment=assignment.pk, username=bruno.username)

    assert alice.username in page and "Move to" in page
    assert f"Moved from {alice.username} to {bruno.username}." in response.text
    assert list(Assignment.objects.values_list("annotator", flat=True)) == [bruno.pk]


def test_an_owner_adds_an_annotator_and_takes_an_unstarted_assignment_back(client, owned):
    study, owner, (alice, bruno) = owned
    issue = study.issues.first()
    client.force_login(owner)

    change(client, study, issue, username=alice.username, stage="labelling")
    again = change(client, study, issue, username=alice.username, stage="labelling")
    change(client, study, issue, username=bruno.username, stage="labelling")
    change(client, study, issue, assignment=Assignment.objects.get(annotator=alice).pk)

    page = FormPage(again.text)
    assert again.status_code == 422
    assert page.errors_at("assign-one-username") == [f"{alice.username} already has this issue."]
    assert (page.value("assign-one-username"), page.value("assign-one-stage")) == (alice.username, "labelling")
    assert list(Assignment.objects.values_list("annotator", "stage")) == [(bruno.pk, "labelling")]


def test_a_started_assignment_stays_with_its_annotator(client, owned):
    study, owner, (alice, bruno) = owned
    issue = study.issues.first()
    started = AssignmentFactory(study=study, issue=issue, annotator=alice, status="in_progress")
    client.force_login(owner)

    moved = change(client, study, issue, assignment=started.pk, username=bruno.username)
    removed = change(client, study, issue, assignment=started.pk)

    assert moved.status_code == removed.status_code == 422
    assert f"{alice.username} has started this issue" in moved.text and "has started this issue" in removed.text
    assert list(Assignment.objects.values_list("annotator", "status")) == [(alice.pk, "in_progress")]
    assert "started: stays with" in client.get(assignments_url(study, issue)).text


def test_only_annotators_of_the_study_can_be_given_an_issue(client, owned):
    study, owner, _ = owned
    issue = study.issues.first()
    client.force_login(owner)

    stranger = UserFactory()

    response = change(client, study, issue, username=stranger.username, stage="screening")

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("assign-one-username") == [f"'{stranger.username}' is not an annotator of the study."]
    assert page.value("assign-one-stage") == "screening"
    assert not Assignment.objects.exists()


def test_an_annotator_whose_issue_was_moved_can_no_longer_save_to_it(owned):
    study, _, (alice, bruno) = owned
    codebook_load(study, preset("silent-bugs"), screening=False)
    assignment = AssignmentFactory(study=study, issue=study.issues.first(), annotator=alice)
    alices_page = Assignment.objects.get(pk=assignment.pk)  # what alice's open tab still holds

    assignment_move(assignment, username=bruno.username)

    with pytest.raises(ValidationError, match="no longer assigned to you"):
        annotation_save(assignment=alices_page, field=study.fields.get(key="impact"), value="2")
    assert not Annotation.objects.exists()
    assert Assignment.objects.get().status == "assigned"


def test_annotators_and_strangers_cannot_change_assignments(client, owned):
    study, _, (alice, bruno) = owned
    issue = study.issues.first()
    assignment = AssignmentFactory(study=study, issue=issue, annotator=alice)
    for user in (alice, UserFactory()):
        client.force_login(user)
        assert client.get(assignments_url(study, issue)).status_code == 404
        assert change(client, study, issue, assignment=assignment.pk, username=bruno.username).status_code == 404
        assert change(client, study, issue, username=user.username, stage="labelling").status_code == 404
    assert list(Assignment.objects.values_list("annotator", flat=True)) == [alice.pk]


def test_an_assignment_of_another_issue_or_a_malformed_one_is_404(client, owned):
    study, owner, (alice, bruno) = owned
    first, second = study.issues.all()[:2]
    elsewhere = AssignmentFactory(study=study, issue=second, annotator=alice)
    client.force_login(owner)

    assert change(client, study, first, assignment=elsewhere.pk, username=bruno.username).status_code == 404
    assert change(client, study, first, assignment="1 OR 1=1").status_code == 404
    assert Assignment.objects.get().annotator == alice


def test_an_owner_sets_how_the_study_runs(client, owned):
    study, owner, (alice, _) = owned
    settings = {
        "name": study.name,
        "description": "",
        "guidelines": "",
        "annotators_per_issue": 3,
        "screening_accept_votes": 3,
        "screening_discuss_votes": 2,
        "reveal_after_decision": "on",
    }
    client.force_login(alice)
    refused = client.post(reverse("studies:settings", args=[study.slug]), settings)
    client.force_login(owner)

    client.post(reverse("studies:settings", args=[study.slug]), settings)

    study.refresh_from_db()
    assert refused.status_code == 404
    assert (study.screening_accept_votes, study.screening_discuss_votes, study.reveal_after_decision) == (3, 2, True)
    assert not study.annotators_reconcile


def test_settings_that_contradict_each_other_are_refused_at_the_field(client, owned):
    study, owner, _ = owned
    client.force_login(owner)

    response = client.post(
        reverse("studies:settings", args=[study.slug]),
        {
            "name": "Renamed",
            "description": "",
            "guidelines": "",
            "annotators_per_issue": 3,
            "screening_discuss_votes": 2,
            "reveal_after_decision": "on",
            "annotators_reconcile": "on",
        },
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("settings-annotators_reconcile") == [
        "Annotators who reconcile together see each other's values in reconciliation: they cannot also wait for "
        "the decision."
    ]
    assert (page.value("settings-name"), page.value("settings-screening_discuss_votes")) == ("Renamed", "2")
    assert page.checked("settings-reveal_after_decision") and page.checked("settings-annotators_reconcile")
    assert f"<h1>Manage <bdi>{study.name}</bdi></h1>" in response.text  # the study as it is saved
    study.refresh_from_db()
    assert study.name != "Renamed" and not study.reveal_after_decision and not study.annotators_reconcile
