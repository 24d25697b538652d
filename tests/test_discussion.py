"""The discussion under a comparison: Markdown comments, and @mentions that notify members in the app."""

import pytest
from django.urls import reverse

from studies.models import Notification
from tests.factories import UserFactory
from tests.helpers import label, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_reconciliation(labelled):
    study_issue, adjudicator, owner, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    return labelled


def test_a_comment_mentions_members_and_only_members(client, in_reconciliation):
    study_issue, adjudicator, owner, (first, second) = in_reconciliation
    stranger = UserFactory(username="stranger")
    client.force_login(adjudicator)

    body = f"@{first.annotator.username}, why **2**? cc @{owner.username}, @stranger and @{adjudicator.username}."
    client.post(page(study_issue, "studies:discussion_comment"), {"body": body})
    shown = client.get(page(study_issue)).text

    assert "why <strong>2</strong>?" in shown
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {first.annotator.username, owner.username}  # not a stranger, not the author
    assert not Notification.objects.filter(user=stranger).exists()


def test_mentions_are_listed_in_the_top_bar_and_marked_read(client, in_reconciliation):
    study_issue, adjudicator, _, (first, _) = in_reconciliation
    client.force_login(adjudicator)
    client.post(page(study_issue, "studies:discussion_comment"), {"body": f"@{first.annotator.username} look"})
    client.force_login(first.annotator)

    bar = client.get(reverse("studies:list")).text
    listed = client.get(reverse("studies:notifications")).text
    client.post(reverse("studies:notifications_read"))

    assert 'Mentions <span class="badge badge-new">1</span>' in bar
    assert f"{adjudicator.username}</strong> mentioned you" in listed and page(study_issue) in listed
    assert "look" not in listed  # the text stays on the discussion page, behind the reveal rule
    assert "badge-new" not in client.get(reverse("studies:list")).text


def test_a_member_removed_from_the_study_no_longer_sees_its_mentions(client, in_reconciliation):
    study_issue, adjudicator, _, (first, _) = in_reconciliation
    client.force_login(adjudicator)
    client.post(page(study_issue, "studies:discussion_comment"), {"body": f"@{first.annotator.username} look"})
    study_issue.study.memberships.filter(user=first.annotator).delete()
    client.force_login(first.annotator)

    listed = client.get(reverse("studies:notifications")).text
    bar = client.get(reverse("studies:list")).text

    assert study_issue.study.name not in listed and page(study_issue) not in listed
    assert study_issue.issue.title not in listed
    assert "badge-new" not in bar


def test_hostile_markdown_in_a_comment_is_inert(client, in_reconciliation):
    study_issue, adjudicator, *_ = in_reconciliation
    client.force_login(adjudicator)

    client.post(
        page(study_issue, "studies:discussion_comment"), {"body": "<script>alert(1)</script>[x](javascript:alert(1))"}
    )
    shown = client.get(page(study_issue)).text

    assert "<script>alert(1)" not in shown and "javascript:alert" not in shown


def test_an_empty_comment_is_refused(client, in_reconciliation):
    study_issue, adjudicator, *_ = in_reconciliation
    client.force_login(adjudicator)

    response = client.post(page(study_issue, "studies:discussion_comment"), {"body": "   "}, follow=True)

    assert "Write something first." in response.text and not study_issue.comments.exists()


def test_nobody_comments_before_the_reveal(client, labelled):
    study_issue, _, _, (first, _) = labelled
    client.force_login(first.annotator)

    response = client.post(page(study_issue, "studies:discussion_comment"), {"body": "Alice said 2"})

    assert response.status_code == 403 and not study_issue.comments.exists()
