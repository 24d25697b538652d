"""The annotation page: who may see it, saving one field at a time, submitting, and blindness."""

import re

import pytest
from django.urls import reverse

from annotator.bidi import isolate
from studies.annotation import annotation_save
from studies.assignment import assignment_move
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, Stage
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
def setup(study):
    """A study with the silent-bugs codebook, one issue and two annotators labelling it."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = IssueFactory(body="Calling `fit` twice **silently** resets the optimizer.\n\n<script>alert(1)</script>")
    IssueCommentFactory(issue=issue, body="Reproduced on 2.3, see https://gist.github.com/x/1")
    StudyIssueFactory(study=study, issue=issue)
    alice, bruno = (MembershipFactory(study=study, role="annotator").user for _ in range(2))
    mine = AssignmentFactory(study=study, issue=issue, annotator=alice, stage=Stage.LABELLING)
    theirs = AssignmentFactory(study=study, issue=issue, annotator=bruno, stage=Stage.LABELLING)
    return study, issue, mine, theirs


def page_url(study, issue, name="studies:annotate", *extra):
    repository = issue.repository
    return reverse(name, args=[study.slug, repository.owner, repository.name, issue.number, *extra])


def save(client, study, issue, key, **data):
    """As the page sends it: with the version of the field it shows (unless the test says which)."""
    if "version" not in data:
        data["version"] = shown_version(client.get(page_url(study, issue)).text, key)
    return client.post(page_url(study, issue, "studies:save_field", key), data, headers={"HX-Request": "true"})


def shown_version(html: str, key: str) -> str:
    return re.search(rf'id="version-{key}" value="(\d+)"', html)[1]


def test_it_shows_the_issue_and_the_codebook_to_the_annotator(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    response = client.get(page_url(study, issue))

    assert response.status_code == 200
    html = response.text
    assert issue.title in html and "<strong>silently</strong>" in html
    assert "<script>alert(1)</script>" not in html  # the body is sanitised
    assert "Reproduced on 2.3" in html
    for label in ("Scenario", "Component", "Impact", "Root cause", "Fixing commit(s)"):
        assert label in html
    assert "Wrong save/reload" in html


def test_it_is_404_for_non_members_and_issues_outside_the_study(client, setup):
    study, issue, _, _ = setup
    client.force_login(UserFactory())
    assert client.get(page_url(study, issue)).status_code == 404
    assert save(client, study, issue, "scenario", value="Wrong shape", version="0").status_code == 404

    member = MembershipFactory(study=study).user
    client.force_login(member)
    outside = IssueFactory()
    assert client.get(page_url(study, outside)).status_code == 404


@pytest.fixture
def moved(client, setup):
    """Alice's page was open when the owner moved her assignment to a third annotator."""
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    version = shown_version(client.get(page_url(study, issue)).text, "impact")
    assignment_move(mine, username=MembershipFactory(study=study, role="annotator").user.username)
    return study, issue, version


def test_a_save_after_the_assignment_moved_says_it_is_no_longer_yours(client, moved):
    study, issue, version = moved

    response = save(client, study, issue, "impact", value="3", version=version)

    assert response.status_code == 409
    assert "This issue is no longer assigned to you." in response.text
    assert 'class="save-state error"' in response.text  # htmx swaps it into the field
    assert not Annotation.objects.exists()


def test_without_javascript_a_save_after_the_move_returns_to_the_page_saying_so(client, moved):
    study, issue, version = moved
    url = page_url(study, issue, "studies:save_field", "impact")

    response = client.post(url, {"value": "3", "version": version}, follow=True)

    assert response.redirect_chain == [(page_url(study, issue), 302)]
    assert "This issue is no longer assigned to you." in response.text
    assert "This issue is not assigned to you" in response.text
    assert not Annotation.objects.exists()


def test_a_submit_after_the_assignment_moved_says_it_is_no_longer_yours(client, moved):
    study, issue, _ = moved

    response = client.post(page_url(study, issue, "studies:submit"), follow=True)

    assert response.redirect_chain == [(page_url(study, issue), 302)]
    assert "This issue is no longer assigned to you" in response.text
    assert not Assignment.objects.filter(status=Assignment.Status.SUBMITTED).exists()


