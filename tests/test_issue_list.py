"""The study's issue list: every filter, full-text search with snippets, and nothing of anyone else's labels."""

import pytest
from django.urls import reverse

from issues.search import index_stale_issues
from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import Assignment, Stage
from tests.factories import (
    AssignmentFactory,
    IssueCommentFactory,
    IssueFactory,
    MembershipFactory,
    StudyIssueFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    alice, bruno = (MembershipFactory(study=study, role="annotator").user for _ in range(2))
    titles = ["Optimizer ignores the learning rate", "Wrong output shape of Conv2D", "Progress bar too long", "Other"]
    issues = [
        StudyIssueFactory(study=study, issue=IssueFactory(title=title, labels=["type:bug"])).issue for title in titles
    ]
    issues[2].labels = ["comp:keras"]
    issues[2].save()
    mine = AssignmentFactory(study=study, issue=issues[0], annotator=alice, stage=Stage.LABELLING)
    AssignmentFactory(
        study=study, issue=issues[1], annotator=alice, stage=Stage.LABELLING, status=Assignment.Status.SUBMITTED
    )
    theirs = AssignmentFactory(study=study, issue=issues[2], annotator=bruno, stage=Stage.LABELLING)
    untouched = StudyIssueFactory(study=study, issue=IssueFactory(title="Untouched", labels=[])).issue
    AssignmentFactory(study=study, issue=untouched, annotator=bruno, stage=Stage.LABELLING)
    issues.append(untouched)
    scenario = study.fields.get(key="scenario")
    annotation_save(assignment=mine, field=scenario, value="Wrong parameter setting", uncertain=True)
    annotation_save(assignment=theirs, field=scenario, value="Wrong displayed message")
    return study, alice, bruno, issues


def listing(client, study, **filters) -> list[str]:
    response = client.get(reverse("studies:issues", args=[study.slug]), filters)
    assert response.status_code == 200
    return [issue.title for issue in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {},
            [
                "Optimizer ignores the learning rate",
                "Wrong output shape of Conv2D",
                "Progress bar too long",
                "Other",
                "Untouched",
            ],
        ),
        ({"status": "unassigned"}, ["Other"]),
        ({"status": "in_progress"}, ["Optimizer ignores the learning rate", "Progress bar too long"]),
        ({"status": "submitted"}, ["Wrong output shape of Conv2D"]),
        ({"status": "assigned"}, ["Untouched"]),
        ({"label": "comp:keras"}, ["Progress bar too long"]),
        (
            {"sort": "title"},
            [
                "Optimizer ignores the learning rate",
                "Other",
                "Progress bar too long",
                "Untouched",
                "Wrong output shape of Conv2D",
            ],
        ),
    ],
)
def test_it_filters_by_status_label_and_sorts(client, listed, filters, expected):
    study, alice, _, _ = listed
    client.force_login(alice)

    assert listing(client, study, **filters) == expected


def test_the_annotator_filter_shows_whose_issues_they_are(client, listed):
    study, alice, bruno, _ = listed
    client.force_login(alice)

    assert listing(client, study, annotator=bruno.username) == ["Progress bar too long", "Untouched"]


def test_value_and_uncertainty_filters_only_see_the_viewers_own_labels(client, listed):
    study, alice, bruno, _ = listed
    client.force_login(alice)

    assert listing(client, study, field="scenario", value="Wrong parameter setting") == [
        "Optimizer ignores the learning rate"
    ]
    assert listing(client, study, field="scenario", value="Wrong displayed message") == []  # bruno's label
    assert listing(client, study, uncertain="1") == ["Optimizer ignores the learning rate"]
    client.force_login(bruno)
    assert listing(client, study, field="scenario", value="Wrong displayed message") == ["Progress bar too long"]
    assert listing(client, study, uncertain="1") == []


def test_full_text_search_covers_title_body_and_comments_with_highlighted_snippets(client, listed):
    study, alice, _, issues = listed
    issues[
        3
    ].body = "After reloading, the <b>saved</b> model predicts differently; weights were silently reinitialised."
    issues[3].save()
    IssueCommentFactory(issue=issues[2], body="Same with callbacks: the tqdm bar overflows.")
    index_stale_issues()
    client.force_login(alice)

    assert listing(client, study, q="learning rates") == ["Optimizer ignores the learning rate"]  # stemmed
    assert listing(client, study, q="callbacks overflow") == ["Progress bar too long"]  # a comment
    response = client.get(reverse("studies:issues", args=[study.slug]), {"q": "reinitialised weights"})
    snippet = response.context["page"].object_list[0].snippet
    assert "<mark>reinitialised</mark>" in snippet and "<mark>weights</mark>" in snippet
    assert "<b>" not in snippet and "saved model" in snippet  # the body's own markup never comes through


def test_an_issue_changed_by_an_import_is_indexed_again(listed):
    _, _, _, issues = listed
    assert index_stale_issues() == 5
    assert index_stale_issues() == 0
    issues[0].import_hash = "changed"
    issues[0].save()

    assert index_stale_issues() == 1


def test_it_is_404_for_non_members(client, listed):
    study, _, _, _ = listed
    client.force_login(UserFactory())

    assert client.get(reverse("studies:issues", args=[study.slug])).status_code == 404


def test_htmx_gets_only_the_results(client, listed):
    study, alice, _, _ = listed
    client.force_login(alice)

    response = client.get(
        reverse("studies:issues", args=[study.slug]), {"status": "unassigned"}, headers={"HX-Request": "true"}
    )

    assert response.text.lstrip().startswith('<div id="results">')


def test_the_list_takes_a_constant_number_of_queries(client, listed, django_assert_max_num_queries):
    study, alice, _, _ = listed
    for _ in range(30):
        StudyIssueFactory(study=study)
    index_stale_issues()
    client.force_login(alice)

    with django_assert_max_num_queries(10):
        client.get(reverse("studies:issues", args=[study.slug]), {"q": "issue", "status": "unassigned"})


def test_snippets_are_the_bodys_text_without_markdown_syntax(client, listed):
    study, alice, _, issues = listed
    issues[3].body = (
        "**Silently** wrong: the `fit` call reinitialises the weights.\n\n"
        "```python\nmodel.fit(x, y)  # weights reset here\n```\n\n"
        "See [the docs](https://example.com/docs) and ~~old~~ notes."
    )
    issues[3].save()
    index_stale_issues()
    client.force_login(alice)

    response = client.get(reverse("studies:issues", args=[study.slug]), {"q": "weights"})

    snippet = response.context["page"].object_list[0].snippet
    assert "<mark>weights</mark>" in snippet
    assert "Silently wrong: the fit call reinitialises the <mark>weights</mark>" in snippet
    assert not any(syntax in snippet for syntax in ("```", "**", "`", "](", "~~", "&lt;"))
