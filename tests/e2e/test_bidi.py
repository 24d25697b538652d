"""Text from imports and people in Chromium: a right-to-left override in a title, a name or a label reorders only
itself, never the page's text after it."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studies.codebook import codebook_load, preset
from studies.models import Stage
from tests.factories import AssignmentFactory, IssueFactory, MembershipFactory, StudyIssueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE, never closed: it would run to the end of its paragraph

# Where, inside `root`, the text holding `text` ends and the text holding `after` (which follows it) starts.
EDGES = """([root, text, after]) => {
  const box = (part) => {
    const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode()) && !node.data.includes(part));
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getBoundingClientRect();
  };
  const own = box(text), next = box(after);
  return {textRight: own.right, afterLeft: next.left, sameLine: Math.abs(own.top - next.top) < own.height};
}"""


def assert_follows(page: Page, root: str, text: str, after: str) -> None:
    edges = page.evaluate(EDGES, [root, text, after])
    assert edges["sameLine"] and edges["afterLeft"] >= edges["textRight"] - 1, (text, after, edges)


def test_an_override_in_a_title_a_name_or_a_label_stays_inside_it(open_as, live_server, study):
    study.name = f"Silent bugs {RLO}study"
    study.save(update_fields=["name"])
    codebook_load(study, preset("silent-bugs"), screening=False)
    study.fields.filter(key="scenario").update(label=f"{RLO}Scenario")
    issue = IssueFactory(title=f"Optimizer resets {RLO}evil")
    StudyIssueFactory(study=study, issue=issue)
    annotator = MembershipFactory(study=study, role="annotator").user
    AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    page: Page = open_as(annotator)
    repository = issue.repository

    page.goto(
        live_server.url
        + reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number])
    )
    expect(page.locator("#issue-title")).to_contain_text("Optimizer resets")

    # The issue's number follows its title, as written, instead of being pulled in front of it by the override;
    # the same for the study's name in the crumbs, and a codebook label with its required mark.
    assert_follows(page, "#issue-title", "Optimizer resets", f"{repository.full_name}#{issue.number}")
    assert_follows(page, ".issue-pane .crumbs", "Silent bugs", "/")
    assert_follows(page, "#field-scenario legend", "Scenario", "*")
