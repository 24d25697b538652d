"""What the tests share, in one module: tests import from here, never from each other.

Factories are in tests/factories.py, fixtures in conftest.py; the hostile corpus (hostile.py) and the fake
GitHub server (fake_github.py) are data of their own.
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from agreement.rounds import round_start
from annotator.bidi import FSI, PDI
from bench.generate_dump import main as generate_dump
from issues.importers.run import ImportOptions, ImportService
from issues.importers.selection import Selection
from issues.models import ImportRun
from llm.models import Endpoint, ModelRater, ModelRun
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Annotation, IssueStage, Stage
from surveys.services import codebook_version_for_survey, survey_create
from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    AssignmentFactory,
    ImportRunFactory,
    IssueCommentFactory,
    MembershipFactory,
    StudyFactory,
    StudyIssueFactory,
    UserFactory,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
# What the suite needs is in tests/data/. Tests marked `shared` cross-check against the project's reference
# material in ../shared when it sits beside the checkout; a plain clone has none, and they skip (conftest.py).
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"


# --- Waiting: for a condition, never for a fixed time ---


def wait_until(condition, *, timeout: float = 120, what: str, every: float = 0.05):
    """Call `condition` every `every` seconds until it returns something true, and return that.

    The deadline is generous on purpose: a test waits for what takes a second or two, and only a broken one
    ever waits that long, so a loaded machine costs no false failure. Past it, fail saying what never happened.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)


# --- Studies: a team, labelling an issue, the URLs of an issue ---

# Impact levels given by annotators ann, bob and cyd to five issues (None: no rating): conftest's study_with_ratings.
IMPACT = [(2, 3, 3), (1, 1, None), (4, 4, 4), (2, 1, 2), (3, 3, 3)]


def team(study, annotators=3):
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    owner = MembershipFactory(study=study, role="owner").user
    return adjudicator, owner, [MembershipFactory(study=study, role="annotator").user for _ in range(annotators)]


def label(assignment, *, impact: str, submit: bool = True, uncertain: bool = False) -> None:
    fields = {field.key: field for field in assignment.study.fields.all()}
    annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
    annotation_save(assignment=assignment, field=fields["component"], value=["Model", "Engine"])
    annotation_save(
        assignment=assignment,
        field=fields["impact"],
        value=impact,
        uncertain=uncertain,
        note="only on GPU" if uncertain else "",
    )
    if submit:
        assignment_submit(assignment=assignment)


def page(study_issue, name="studies:reconcile", *extra):
    repository = study_issue.issue.repository
    args = [study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number, *extra]
    return reverse(name, args=args)


def with_annotation_work(study, annotator):
    """The silent-bugs codebook; the first issue is assigned to the annotator; a second one is in reconciliation."""
    codebook_load(study, preset("silent-bugs"))
    AssignmentFactory(study=study, issue=study.issues.first(), annotator=annotator, stage=Stage.LABELLING)
    StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)


# --- The project's URLs: every pattern, and a real URL for each ---


