"""A study's URLs answer a non-member exactly as a study that does not exist does, and never show one
annotator another's values.

The URLs are those of the access matrix (tests/test_access_matrix.py), where
every URL pattern of the project must have a row: no view escapes these checks.
"""

import pytest
from django.urls import reverse

from studies.codebook import codebook_load, preset
from studies.models import Assignment, Stage
from tests.factories import AssignmentFactory, ImportRunFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import concrete_urls

pytestmark = pytest.mark.django_db


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


def every_study_url(study, issue) -> dict[str, str]:
    """The URLs of the access matrix that belong to this study, by short name."""
    world = {"study": study, "study_issue": study.study_issues.get(issue=issue), "run": ImportRunFactory()}
    return {
        key.removeprefix("studies:"): url
        for key, url in concrete_urls(world).items()
        if url.startswith(f"/studies/{study.slug}/")
    }


def test_a_non_member_gets_404_on_every_url_of_a_study(client, pair):
    study, issue, alice, *_ = pair
    client.force_login(UserFactory())

    for name, url in every_study_url(study, issue).items():
        # Exactly what a study that does not exist answers: 404, or 405 for a method the URL never takes.
        missing = url.replace(f"/studies/{study.slug}/", "/studies/no-such-study/")
        for request in (client.get, lambda url: client.post(url, {"username": "x", "role": "owner", "value": "1"})):
            status = request(url).status_code
            assert status in (404, 405) and status == request(missing).status_code, name
    assert not Assignment.objects.exclude(status="assigned").exists()
    assert study.memberships.count() == 3


SECRETS = ("ALICE-OTHER-CODE", "ALICE-NOTE", "alice-gist-7f3a")


def test_an_annotator_never_sees_another_annotators_values_anywhere(client, pair):
    study, issue, alice, bruno, _ = pair
    repository = issue.repository
    save = lambda key, **data: client.post(  # noqa: E731
        reverse("studies:save_field", args=[study.slug, repository.owner, repository.name, issue.number, key]),
        data,
        headers={"HX-Request": "true"},
    )
    client.force_login(alice)
    save("root_cause", value="__other__", other=SECRETS[0], note=SECRETS[1], version="0")
    save("impact", value="4", uncertain="on", version="0")
    save("gist_urls", value=f"https://gist.github.com/alice/{SECRETS[2]}", version="0")
    client.force_login(bruno)
    save("impact", value="1", version="0")

    urls_ = every_study_url(study, issue)
    listing = urls_["issues"]
    responses = {name: client.get(url) for name, url in urls_.items()}
    responses |= {
        "save (htmx fragment)": save("impact", value="2", version="1"),
        "save based on an old version (htmx fragment)": save("impact", value="3", version="0"),
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
