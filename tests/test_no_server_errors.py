"""No input answers 500: every URL of the project, with hostile values in its path, its query and its forms.

The values are what an attacker against the production server sent (issue 14): NUL, which PostgreSQL cannot
store in text; a 10,000-character string; percent-encoded bytes that are not UTF-8; -1, abc and the empty string
where numbers, dates and versions go; a version no answer has. Every request must answer below 500: the query
parameters as an admin and as the study's owner, the forms as whoever sees them (owner, admin, annotator,
adjudicator), the path segments as an admin (who reaches every URL). What it found is proven one by one below.
"""

import io
from html.parser import HTMLParser
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse

from issues.models import ImportRun
from studies.models import Annotation, FinalValue, IssueStage
from tests.factories import (
    StudyIssueFactory,
)
from tests.helpers import concrete_urls, page, study_world

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
# In forms, -1 goes where abc goes; a version no form has shown instead (12345: no answer has it).
FORM_VALUES = {**{what: value for what, value in HOSTILE.items() if what != "-1"}, "a version never seen": "12345"}
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
    return study_world()


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
        elif tag == "option" and self._form is not None and self._select:
            if "selected" in attrs or not self._form[self._select]:
                self._form[self._select] = attrs.get("value", "")
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
    reconciled = page(StudyIssueFactory(study=world["study"], stage=IssueStage.RECONCILIATION))
    forms: dict[str, tuple[str, str, dict[str, str]]] = {}  # one of each kind of form, by its URL's name
    clients = {role: client_of(world["people"][role]) for role in ("owner", "admin", "annotator", "adjudicator")}
    for role, client in clients.items():
        for url in [*concrete_urls(world).values(), reconciled]:
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                for action, fields in Forms(response.content.decode(), url).forms.items():
                    forms.setdefault(resolve(action).url_name, (role, action, fields))
    failures = []
    for role, url, fields in forms.values():
        for name in {*fields, "version"} - {"csrfmiddlewaretoken"}:
            for what, value in FORM_VALUES.items():
                others = {other: given for other, given in fields.items() if other != name}
                body = "&".join(part for part in (urlencode(others), f"{quote_plus(name)}={value}") if part)
                if (code := status(clients[role], "post", url, body)) >= 500:
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


# --- Each hostile input of issue 14, refused with its reason and nothing stored ---


def test_it_answers_400_naming_the_filter_for_nul_in_a_search(world):
    client = client_of(world["people"]["owner"])

    response = client.get(reverse("studies:issues", args=[world["study"].slug]) + "?q=crash%00")

    assert response.status_code == 400
    assert "The query parameter &#x27;q&#x27; contains a NUL character" in response.content.decode()


def test_it_answers_400_for_nul_in_the_address(world):
    client = client_of(world["people"]["owner"])
    url = page(world["study_issue"], "studies:issue_history")
    owner = world["study_issue"].issue.repository.owner

    response = client.get(url.replace(f"/{owner}/", f"/{owner}%00/"))

    assert response.status_code == 400
    assert "The address contains a NUL character" in response.content.decode()


def test_it_answers_400_for_an_empty_or_malformed_version(world):
    client = client_of(world["people"]["annotator"])
    url = page(world["study_issue"], "studies:save_field", "impact")

    for version in ("", "abc", "-1"):
        response = client.post(url, {"value": "2", "version": version})

        assert response.status_code == 400, version
        assert "is not a whole number" in response.content.decode()
    assert Annotation.objects.get(field__key="impact").value == 3


def test_it_answers_409_for_a_version_of_an_answer_that_does_not_exist(world):
    client = client_of(world["people"]["annotator"])

    response = client.post(
        page(world["study_issue"], "studies:save_field", "scenario"), {"value": "Wrong shape", "version": "7"}
    )

    assert response.status_code == 409
    assert "What you saw was removed meanwhile" in response.content.decode()
    assert not Annotation.objects.filter(field__key="scenario").exists()


def test_it_answers_409_for_a_final_value_version_that_does_not_exist(world):
    study_issue = StudyIssueFactory(study=world["study"], stage=IssueStage.RECONCILIATION)
    client = client_of(world["people"]["adjudicator"])

    response = client.post(
        page(study_issue, "studies:final_value", "impact"), {"value": "3", "rationale": "GPU only", "version": "4"}
    )

    assert response.status_code == 409
    assert "What you saw was removed meanwhile" in response.content.decode()
    assert not FinalValue.objects.exists()


@pytest.mark.parametrize("depth", [50, 100_000])
def test_it_refuses_a_codebook_file_nested_too_deep_and_loads_nothing(world, depth):
    study = world["study"]
    before = list(study.fields.values_list("key", "label"))
    nested = '{"format": "annotator-codebook", "fields": [' + "[" * depth + "]" * depth + "]}"
    upload = SimpleUploadedFile("deep.json", nested.encode(), content_type="application/json")

    response = client_of(world["people"]["owner"]).post(
        reverse("studies:codebook_load", args=[study.slug]), {"codebook": upload}
    )

    assert response.status_code == 422
    assert "nested more than 10 levels deep" in response.content.decode()
    assert list(study.fields.values_list("key", "label")) == before


def test_it_refuses_an_upload_whose_file_name_is_too_long_and_imports_nothing(world, tmp_path, settings):
    settings.IMPORT_UPLOAD_DIR = tmp_path
    name = "issues-" + "x" * 288 + ".json"  # 300 characters: more than a file system takes
    upload = io.BytesIO(b"[]")  # not an UploadedFile, which would cut the name to 255 characters
    upload.name = name
    runs = ImportRun.objects.count()
    client = client_of(world["people"]["admin"])
    url = reverse("issues:import_list")
    defaults = Forms(client.get(url).content.decode(), url).forms[url]  # the form as the page fills it in

    response = client.post(url, {**defaults, "files": upload})

    assert response.status_code == 422
    import re

    print(re.findall(r"<ul[^>]*error[^>]*>.*?</ul>", response.content.decode(), re.S), defaults)
    assert "is too long (300 characters); rename the file" in response.content.decode()
    assert ImportRun.objects.count() == runs