def all_patterns(resolver=None, prefix="", namespace=""):
    """(route, key) of every URL pattern, includes followed; the key is the name, or the route if it has none."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from all_patterns(entry, prefix + str(entry.pattern), inner)
        else:
            route = prefix + str(entry.pattern)
            yield route, f"{namespace}{entry.name}" if entry.name else route


def study_world() -> dict:
    """One study with every role in it (two annotators labelling its issue, "annotator" and "other"), an admin,
    an outsider and an import run: the objects `concrete_urls` fills every URL pattern with."""
    study = StudyFactory()
    codebook_load(study, preset("silent-bugs"), screening=False)
    study_issue = StudyIssueFactory(study=study)
    IssueCommentFactory(issue=study_issue.issue)
    people = {"outsider": UserFactory(), "admin": AdminFactory()}
    for role in ("annotator", "other", "adjudicator", "owner"):
        people[role] = MembershipFactory(study=study, role="annotator" if role == "other" else role).user
    for role in ("annotator", "other"):
        assignment = AssignmentFactory(
            study=study, issue=study_issue.issue, annotator=people[role], stage=Stage.LABELLING
        )
    annotation_save(assignment=assignment, field=study.fields.get(key="impact"), value="3")
    usernames = [people["annotator"].username, people["other"].username]
    round_start(study=study, user=people["owner"], size=1, seed=0, annotators=usernames, fields=["impact"])
    model_rater(study, "qwen")
    survey = survey_of(study, consent="I agree that my answers are used in the study.")
    return {"study": study, "study_issue": study_issue, "people": people, "run": ImportRunFactory(), "survey": survey}


def survey_of(study, *, fields=None, background=(), **overrides):
    """A survey of the study's silent-bugs codebook, built as an owner would: by default, for each scenario "have
    you met it?" and "how severe?" (on the impact levels), and for each impact level "do you agree?"."""
    version = codebook_version_for_survey(study)
    codebook = {item["key"]: item for item in version.snapshot["fields"]}
    fields = fields or {"scenario": ["met", "severity", "comment"], "impact": ["agree"]}
    spec = {
        "title": "Silent bugs in deep-learning frameworks",
        "intro": "",
        "consent": "",
        "severity_source": "impact",
        "opens_at": None,
        "closes_at": None,
        "response_limit": None,
        "fields": {
            key: {"choices": [choice["value"] for choice in codebook[key].get("choices", [])], "questions": questions}
            for key, questions in fields.items()
        },
        "background": [
            {"key": key, "label": label, "choices": list(choices), "multiple": False}
            for key, label, choices in background
        ],
    } | overrides
    return survey_create(study=study, user=None, version=version, spec=spec)


def model_rater(study, name: str, *, base_url: str = "http://127.0.0.1:9/v1", fields=("impact",)):
    """A model rater of the study's issues on `fields`, with a run not started: its endpoint goes nowhere unless
    given a fake server's `base_url` (tests/fake_model_server.py)."""
    endpoint, _ = Endpoint.objects.get_or_create(
        name="local", defaults={"base_url": base_url, "model": "qwen-7b", "request_budget": 1000}
    )
    rater = ModelRater.objects.create(study=study, endpoint=endpoint, name=name, samples=3)
    rater.fields.set(study.fields.filter(key__in=fields))
    rater.issues.set(study.study_issues.all())
    ModelRun.objects.create(rater=rater)
    return rater


def concrete_urls(world) -> dict[str, str]:
    """A real URL for every URL pattern outside the admin site (the rows of tests/test_access_matrix.py), on
    the objects of `world`: {"study", "study_issue", "run"}; a survey of the study is built if it has none."""
    study, issue = world["study"], world["study_issue"].issue
    survey = study.surveys.first() or survey_of(study)
    repository = issue.repository
    on_issue = [study.slug, repository.owner, repository.name, issue.number]
    impact = study.fields.get(key="impact")
    member = study.memberships.filter(role="annotator").first()
    person = (
        get_user_model().objects.filter(memberships__isnull=True, is_staff=False).order_by("pk").first() or member.user
    )
    profile = study.export_profiles.first()
    arguments = {
        "password_set": ["MQ", "no-such-token"],  # a link that does not work: the page says so
        **{f"studies:{name}": [person.pk] for name in ("person", "person_active", "person_password")},
        "studies:member_remove": [study.slug, member.pk],
        "studies:field_edit": [study.slug, "impact"],
        "studies:field_remove": [study.slug, "impact"],
        "studies:choice_new": [study.slug, "impact"],
        "studies:choice_edit": [study.slug, "impact", impact.choices.first().pk],
        "studies:choice_remove": [study.slug, "impact", impact.choices.first().pk],
        "studies:save_field": [*on_issue, "impact"],
        "studies:final_value": [*on_issue, "impact"],
        **dict.fromkeys(("agreement:primary", "llm:gate", "llm:queue"), [study.slug, "impact"]),
        "studies:codebook_version": [study.slug, 1],
        **dict.fromkeys(("agreement:round", "agreement:round_close"), [study.slug, 1]),
        **dict.fromkeys(
            ("studies:recheck_keep", "studies:recheck_change"),
            # an answer of the study, or (none yet) an id nothing has
            [study.slug, Annotation.objects.filter(assignment__study=study).values_list("pk", flat=True).first() or 0],
        ),
        **dict.fromkeys(("studies:profile_edit", "studies:profile_delete"), [study.slug, profile.pk]),
        **dict.fromkeys(("llm:rater", "llm:run_start"), [study.slug, "qwen"]),
        **dict.fromkeys(
            ("llm:run_progress", "llm:run_pause", "llm:run_resume", "llm:run_log"),
            # the study's model run, or (none) an id nothing has
            [
                study.slug,
                "qwen",
                ModelRun.objects.filter(rater__study=study).values_list("pk", flat=True).first() or 0,
            ],
        ),
        "llm:endpoint_edit": [Endpoint.objects.values_list("pk", flat=True).first() or 0],
        **dict.fromkeys(
            (
                "surveys:detail",
                "surveys:schedule",
                "surveys:close",
                "surveys:reopen",
                "surveys:responses_csv",
                "surveys:results",
            ),
            [study.slug, survey.pk],
        ),
        "surveys:respond": [survey.token],
        "surveys:section": [survey.token, 1],
        "surveys:submit": [survey.token],
        **{
            f"issues:{name}": [world["run"].pk]
            for name in ("import_detail", "import_progress", "import_errors", "fetch_comments")
        },
    }
    urls = {}
    for route, key in all_patterns():
        if route.startswith("admin/"):
            continue
        if key == route:
            urls[key] = "/" + route
        elif key in arguments:
            urls[key] = reverse(key, args=arguments[key])
        elif "<int:number>" in route:
            urls[key] = reverse(key, args=on_issue)
        elif "<slug:slug>" in route:
            urls[key] = reverse(key, args=[study.slug])
        else:
            urls[key] = reverse(key)
    return urls


