"""Every URL of a study, requested by everyone who must not use it, and the blind-labelling sweep.

The list of URLs is checked against studies/urls.py: a view added without a
case here fails the first test, so no view escapes these checks.
"""

import pytest
from django.urls import reverse

from studies import urls
from studies.codebook import codebook_load, preset
from studies.models import Assignment, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory

pytestmark = pytest.mark.django_db

# Only the list of studies and the creation page are outside a study.
OUTSIDE_A_STUDY = {"list", "create", "notifications", "notifications_read"}


@pytest.fixture
def pair(study):
    """Alice and Bruno label the same issue; Alice has already written values only she may see."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = StudyIssueFactory(study=study).issue
    alice, bruno = (MembershipFactory(study=study, role="annotator").user for _ in range(2))
    owner = MembershipFactory(study=study, role="owner").user
    for annotator in (alice, bruno):
        AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    return study, issue, alice, bruno, owner


def every_study_url(study, issue, membership_pk: int) -> dict[str, str]:
    repository = issue.repository
    on_issue = [study.slug, repository.owner, repository.name, issue.number]
    choice_pk = study.fields.get(key="impact").choices.first().pk
    arguments = {
        "detail": [study.slug], "manage": [study.slug], "settings": [study.slug], "member_add": [study.slug],
        "annotations_upload": [study.slug],
        "member_remove": [study.slug, membership_pk], "assign": [study.slug], "unassign": [study.slug],
        "issues": [study.slug], "add_issues": [study.slug], "next": [study.slug], "codebook": [study.slug],
        "codebook_promote": [study.slug], "codebook_merge": [study.slug], "codebook_export": [study.slug],
        "codebook_load": [study.slug], "codebook_copy": [study.slug], "annotate": on_issue,
        "save_field": [*on_issue, "impact"], "submit": on_issue, "issue_assignments": on_issue,
        "issue_assignment_change": on_issue, "field_new": [study.slug], "field_edit": [study.slug, "impact"],
        "field_remove": [study.slug, "impact"], "choice_new": [study.slug, "impact"],
        "choice_edit": [study.slug, "impact", choice_pk], "choice_remove": [study.slug, "impact", choice_pk],
        "reconcile": on_issue, "final_value": [*on_issue, "impact"], "decision": on_issue, "reopen": on_issue,
        "discussion_comment": on_issue, "issue_history": on_issue, "activity": [study.slug],
        "history_export": [study.slug], "export": [study.slug], "agreement": [study.slug],
    }  # fmt: skip
    return {name: reverse(f"studies:{name}", args=args) for name, args in arguments.items()}


def test_every_url_of_the_studies_app_is_covered(pair):
    study, issue, *_ = pair
    names = {pattern.name for pattern in urls.urlpatterns}

    assert names - OUTSIDE_A_STUDY == set(every_study_url(study, issue, 1))


def test_a_non_member_gets_404_on_every_url_of_a_study(client, pair):
    study, issue, alice, *_ = pair
    client.force_login(UserFactory())

    for name, url in every_study_url(study, issue, study.memberships.first().pk).items():
        # Exactly what a study that does not exist answers: 404, or 405 for a method the URL never takes.
        missing = url.replace(f"/studies/{study.slug}/", "/studies/no-such-study/")
        for request in (client.get, lambda url: client.post(url, {"username": "x", "role": "owner", "value": "1"})):
            status = request(url).status_code
            assert status in (404, 405) and status == request(missing).status_code, name
    assert not Assignment.objects.exclude(status="assigned").exists()
    assert study.memberships.count() == 3


def test_an_anonymous_visitor_is_sent_to_log_in_from_every_url(client, pair):
    study, issue, *_ = pair

    for name, url in every_study_url(study, issue, study.memberships.first().pk).items():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), name


def test_an_annotator_gets_404_on_every_owners_url(client, pair):
    study, issue, alice, *_ = pair
    client.force_login(alice)
    owners = {
        "manage", "settings", "annotations_upload", "member_add", "member_remove", "assign", "unassign",
        "add_issues", "codebook_promote", "codebook_merge", "codebook_load", "codebook_copy", "issue_assignments",
        "issue_assignment_change", "field_new", "field_edit", "field_remove", "choice_new", "choice_edit",
        "choice_remove", "reopen", "activity", "history_export", "export", "agreement",
    }  # fmt: skip

    for name, url in every_study_url(study, issue, study.memberships.first().pk).items():
        if name in owners:
            assert client.get(url).status_code in (404, 405), name
            assert client.post(url, {"username": alice.username, "role": "owner"}).status_code in (404, 405), name
    assert not study.memberships.filter(user=alice, role="owner").exists()


SECRETS = ("ALICE-OTHER-CODE", "ALICE-NOTE", "alice-gist-7f3a")


def test_an_annotator_never_sees_another_annotators_values_anywhere(client, pair):
    study, issue, alice, bruno, _ = pair
    repository = issue.repository
    save = lambda key, **data: client.post(  # noqa: E731
        reverse("studies:save_field", args=[study.slug, repository.owner, repository.name, issue.number, key]),
        data, headers={"HX-Request": "true"},
    )  # fmt: skip
    client.force_login(alice)
    save("root_cause", value="__other__", other=SECRETS[0], note=SECRETS[1])
    save("impact", value="4", uncertain="on")
    save("gist_urls", value=f"https://gist.github.com/alice/{SECRETS[2]}")
    client.force_login(bruno)
    save("impact", value="1")

    urls_ = every_study_url(study, issue, study.memberships.first().pk)
    listing = urls_["issues"]
    responses = {name: client.get(url) for name, url in urls_.items()}
    responses |= {
        "save (htmx fragment)": save("impact", value="2"),
        "list filtered on alice's value": client.get(listing, {"field": "impact", "value": "4"}),
        "list filtered on uncertainty": client.get(listing, {"uncertain": "on"}),
        "next, followed": client.get(urls_["next"], follow=True),
    }

    for name, response in responses.items():
        text = response.content.decode()
        assert not any(secret in text for secret in SECRETS), name
    page = responses["annotate"].text
    assert 'value="4" checked' not in page and 'value="1" checked' in page  # Bruno's own value, not Alice's
    assert "0 issues" in responses["list filtered on alice's value"].text
    assert "0 issues" in responses["list filtered on uncertainty"].text
    # Searching for her note finds nothing: annotations are not in the search index.
    assert "0 issues" in client.get(listing, {"q": SECRETS[1]}).text
