"""No input answers 500: every URL of the project, with hostile values in its path, its query and its forms.

The values are what an attacker against the production server sent (issue 14): NUL, which PostgreSQL cannot
store in text; a 10,000-character string; percent-encoded bytes that are not UTF-8; -1, abc and the empty string
where numbers, dates and versions go. Every request, as an admin and as the study's owner, must answer below 500.
"""

from html.parser import HTMLParser
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import resolve

from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import IssueStage, Stage
from tests.factories import (
    AdminFactory,
    AssignmentFactory,
    ImportRunFactory,
    IssueCommentFactory,
    MembershipFactory,
    StudyFactory,
    StudyIssueFactory,
    UserFactory,
)
from tests.helpers import concrete_urls, page

pytestmark = pytest.mark.django_db

# Percent-encoded as they go into a URL or a form body; "%FF%FE" is not UTF-8.
HOSTILE = {
    "NUL": quote("a\x00b"),
    "long": "x" * 10_000,
    "not UTF-8": "%FF%FE",
    "-1": "-1",
    "abc": "abc",
    "empty": "",
}
# Every query parameter a page reads (studies/views/, issues/views.py, agreement/views.py).
QUERY_PARAMETERS = [
    "q",
    "status",
    "annotator",
    "label",
    "field",
    "value",
    "uncertain",
    "sort",
    "page",
    "only",
    "format",
    "layout",
    "profile",
    "with_annotators",
    "excel",
    "full",
    "stage",
    "since",
    "until",
    "repository",
    "labels",
    "state",
    "include_prs",
]


@pytest.fixture
def world():
    """One study with every role in it, an issue being labelled, an import run, an admin."""
    study = StudyFactory()
    codebook_load(study, preset("silent-bugs"), screening=False)
    study_issue = StudyIssueFactory(study=study)
    IssueCommentFactory(issue=study_issue.issue)
    people = {"outsider": UserFactory(), "admin": AdminFactory()}
    for role in ("annotator", "adjudicator", "owner"):
        people[role] = MembershipFactory(study=study, role=role).user
    assignment = AssignmentFactory(
        study=study, issue=study_issue.issue, annotator=people["annotator"], stage=Stage.LABELLING
    )
    annotation_save(assignment=assignment, field=study.fields.get(key="impact"), value="3")
    return {"study": study, "study_issue": study_issue, "people": people, "run": ImportRunFactory()}


class Forms(HTMLParser):
    """A page's POST forms as a browser would send them untouched: {action: {name: value}}."""

    def __init__(self, html: str, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._text: tuple[dict, str] | None = None
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        name = attrs.get("name")
        if tag == "form":
            post = attrs.get("method", "").lower() == "post"
            self._form = self.forms.setdefault(attrs.get("action") or self.url, {}) if post else None
        elif self._form is None or not name:
            return
        elif tag == "input" and attrs.get("type") not in ("file", "submit", "checkbox", "radio"):
            self._form[name] = attrs.get("value", "")
        elif tag == "input" and "checked" in attrs:
            self._form[name] = attrs.get("value", "on")
        elif tag == "textarea":
            self._form[name] = ""
            self._text = (self._form, name)
        elif tag == "select":
            self._select = name
            self._form.setdefault(name, "")
        elif tag == "option" and self._select and ("selected" in attrs or not self._form[self._select]):
            self._form[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._text:
            form, name = self._text
            form[name] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._text = None
        elif tag == "select":
            self._select = None


def client_of(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    client.session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client


def status(client: Client, method: str, url: str, body: str = "") -> int:
    """One request in a transaction rolled back after it, logged in again first (a form may log out)."""
    client.cookies[settings.SESSION_COOKIE_NAME] = client.session_cookie
    with transaction.atomic():
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        transaction.set_rollback(True)
    return response.status_code


def test_no_query_parameter_value_answers_500(world):
    failures = []
    for role in ("admin", "owner"):
        client = client_of(world["people"][role])
        for key, url in concrete_urls(world).items():
            for what, value in HOSTILE.items():
                query = "&".join(f"{parameter}={value}" for parameter in QUERY_PARAMETERS)
                if (code := status(client, "get", f"{url}?{query}")) >= 500:
                    failures.append(f"{role} GET {key} every parameter={what}: {code}")
    assert not failures, "\n".join(failures)


def test_no_form_value_answers_500(world):
    """Each form of each page, as the page fills it in, with one of its fields (or the version) hostile; as each
    role, so that the annotation and reconciliation forms are there too."""
    failures = []
    reconciled = page(StudyIssueFactory(study=world["study"], stage=IssueStage.RECONCILIATION))
    for role in ("admin", "owner", "annotator", "adjudicator"):
        client = client_of(world["people"][role])
        forms: dict[str, tuple[str, dict[str, str]]] = {}
        for url in [*concrete_urls(world).values(), reconciled]:
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                for action, fields in Forms(response.content.decode(), url).forms.items():
                    forms.setdefault(resolve(action).url_name, (action, fields))  # one of each kind of form
        for url, fields in forms.values():
            for name in {*fields, "version"}:
                for what, value in {**HOSTILE, "a version never seen": "12345"}.items():
                    body = urlencode({**fields, name: ""}).replace(f"{quote_plus(name)}=", f"{name}={value}", 1)
                    if (code := status(client, "post", url, body)) >= 500:
                        failures.append(f"{role} POST {url} {name}={what}: {code}")
    assert not failures, "\n".join(failures)


def test_no_path_segment_answers_500(world):
    failures = []
    client = client_of(world["people"]["admin"])
    for key, url in concrete_urls(world).items():
        segments = url.split("/")
        for index, segment in enumerate(segments):
            if not segment:
                continue
            for what in ("NUL", "long", "not UTF-8", "-1"):
                hostile = "/".join([*segments[:index], HOSTILE[what], *segments[index + 1 :]])
                for method in ("get", "post"):
                    if (code := status(client, method, hostile)) >= 500:
                        failures.append(f"{method.upper()} {key} path segment {index}={what}: {code}")
    assert not failures, "\n".join(failures)