def app_pages(study, import_run) -> list[str]:
    """Every page of the app an admin can open, the Django admin included (a study `with_annotation_work`; a survey
    of it is built if it has none), and a survey's public start page."""
    survey = study.surveys.first() or survey_of(study, consent="I agree.")
    issue = study.issues.select_related("repository").first()
    on_issue = [study.slug, issue.repository.owner, issue.repository.name, issue.number]
    reconciled = study.study_issues.filter(stage=IssueStage.RECONCILIATION).select_related("issue__repository").get()
    repository = reconciled.issue.repository
    pages = [
        reverse("studies:list"),
        reverse("studies:detail", args=[study.slug]),
        reverse("studies:annotate", args=on_issue),
        reverse("studies:issue_history", args=on_issue),
        reverse("studies:issue_assignments", args=on_issue),
        reverse("studies:reconcile", args=[study.slug, repository.owner, repository.name, reconciled.issue.number]),
        reverse("studies:activity", args=[study.slug]),
        reverse("studies:effort", args=[study.slug]),
        reverse("agreement:rounds", args=[study.slug]),
        reverse("agreement:report", args=[study.slug]),
        reverse("agreement:gold", args=[study.slug]),
        reverse("studies:gold", args=[study.slug]),
        reverse("studies:gold_item", args=on_issue),
        reverse("agreement:methods", args=[study.slug]),
        reverse("studies:notifications"),
        reverse("studies:issues", args=[study.slug]),
        reverse("studies:add_issues", args=[study.slug]),
        reverse("studies:codebook", args=[study.slug]),
        reverse("surveys:list", args=[study.slug]),
        reverse("surveys:new", args=[study.slug]),
        reverse("surveys:detail", args=[study.slug, survey.pk]),
        reverse("surveys:results", args=[study.slug, survey.pk]),
        reverse("surveys:respond", args=[survey.token]),
        reverse("studies:manage", args=[study.slug]),
        reverse("studies:create"),
        reverse("studies:people"),
        reverse("studies:person_create"),
        reverse("studies:person", args=[get_user_model().objects.order_by("pk").first().pk]),
        reverse("issues:import_list"),
        reverse("issues:import_detail", args=[import_run.pk]),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("admin:index"),
    ]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if meta.app_label in {"issues", "studies", "auth"}:  # task results are read-only
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return pages


# --- Dumps and imports: files written the way mining scripts do, imported as the command and the upload do ---

# Issue objects of the fictional deepflow/deepflow, one per file as the REST API returns them, and the
# comments of the first one in a file of their own (tests/data/README.md).
SAMPLES = sorted((DATA / "github-issues/deepflow").glob("issue_*.json"))