def test_a_stranger_still_learns_nothing_from_a_save_or_submit(client, setup):
    study, issue, _, _ = setup
    client.force_login(UserFactory())

    assert save(client, study, issue, "impact", value="3", version="0").status_code == 404
    assert client.post(page_url(study, issue, "studies:submit")).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, setup):
    study, issue, _, _ = setup

    response = client.get(page_url(study, issue))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_saving_needs_post(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    assert client.get(page_url(study, issue, "studies:save_field", "scenario")).status_code == 405
    assert client.get(page_url(study, issue, "studies:submit")).status_code == 405


def test_a_field_is_saved_at_once_and_starts_the_assignment(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    response = save(
        client, study, issue, "component", value=["Engine", "Optimizer"], uncertain="on", note=" Optimizer? "
    )

    assert response.status_code == 200
    # htmx swaps only the field's status (and, out of band, its version): what the annotator types stays as it is.
    assert response.text.split() == [
        "<span",
        'class="save-state',
        'saved"',
        'role="status">Saved</span>',
        "<input",
        'type="hidden"',
        'name="version"',
        'id="version-component"',
        'value="1"',
        'hx-swap-oob="true">',
    ]
    annotation = Annotation.objects.get(assignment=mine, field__key="component")
    assert (annotation.value, annotation.uncertain, annotation.note) == (["Engine", "Optimizer"], True, "Optimizer?")
    mine.refresh_from_db()
    assert mine.status == Assignment.Status.IN_PROGRESS and mine.started_at


def test_a_wrong_value_is_refused_with_the_reason(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    response = save(client, study, issue, "component", value=["Engine", "Layers", "Model"])

    assert f"At most 2 values for {isolate('Component')}" in response.text
    assert not Annotation.objects.exists()


def test_open_coding_stores_other_text(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    save(client, study, issue, "scenario", value="__other__", other="Wrong dtype")

    assert Annotation.objects.get(field__key="scenario").value == {"other": "Wrong dtype"}


def test_without_javascript_saving_returns_to_the_page(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    response = client.post(page_url(study, issue, "studies:save_field", "impact"), {"value": "3", "version": "0"})

    assert response.status_code == 302 and response["Location"].endswith("#field-impact")
    assert Annotation.objects.get(field__key="impact").value == 3


def test_without_javascript_a_refused_save_comes_back_as_typed_with_the_reason(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    typed = {"value": "not-a-sha\nabc1234", "note": "from the thread", "uncertain": "on"}

    response = client.post(page_url(study, issue, "studies:save_field", "fixing_commits"), {**typed, "version": "0"})

    assert response.status_code == 422
    form = re.search(r'<form id="field-fixing_commits".*?</form>', response.text, re.S)[0]
    assert "Not a commit SHA (7 to 40 hex digits): not-a-sha." in form
    assert "not-a-sha\nabc1234</textarea>" in form
    assert 'value="from the thread"' in form and "data-uncertain checked" in form
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("version", [None, "", "abc", "-1", "1e3", "99999999999999999999"])
def test_a_save_without_a_whole_number_version_is_a_bad_request(client, setup, version):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    data = {"value": "3"} if version is None else {"value": "3", "version": version}

    response = client.post(
        page_url(study, issue, "studies:save_field", "impact"), data, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400 and "version" in response.text
    assert not Annotation.objects.exists()


def test_submit_needs_every_required_field_then_moves_on(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    refused = client.post(page_url(study, issue, "studies:submit"), follow=True)
    assert (
        f"Still to answer: {isolate('Scenario')}, {isolate('Component')}." in refused.text
    )  # the impact may stay empty, as in the paper
    save(client, study, issue, "scenario", value="Wrong parameter setting")
    save(client, study, issue, "component", value=["Optimizer"])
    save(client, study, issue, "impact", value="3")
    accepted = client.post(page_url(study, issue, "studies:submit"))

    mine.refresh_from_db()
    assert mine.status == Assignment.Status.SUBMITTED
    assert accepted["Location"] == reverse("studies:next", args=[study.slug])
    assert "can no longer be changed" in save(client, study, issue, "impact", value="4").text


def test_a_submit_carrying_a_value_the_server_has_not_saved_is_refused_and_keeps_it(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    save(client, study, issue, "scenario", value="Wrong parameter setting")
    save(client, study, issue, "component", value=["Optimizer"])
    save(client, study, issue, "impact", value="3")
    # The page's values as it sends them on Submit: a refused commit and a fixed version whose save never arrived.
    page = {
        "page-scenario": "value=Wrong+parameter+setting&note=",
        "page-impact": "value=3&note=",
        "page-fixing_commits": "value=see+the+PR&note=",
        "page-fixed_version": "value=2.4&note=from+the+thread",
    }

    refused = client.post(page_url(study, issue, "studies:submit"), page)

    assert refused.status_code == 422
    assert (
        "Not submitted: <bdi>Fixed version</bdi>, <bdi>Fixing commit(s)</bdi> hold a value that is not saved."
        in refused.text
    )
    commits = re.search(r'<form id="field-fixing_commits".*?</form>', refused.text, re.S)[0]
    assert "Not saved: Not a commit SHA (7 to 40 hex digits): see, the, pr." in commits
    assert "see the PR</textarea>" in commits
    fixed = re.search(r'<form id="field-fixed_version".*?</form>', refused.text, re.S)[0]
    assert 'value="2.4"' in fixed and 'value="from the thread"' in fixed
    mine.refresh_from_db()
    assert mine.status == Assignment.Status.IN_PROGRESS

    accepted = client.post(page_url(study, issue, "studies:submit"), {"page-scenario": page["page-scenario"]})
    assert accepted.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Assignment.Status.SUBMITTED


def test_a_submit_takes_the_pages_choices_in_any_order(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    fields = {field.key: field for field in study.fields.all()}
    for key, value in (("scenario", "Wrong shape"), ("component", ["Optimizer", "Engine"]), ("impact", "3")):
        annotation_save(assignment=mine, field=fields[key], value=value)  # as an import lists them

    submitted = client.post(
        page_url(study, issue, "studies:submit"), {"page-component": "value=Engine&value=Optimizer&other=&note="}
    )

    assert submitted.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Assignment.Status.SUBMITTED


def test_next_issue_opens_the_first_unfinished_assignment(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)

    response = client.get(reverse("studies:next", args=[study.slug]))

    assert response["Location"] == page_url(study, issue)


def test_an_annotator_never_sees_another_annotators_values(client, setup):
    study, issue, mine, theirs = setup
    client.force_login(theirs.annotator)
    save(client, study, issue, "scenario", value="__other__", other="SECRET-CODE-FROM-BRUNO")
    save(client, study, issue, "root_cause", value="Type confusion", note="BRUNO-NOTE")
    client.force_login(mine.annotator)

    responses = [
        client.get(page_url(study, issue)),
        save(client, study, issue, "scenario", value="Wrong shape"),
        client.get(reverse("studies:detail", args=[study.slug])),
        client.get(reverse("studies:next", args=[study.slug]), follow=True),
    ]

    for response in responses:
        assert "SECRET-CODE-FROM-BRUNO" not in response.text and "BRUNO-NOTE" not in response.text
    page = responses[0].text
    assert 'value="Type confusion" checked' not in page


def test_the_page_takes_a_constant_number_of_queries(client, setup, django_assert_max_num_queries):
    study, issue, mine, _ = setup
    for _ in range(20):
        IssueCommentFactory(issue=issue)
    client.force_login(mine.annotator)
    for key, value in (("scenario", "Wrong shape"), ("impact", "2"), ("gist_urls", "https://gist.github.com/a/1")):
        save(client, study, issue, key, value=value)

    # One of them reads GitHub's comment count, to say how many comments the dump left out.
    with django_assert_max_num_queries(18):  # the first view stores the rendered HTML: one UPDATE per table
        first = client.get(page_url(study, issue))
    with django_assert_max_num_queries(16):
        again = client.get(page_url(study, issue))

    assert first.status_code == again.status_code == 200


def test_references_to_issues_of_the_study_open_them_here(client, setup):
    study, issue, mine, _ = setup
    sibling = StudyIssueFactory(study=study, issue=IssueFactory(repository=issue.repository)).issue
    outside = IssueFactory(repository=issue.repository)
    issue.body = f"Same as #{sibling.number}, unlike #{outside.number}."
    issue.save()
    client.force_login(mine.annotator)

    html = client.get(page_url(study, issue)).text

    assert f'href="{page_url(study, sibling)}"' in html
    repository = issue.repository
    assert f'href="https://github.com/{repository.owner}/{repository.name}/issues/{outside.number}"' in html


def test_a_huge_body_shows_its_beginning_and_the_rest_on_demand(client, setup):
    study, issue, mine, _ = setup
    issue.body = "Log:\n\n```\n" + "".join(f"step {n}: loss=nan\n" for n in range(20_000)) + "```\nTHE-END"
    issue.save()
    client.force_login(mine.annotator)

    short = client.get(page_url(study, issue)).text
    full = client.get(page_url(study, issue) + "?full=1").text

    assert "step 10: loss=nan" in short and "THE-END" not in short
    assert "the first 97.7\xa0KB of" in short and "Show all of it" in short
    assert "THE-END" in full and "step 19999: loss=nan" in full and "Show all of it" not in full


def test_a_save_from_a_stale_tab_is_refused_with_the_newer_value_then_overwrites_knowingly(client, setup):
    study, issue, mine, _ = setup
    client.force_login(mine.annotator)
    page = client.get(page_url(study, issue)).text
    assert 'id="version-impact" value="0"' in page

    other_tab = save(client, study, issue, "impact", value="3", version="0")
    stale_tab = save(client, study, issue, "impact", value="1", version="0")
    knowingly = save(client, study, issue, "impact", value="1", version="1")

    assert other_tab.status_code == 200 and 'id="version-impact" value="1" hx-swap-oob="true"' in other_tab.text
    assert stale_tab.status_code == 409 and "Changed meanwhile (another tab?) to “3”" in stale_tab.text
    assert 'id="version-impact" value="1" hx-swap-oob="true"' in stale_tab.text  # the next send overwrites
    assert knowingly.status_code == 200
    assert Annotation.objects.get(field__key="impact").value == 1
    assert Annotation.objects.get(field__key="impact").version == 2
