"""Bodies and comments rendered once and stored: shared by every server process, never stale."""

import hashlib
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from issues import markdown, rendering
from issues.markdown import render_markdown
from issues.models import Issue, IssueComment
from issues.rendering import BODY_SHOWN, render_stale_bodies, render_study_issues, stored_html
from tests.factories import (
    AssignmentFactory,
    IssueCommentFactory,
    IssueFactory,
    MembershipFactory,
    StudyIssueFactory,
)

pytestmark = pytest.mark.django_db


def counting_renders():
    return mock.patch.object(markdown, "render_markdown", wraps=render_markdown)


def test_a_body_and_its_comments_are_rendered_once_and_stored_on_their_rows():
    issue = IssueFactory(body="Calling `fit` **twice**")
    comment = IssueCommentFactory(issue=issue, body="| a | b |\n|---|---|\n| 1 | 2 |")

    with counting_renders() as renders:
        body_html, (comment_html,) = stored_html(issue, [comment])
        # Another server process: fresh objects from the database.
        again = stored_html(Issue.objects.get(pk=issue.pk), [IssueComment.objects.get(pk=comment.pk)])

    assert renders.call_count == 2
    assert body_html == "<p>Calling <code>fit</code> <strong>twice</strong></p>"
    assert "<table>" in comment_html and again == (body_html, [comment_html])
    assert Issue.objects.get(pk=issue.pk).body_html == body_html


def test_an_edited_body_is_rendered_anew():
    issue = IssueFactory(body="first version")
    stored_html(issue, [])
    Issue.objects.filter(pk=issue.pk).update(body="second **version**")

    body_html, _ = stored_html(Issue.objects.get(pk=issue.pk), [])

    assert body_html == "<p>second <strong>version</strong></p>"


def test_a_new_renderer_version_renders_anew():
    issue = IssueFactory(body="text")
    stored_html(issue, [])
    with mock.patch("issues.markdown.VERSIONS", ["a new version"]), counting_renders() as renders:
        stored_html(Issue.objects.get(pk=issue.pk), [])
    assert renders.call_count == 1


def test_only_the_beginning_of_a_huge_body_is_stored():
    issue = IssueFactory(body="".join(f"line {n}\n" for n in range(30_000)) + "THE-END")

    body_html, _ = stored_html(issue, [])

    assert len(issue.body) > BODY_SHOWN and "line 10" in body_html and "THE-END" not in body_html


def test_the_background_task_renders_the_issues_of_studies_ahead(study):
    in_study = StudyIssueFactory(study=study, issue=IssueFactory(body="*in a study*")).issue
    IssueCommentFactory(issue=in_study, body="a comment")
    outside = IssueFactory(body="*not in any study*")

    assert render_study_issues.call() == 2
    assert render_study_issues.call() == 0  # nothing is stale any more

    assert Issue.objects.get(pk=in_study.pk).body_html == "<p><em>in a study</em></p>"
    assert IssueComment.objects.get(issue=in_study).body_html == "<p>a comment</p>"
    assert Issue.objects.get(pk=outside.pk).body_html == ""


def test_many_issues_are_rendered_by_a_pool_of_processes_as_by_this_one(monkeypatch):
    issues = [IssueFactory(body=f"Issue **{n}**, see #{n + 1}") for n in range(7)]
    comments = [IssueCommentFactory(issue=issue, body=f"| a |\n|---|\n| {issue.pk} |") for issue in issues[:3]]
    monkeypatch.setattr(rendering, "BATCH", 2)  # four batches: in the pool
    progress = []

    assert render_stale_bodies([issue.pk for issue in issues], on_progress=progress.append) == 10

    assert progress == [2, 2, 2, 1]
    for issue in issues:
        stored = Issue.objects.get(pk=issue.pk)
        expected = render_markdown(issue.body, repository=issue.repository.full_name)
        assert stored.body_html == expected and "<strong>" in expected
    for comment in comments:
        assert "<table>" in IssueComment.objects.get(pk=comment.pk).body_html
    assert render_stale_bodies([issue.pk for issue in issues]) == 0


def test_the_command_renders_every_issue_with_all(capsys):
    issues = IssueFactory.create_batch(3)

    call_command("render_issues", "--all")

    assert "3 bodies and comments rendered for 3 issues." in capsys.readouterr().out
    assert all(Issue.objects.get(pk=issue.pk).body_html.startswith("<p>") for issue in issues)
    assert render_stale_bodies([issue.pk for issue in issues]) == 0


def test_the_annotation_page_shows_stored_html_without_rendering_again(client, study):
    issue = StudyIssueFactory(study=study, issue=IssueFactory(body="Same as #1")).issue
    annotator = MembershipFactory(study=study).user
    AssignmentFactory(study=study, issue=issue, annotator=annotator)
    render_study_issues.call()
    client.force_login(annotator)
    url = reverse("studies:annotate", args=[study.slug, issue.repository.owner, issue.repository.name, issue.number])

    with counting_renders() as renders:
        response = client.get(url)

    assert renders.call_count == 0
    assert f'href="https://github.com/{issue.repository.full_name}/issues/1"' in response.text


def test_html_stored_by_the_first_renderer_is_rendered_again_without_the_image_glyph():
    """Renderer 1 wrote images as "🖼 image: …"; the glyph is missing from many fonts (static/img/image.svg now)."""
    issue = IssueFactory(body="![chart](https://example.com/chart.png)")
    old_key = hashlib.sha256()
    for part in ["1", *markdown.VERSIONS[1:], issue.repository.full_name]:
        old_key.update(part.encode() + b"\0")
    old_key.update(issue.body.encode())
    Issue.objects.filter(pk=issue.pk).update(
        body_html='<p><a class="md-image" href="https://example.com/chart.png">🖼 image: chart (click to open)</a></p>',
        body_html_key=old_key.hexdigest(),
    )

    body_html, _ = stored_html(Issue.objects.get(pk=issue.pk), [])

    assert "🖼" not in body_html and ">image: chart (click to open)</a>" in body_html
    assert "🖼" not in Issue.objects.get(pk=issue.pk).body_html