def sample(index: int = 0) -> dict:
    return json.loads(SAMPLES[index].read_text(encoding="utf-8"))


def rest_issue(number: int, *, repo: str = "octo/widgets", **fields) -> dict:
    """A REST issue object with the keys importers rely on (and a few they do not)."""
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{repo}",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "id": 9000 + number,
        "number": number,
        "title": f"Issue {number}",
        "user": {"login": "reporter", "id": 1},
        "labels": [{"name": "type:bug", "color": "d73a4a"}],
        "state": "open",
        "comments": 0,
        "created_at": "2024-03-01T10:00:00Z",
        "updated_at": "2024-03-02T10:00:00Z",
        "closed_at": None,
        "body": f"Body of {number}",
        "reactions": {"total_count": 0},
        **fields,
    }


def rest_comment(comment_id: int, number: int, *, repo: str = "octo/widgets", **fields) -> dict:
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
        "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "id": comment_id,
        "user": {"login": "helper"},
        "created_at": "2024-03-03T10:00:00Z",
        "updated_at": "2024-03-03T10:00:00Z",
        "body": f"Comment {comment_id}",
        **fields,
    }


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path


def write_jsonl(path: Path, objects, *, compress: bool = False) -> Path:
    text = "".join(json.dumps(obj) + "\n" for obj in objects)
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_dump(path: Path, issues: int, *, seed: int) -> Path:
    """A JSON Lines dump of synthetic issues (about two comments each), as `bench.generate_dump` writes it."""
    with redirect_stdout(io.StringIO()):
        generate_dump([str(issues), "-o", str(path), "--comments", "2", "--seed", str(seed)])
    return path


def import_paths(*paths: Path, study=None, **options) -> ImportRun:
    """Import as the command and the web upload do; selection options go to the Selection."""
    selection_names = set(Selection.__dataclass_fields__) - {"_folded"}
    selection = Selection(**{name: value for name, value in options.items() if name in selection_names})
    other = {name: value for name, value in options.items() if name not in selection_names}
    run = ImportRun.objects.create(source=ImportRun.Source.COMMAND)
    return ImportService(run, ImportOptions(selection=selection, study=study, **other)).import_files(list(paths))


def problems(run: ImportRun) -> list[str]:
    return [f"{problem.source}, {problem.location}: {problem.reason}" for problem in run.problems.all()]


def upload(client: Client, *paths: Path, htmx: bool = False, **fields):
    """Post the files to the Imports page's form, as an admin's browser does."""
    handles = [path.open("rb") for path in paths]
    try:
        data = {"files": handles, "state": "all", **fields}
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(reverse("issues:import_list"), data, headers=headers)
    finally:
        for handle in handles:
            handle.close()


# --- Real processes: commands, the task worker, the embedded PostgreSQL, on a database of our choosing ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocess() -> str:
    """For a subprocess to work on the test database."""
    settings = connection.settings_dict
    host = settings["HOST"] or settings["OPTIONS"].get("host", "")
    port = settings["PORT"] or settings["OPTIONS"].get("port", 5432)
    return f"postgresql://{settings['USER']}:{settings['PASSWORD'] or ''}@/{settings['NAME']}?host={host}&port={port}"


