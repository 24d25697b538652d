"""Bidirectional text: every title, name, label and value a page shows sits in an element isolated from the text
around it, so that a right-to-left override in it reorders only itself (the layout itself: tests/e2e/test_bidi.py)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotator.bidi import isolate
from studies.annotation import annotation_save, assignment_submit
from studies.discussion import comment_post
from studies.models import IssueStage, Round
from tests.factories import AssignmentFactory, ImportRunFactory, StudyIssueFactory
from tests.helpers import VOID, label, page

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE, never closed
ISOLATED = re.compile("\u2068[^\u2068\u2069]*\u2069")  # FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE
# What the tests plant, each holding the override.
STUDY, TITLE, LABEL = f"Silent bugs {RLO}study", f"Optimizer resets {RLO}evil", f"{RLO}Impact or component"
CHOICE, NOTE, FILE_NAME = f"{RLO}Low", f"seen {RLO}twice", f"dump {RLO}lmth.jsonl"
SECOND_STUDY, NEW_CHOICE, PROFILE_NAME = f"Second {RLO}study", f"{RLO}layers", f"{RLO}paper"
PLANTED = {STUDY, TITLE, LABEL, CHOICE, NOTE, FILE_NAME, SECOND_STUDY, NEW_CHOICE, PROFILE_NAME}
PROFILE = {
    "columns": "number = Number",
    "separator": ",",
    "empty": "",
    "joiner": "; ",
    "order": "issue",
    "line_end": "lf",
}
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt"}
STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "css" / "app.css"


def isolated_by_css() -> set[str]:
    """The inline elements app.css isolates."""
    selectors = re.search(r"\n([a-z, ]+) \{ unicode-bidi: isolate; \}", STYLESHEET.read_text())[1]
    return {selector.strip() for selector in selectors.split(",")}


class Leaks(HTMLParser):
    """Text holding the override that shares an element with other content, that element not being isolated: the
    override would reorder that content. (A block ends the override; a form control or the title shows it alone.)
    Outside an isolated element, such text must be a planted value, whole and alone in its element, or sit between
    FSI and PDI (annotator/bidi.py); so must a shown attribute's (a tooltip, a placeholder), unless it is the text
    alone. (Screen readers read text in its logical order: an override does not reorder what they announce.)"""

    def __init__(self, isolated: set[str], planted: set[str]):
        super().__init__()
        self.isolated = isolated | {"bdi", "title", "textarea", "option"}
        self.planted = planted
        self.stack = [{"tag": "", "children": 0, "text": None}]
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.stack[-1]["children"] += 1
        for name, value in attrs:
            alone = (value or "").strip() in self.planted
            if name in SHOWN_ATTRIBUTES and RLO in ISOLATED.sub("", value or "") and not alone:
                self.found.append((f"{tag}[{name}]", value))
        if tag not in VOID:
            self.stack.append({"tag": tag, "children": 0, "text": None})

    def handle_data(self, data):
        if data.strip():
            self.stack[-1]["children"] += 1
            if RLO in ISOLATED.sub("", data) and self.stack[-1]["tag"] not in self.isolated:
                if data.strip() in self.planted:
                    self.stack[-1]["text"] = data.strip()
                else:  # written into running text
                    self.found.append((self.stack[-1]["tag"], data.strip()))

    def handle_endtag(self, tag):
        while len(self.stack) > 1:
            element = self.stack.pop()
            if element["text"] is not None and element["children"] > 1:
                self.found.append((element["tag"], element["text"]))
            if element["tag"] == tag:
                break


def leaks(html: str) -> list[tuple[str, str]]:
    parser = Leaks(isolated_by_css(), PLANTED)
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.fixture
def hostile(labelled):
    """An issue in reconciliation whose title, study, codebook label and annotator's note hold an override."""
    study_issue, adjudicator, owner, assignments = labelled
    study = study_issue.study
    study.name = STUDY
    study.save(update_fields=["name"])
    study_issue.issue.title = TITLE
    study_issue.issue.save(update_fields=["title"])
    study.fields.filter(key__in=["impact", "component"]).update(label=LABEL)
    study.fields.get(key="impact").choices.filter(value="2").update(label=CHOICE)
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact, submit=False)
        scenario = study.fields.get(key="scenario")
        annotation_save(assignment=assignment, field=scenario, value="Wrong shape", note=NOTE, version=1)
        assignment_submit(assignment=assignment)
    study_issue.refresh_from_db()
    assert study_issue.stage == IssueStage.RECONCILIATION
    return study_issue, owner, assignments


