"""Template comments: Django's `{# … #}` ends at the end of its line; one that spans lines is shown to the user
as text. Multi-line comments are `{% comment %}` blocks."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import AdminFactory, ImportRunFactory, IssueCommentFactory, StudyIssueFactory
from tests.helpers import ROOT, app_pages, with_annotation_work

ONE_LINE_COMMENT = re.compile(r"\{#.*?#\}")
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))  # every template lives there (README, Layout)


def test_there_are_templates_to_check():
    assert ROOT / "templates/base.html" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_comment_spans_lines(template: Path):
    for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), start=1):
        rest = ONE_LINE_COMMENT.sub("", line)
        assert "{#" not in rest and "#}" not in rest, f"{template.name}:{number}: use {{% comment %}} across lines"


@pytest.mark.django_db
def test_no_page_shows_comment_markers(client: Client):
    study_issue = StudyIssueFactory()
    IssueCommentFactory(issue=study_issue.issue)
    admin_user = AdminFactory()
    with_annotation_work(study_issue.study, admin_user)
    login = client.get("/accounts/login/")
    assert "{#" not in login.text and "#}" not in login.text
    client.force_login(admin_user)

    for url in app_pages(study_issue.study, ImportRunFactory()):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "{#" not in response.text and "#}" not in response.text, url