def environment(database_url: str | None = None, **more: str) -> dict[str, str]:
    """The environment of a subprocess working on the test database (or on `database_url`)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url or database_url_for_subprocess(),
        "PYTHONUNBUFFERED": "1",
        **more,
    }


def manage(*args: str, env: dict[str, str], **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, **popen)


def run_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A deadline against a hung command, not a speed limit: migrating a fresh database on a loaded machine is slow.
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def stop(process: subprocess.Popen, *, timeout: float = 60) -> None:
    """Stop as a supervisor would (SIGTERM), and kill what does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Output:
    """What a process writes to its stdout pipe, read as it comes: waiting for a line can time out even when the
    process goes silent, which a blocking readline() cannot. No thread reads the pipe, so closing it never waits."""

    def __init__(self, process: subprocess.Popen):
        self._fd = process.stdout.fileno()
        self._data = b""
        self.ended = False

    def _read_some(self) -> None:
        if not self.ended and select.select([self._fd], [], [], 0.05)[0]:
            chunk = os.read(self._fd, 65536)
            self._data += chunk
            self.ended = not chunk

    @property
    def text(self) -> str:
        return self._data.decode(errors="replace")

    def wait_for(self, marker: str, *, timeout: float = 120) -> str:
        """The output up to now, once it holds `marker`; fails if it ends or the deadline passes first."""

        def seen() -> bool:
            self._read_some()
            assert marker in self.text or not self.ended, f"the output ended without {marker!r}"
            return marker in self.text

        try:
            wait_until(seen, timeout=timeout, every=0, what=f"{marker!r} in the output")
        except AssertionError as error:
            raise AssertionError(f"{error}; the output was:\n{self.text}") from None
        return self.text

    def rest(self, *, timeout: float = 60) -> str:
        """All of it, once the pipe is closed: the process and every child that shared the pipe have ended."""
        wait_until(lambda: self._read_some() or self.ended, timeout=timeout, every=0, what="the end of the output")
        return self.text


def postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped postmaster can linger as a zombie in a container without init.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def at_once(calls) -> list:
    """Run the calls in threads of their own, released together; their results, in order."""
    start = threading.Barrier(len(calls), timeout=120)  # a deadline for the threads to start, not a speed limit

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class Gunicorn:
    """The web app served by gunicorn as `serve` runs it, in separate worker processes."""

    def __init__(self, tmp_path: Path, env: dict[str, str], workers: int = 2):
        static_root = tmp_path / "static"
        env = {**env, "STATIC_ROOT": str(static_root)}
        # Pages link their stylesheet through the manifest that collectstatic writes.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (tmp_path / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "annotator.wsgi",
                "--bind",
                self.url.removeprefix("http://"),
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "--no-control-socket",  # as serve: tests run side by side
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, timeout=120, every=0.1, what="gunicorn answering")

    def _answers(self) -> bool:
        assert self.process.poll() is None, "gunicorn stopped"
        try:
            with urllib.request.urlopen(self.url + "/accounts/login/", timeout=10):
                return True
        except OSError:
            return False

    def close(self) -> None:
        stop(self.process)
        self.log.close()


# --- Pages: reading a page's forms as the person in front of it does, what each input holds and its errors ---


def as_read(html: str) -> str:
    """A page's text as a reader reads it: entities decoded, without the invisible marks that isolate each quoted
    name (annotator/bidi.py; tests/test_bidi.py checks those)."""
    return unescape(html).replace(FSI, "").replace(PDI, "")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class FormPage(HTMLParser):
    """The elements of a page that have an id: their attributes, text, list items and (for a select) options."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: dict[str, dict] = {}
        self._open: list[tuple[str, dict | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = None
        if "id" in attrs:
            element = self.elements[attrs["id"]] = {"tag": tag, "attrs": attrs, "text": "", "items": []}
        parent = next((open_element for _, open_element in reversed(self._open) if open_element), None)
        if tag == "li" and parent and parent["tag"] == "ul":
            parent["items"].append("")
        if tag == "option" and parent and parent["tag"] == "select" and "selected" in attrs:
            parent["selected"] = attrs.get("value")
        if tag not in VOID:
            self._open.append((tag, element))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element in self._open:
            if element:
                element["text"] += data
                if element["items"]:
                    element["items"][-1] += data

    def value(self, input_id: str) -> str | None:
        """What the input shows: its value, a textarea's text, the selected option of a select."""
        element = self.elements[input_id]
        if element["tag"] == "textarea":
            return element["text"].removeprefix("\n")
        if element["tag"] == "select":
            return element.get("selected")
        return element["attrs"].get("value")

    def checked(self, input_id: str) -> bool:
        return "checked" in self.elements[input_id]["attrs"]

    def errors_at(self, input_id: str) -> list[str]:
        """The errors shown at the input: the list it names in aria-describedby, after checking that it says it is
        invalid."""
        attrs = self.elements[input_id]["attrs"]
        assert attrs.get("aria-invalid") == "true", f"{input_id} is not marked invalid"
        assert f"{input_id}_error" in attrs.get("aria-describedby", "").split(), f"{input_id} names no errors"
        return [item.strip() for item in self.elements[f"{input_id}_error"]["items"]]