def test_no_page_lets_an_override_reorder_the_text_around_it(client, hostile):
    study_issue, owner, assignments = hostile
    slug = study_issue.study.slug
    # One more issue, still to label: its page names the fields still to answer.
    open_issue = StudyIssueFactory(study=study_issue.study)
    AssignmentFactory(study=open_issue.study, issue=open_issue.issue, annotator=assignments[0].annotator)
    # A calibration round over the issue: its report sets the values and notes side by side.
    round_ = Round.objects.create(study=study_issue.study, number=1, size=1, codebook_version_start=1)
    round_.issues.set([study_issue])
    round_.annotators.set([assignment.annotator for assignment in assignments])
    round_.fields.set(study_issue.study.fields.filter(key__in=["impact", "scenario"]))
    pages = {
        owner: [
            reverse("studies:list"),
            reverse("studies:detail", args=[slug]),
            reverse("studies:issues", args=[slug]),
            reverse("studies:issues", args=[slug]) + "?q=optimizer",
            reverse("studies:codebook", args=[slug]),
            reverse("studies:manage", args=[slug]),
            reverse("studies:activity", args=[slug]),
            reverse("agreement:report", args=[slug]),
            reverse("agreement:rounds", args=[slug]),
            reverse("agreement:round", args=[slug, 1]),
            reverse("agreement:methods", args=[slug]),
            page(study_issue),
            page(study_issue, "studies:issue_history"),
            page(study_issue, "studies:issue_assignments"),
        ],
        assignments[0].annotator: [page(study_issue, "studies:annotate"), page(open_issue, "studies:annotate")],
    }
    for person, urls in pages.items():
        client.force_login(person)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert RLO in response.text, url
            assert leaks(response.text) == [], url
            assert re.search(r"<title>&#x2068;[^<]*&#x2069; · annotator</title>", response.text), url


def test_nor_do_the_admins_pages_and_the_mentions(client, hostile, admin_user):
    study_issue, owner, assignments = hostile
    mentioned = assignments[0].annotator
    comment_post(study_issue, author=owner, body=f"@{mentioned.username} look at {RLO}this")
    run = ImportRunFactory(files=[{"name": FILE_NAME, "size": 1234, "sha256": "ab" * 32}])
    pages = {
        admin_user: [
            reverse("studies:people"),
            reverse("studies:person", args=[owner.pk]),
            reverse("issues:import_list"),
            reverse("issues:import_detail", args=[run.pk]),
            reverse("studies:profiles", args=[study_issue.study.slug]),
            reverse("studies:add_issues", args=[study_issue.study.slug]),
        ],
        mentioned: [reverse("studies:notifications")],
    }
    for person, urls in pages.items():
        client.force_login(person)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert RLO in response.text, url
            assert leaks(response.text) == [], url
            assert re.search(r"<title>&#x2068;[^<]*&#x2069; · annotator</title>", response.text), url


def test_the_check_finds_an_override_in_running_text():
    assert leaks(f"<h1>{TITLE} <a href='#'>#12</a></h1>") == [("h1", TITLE)]
    assert leaks(f"<p>Still to answer: {LABEL}.</p>") == [("p", f"Still to answer: {LABEL}.")]
    assert leaks(f"<h1><bdi>{TITLE}</bdi> <a href='#'>#12</a></h1><table><tr><td>{TITLE}</td></tr></table>") == []
    assert leaks(f"<li>Study {isolate(STUDY)} created.</li><input placeholder='{isolate(LABEL)}: note'>") == []
    assert leaks(f"<input placeholder='{LABEL}: note' value='{NOTE}'>") == [("input[placeholder]", f"{LABEL}: note")]


def test_messages_and_errors_isolate_the_names_they_quote(client, hostile, admin_user):
    """A message or an error naming a study, a field, a choice or a profile: the override in the name must not
    reverse the words after it ("Study … created; you are its owner")."""
    study_issue, owner, assignments = hostile
    slug = study_issue.study.slug
    open_issue = StudyIssueFactory(study=study_issue.study)
    AssignmentFactory(study=open_issue.study, issue=open_issue.issue, annotator=assignments[0].annotator)
    choice, second = NEW_CHOICE, SECOND_STUDY

    def remove_choice():
        pk = study_issue.study.fields.get(key="component").choices.get(value=choice).pk
        return reverse("studies:choice_remove", args=[slug, "component", pk])

    steps = [
        (admin_user, reverse("studies:create"), {"name": second, "slug": "second", "annotators_per_issue": 2}),
        (owner, reverse("studies:choice_new", args=[slug, "component"]), {"value": choice, "label": ""}),
        (owner, remove_choice, {}),
        (owner, reverse("studies:profile_new", args=[slug]), {**PROFILE, "name": PROFILE_NAME}),
        (owner, page(study_issue, "studies:final_value", "impact"), {"rationale": "", "version": "0"}),
        (assignments[0].annotator, page(open_issue, "studies:submit"), {}),
    ]
    said = [
        f"Study {isolate(second)} created; you are its owner.",
        f"Choice added to {isolate(LABEL)}.",
        f"Choice “{isolate(choice)}” deleted.",
        f"Export profile “{isolate(PROFILE_NAME)}” saved.",
        f"Choose the final value of {isolate(LABEL)}, or clear it on purpose (no answer).",
        f"Still to answer: {isolate('Scenario')}, {isolate(LABEL)}.",
    ]
    for (person, url, data), message in zip(steps, said, strict=True):
        client.force_login(person)
        response = client.post(url() if callable(url) else url, data, follow=True)
        assert response.status_code in {200, 422}, message
        assert escape(message) in response.text, re.findall(r"<li class=\"message[^>]*>([^<]*)", response.text)
        assert leaks(response.text) == [], message