# --- Browsers: a user's session over HTTP against a real server, and Chromium through Playwright ---


class Browser:
    """One user's session against a real server, as a separate browser: its cookies; redirects not followed."""

    def __init__(self, base_url: str, user=None):
        self.base_url = base_url
        # A CSRF cookie of our own, sent back in the header as htmx does; the server may set another.
        self.cookies = {"csrftoken": secrets.token_hex(16)}
        if user is not None:  # logged in already, as after the login page
            client = Client()
            client.force_login(user)
            self.cookies["sessionid"] = client.cookies["sessionid"].value

    def log_in(self, username: str, password: str) -> None:
        response = self.post("/accounts/login/", {"username": username, "password": password})
        assert response.status == 302, f"could not log in as {username}: {response.status}"

    def get(self, path: str, **headers) -> Response:
        return self._send(urllib.request.Request(self.base_url + path, headers=headers))

    def post(self, path: str, data: dict, **headers) -> Response:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        headers = {"X-CSRFToken": self.cookies["csrftoken"], **headers}
        return self._send(urllib.request.Request(self.base_url + path, body, headers=headers))

    def _send(self, request: urllib.request.Request) -> Response:
        request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        started = time.monotonic()
        try:
            # As long as gunicorn lets a request run (--timeout 60): only a hung request ever gets there.
            response = _opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name] = value
            return Response(response.status, response.read().decode(), time.monotonic() - started, response.headers)


@dataclass
class Response:
    status: int
    body: str = field(repr=False)
    seconds: float
    headers: Message = field(repr=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)

# Injected before any page script (tests/e2e/conftest.py's page): records every CSP violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


def log_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


# --- The methods report: a study built the same way every time (tests/data/methods/ holds its expected report) ---

METHODS_CODEBOOK = {
    "format": "annotator-codebook",
    "version": 1,
    "name": "Fixed",
    "fields": [
        {
            "key": "cause",
            "label": "Root cause",
            "kind": "single",
            "required": True,
            "definition": "Where the fault lies.",
            "choices": [
                {"value": "api", "label": "API misuse"},
                {"value": "data", "label": "Data"},
                {"value": "config", "label": "Configuration"},
            ],
        },
        {
            "key": "impact",
            "label": "Impact",
            "kind": "ordinal",
            "definition": "How bad it is.",
            "choices": [
                {"value": "1", "label": "low"},
                {"value": "2", "label": "medium"},
                {"value": "3", "label": "high"},
            ],
        },
        {"key": "summary", "label": "Summary", "kind": "text"},
    ],
}
# Issue number: (ann's cause, ann's impact, ben's cause, ben's impact); they differ on 2 and 6 (cause), 4 (impact).
METHODS_VALUES = {
    1: ("api", "1", "api", "1"),
    2: ("api", "2", "data", "2"),
    3: ("data", "3", "data", "3"),
    4: ("config", "2", "config", "3"),
    5: ("api", "1", "api", "1"),
    6: ("data", "3", "api", "3"),
    7: ("api", "2", "api", "2"),
    8: ("config", "2", None, None),  # ben has not submitted: still in labelling
}
METHODS_RATIONALES = {
    (2, "cause"): "The call violates the documented contract.",
    (4, "impact"): "Wrong results | no crash: medium",
    (6, "cause"): "The traceback ends in the data loader.",
}


METHODS_PRIMARY = {  # declared before labelling, on a fixed day
    "cause": ("gwet_ac1", "0.700", "Gwet, 2014"),
    "impact": ("krippendorff_alpha", "0.800", "Krippendorff, 2004"),
}
METHODS_DECLARED_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def methods_study() -> dict:
    """Owner olga, adjudicator ada, annotators ann, ben and tia; eight issues of acme/widgets; a primary statistic
    per field declared before labelling; the codebook changes once, after issue 4; issues 1 to 6 decided, 7 in
    reconciliation, 8 in labelling; fixed active times. Issue 9 is gold (written), issue 1 too (promoted): ann
    trained on issue 9 and passed, tia on both and failed; ben was checked on issue 9."""
    from unittest import mock

    from agreement.primary import primary_declare
    from studies.gold import gold_item_promote, gold_item_save
    from studies.models import ActiveTime, FinalValue
    from studies.workflow import decide, final_value_save
    from tests.factories import IssueFactory, RepositoryFactory

    study = StudyFactory(
        name="Silent bugs, fixed",
        slug="fixed-methods",
        annotators_per_issue=2,
        training_required=True,
        training_threshold=0.8,
        gold_check_percent=10,
    )
    people = {}
    for username, role in (
        ("olga", "owner"),
        ("ada", "adjudicator"),
        ("ann", "annotator"),
        ("ben", "annotator"),
        ("tia", "annotator"),
    ):
        people[username] = MembershipFactory(study=study, user=UserFactory(username=username), role=role).user
    codebook_load(study, METHODS_CODEBOOK, user=people["olga"])
    with mock.patch("agreement.primary.timezone.now", return_value=METHODS_DECLARED_AT):
        for key, (statistic, threshold, source) in METHODS_PRIMARY.items():
            primary_declare(
                field=study.fields.get(key=key),
                statistic=statistic,
                threshold=Decimal(threshold),
                source=source,
                reason="",
                user=people["olga"],
                version=0,
            )
    repository = RepositoryFactory(owner="acme", name="widgets")
    study_issues = {}
    for number, values in METHODS_VALUES.items():
        if number == 5:
            sharper = json.loads(json.dumps(METHODS_CODEBOOK))
            sharper["fields"][1]["definition"] = "How bad it is for the user: wrong results are high."
            codebook_load(study, sharper, user=people["olga"], summary="Impact sharpened")
        issue = IssueFactory(repository=repository, number=number, title=f"Issue {number}")
        study_issues[number] = StudyIssueFactory(study=study, issue=issue)
        fields = {field.key: field for field in study.fields.all()}
        assignments = [
            AssignmentFactory(study=study, issue=issue, annotator=people[username], stage=Stage.LABELLING)
            for username in ("ann", "ben")
        ]
        for index, assignment in enumerate(assignments):
            cause, impact = values[2 * index], values[2 * index + 1]
            if cause is None:
                continue
            annotation_save(assignment=assignment, field=fields["cause"], value=cause)
            annotation_save(assignment=assignment, field=fields["impact"], value=impact)
            assignment_submit(assignment=assignment)
            ActiveTime.objects.create(
                assignment=assignment, seconds=60 + 30 * number + 15 * index, credited_until=assignment.submitted_at
            )
    fields = {field.key: field for field in study.fields.all()}
    for (number, key), rationale in METHODS_RATIONALES.items():
        study_issue = study_issues[number]
        chosen = METHODS_VALUES[number][0 if key == "cause" else 1]
        final_value_save(study_issue, fields[key], value=chosen, rationale=rationale, user=people["ada"])
    for number in range(1, 7):
        decide(study_issues[number], include=True, user=people["ada"])
    assert FinalValue.objects.filter(study_issue__study=study, source="adjudicated").count() == 3
    gold_issue = StudyIssueFactory(study=study, issue=IssueFactory(repository=repository, number=9, title="Issue 9"))
    study_issues[9] = gold_issue
    gold_item_save(
        study=study,
        issue=gold_issue.issue,
        user=people["olga"],
        answers={"cause": ("data", "The loader drops a column."), "impact": ("3", "Wrong results: high.")},
    )
    study_issues[1].refresh_from_db()
    gold_item_promote(study_issue=study_issues[1], user=people["olga"])
    gold_work = [  # (annotator, issue, purpose, cause, impact)
        ("ann", 9, "training", "data", "3"),
        ("tia", 9, "training", "data", "2"),
        ("tia", 1, "training", "data", "1"),
        ("ben", 9, "check", "data", "3"),
    ]
    for username, number, purpose, cause, impact in gold_work:
        assignment = AssignmentFactory(
            study=study, issue=study_issues[number].issue, annotator=people[username], purpose=purpose
        )
        annotation_save(assignment=assignment, field=fields["cause"], value=cause)
        annotation_save(assignment=assignment, field=fields["impact"], value=impact)
        assignment_submit(assignment=assignment)
    return {"study": study, "people": people, "study_issues": study_issues, "fields": fields}
