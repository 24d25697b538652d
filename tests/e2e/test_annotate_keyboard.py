"""An annotator labels three issues with the keyboard only, reloads, and finds every value saved."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_three_issues_labelled_with_the_keyboard_only(page: Page, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    annotator = MembershipFactory(study=study, role="annotator").user
    issues = [StudyIssueFactory(study=study).issue for _ in range(3)]
    for issue in issues:
        AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    log_in(page, live_server, annotator)
    page.goto(f"{live_server.url}{reverse('studies:next', args=[study.slug])}")

    for issue in issues:
        expect(page.locator("#issue-title")).to_contain_text(issue.title)
        keyboard = page.keyboard
        keyboard.press("1")  # scenario: the first choice (the page opens on the first field)
        keyboard.press("Tab")  # to component
        keyboard.press("1")
        keyboard.press("Shift+Digit4")  # and the 14th: two components
        keyboard.press("Tab")  # to impact
        keyboard.press("d")
        expect(page.locator("#field-impact details.definition")).to_have_attribute("open", "")
        keyboard.press("3")
        keyboard.press("u")  # impact: uncertain
        keyboard.press("n")
        keyboard.type("check the optimizer")
        keyboard.press("Escape")
        expect(page.locator("#field-impact .save-state")).to_have_text("Saved")
        keyboard.press("Control+Enter")
        page.wait_for_url(lambda url, issue=issue: f"/issues/{issue.number}/" not in url)

    expect(page.locator(".messages")).to_contain_text("Nothing left to label")
    repository = issues[0].repository
    page.goto(
        f"{live_server.url}"
        f"{reverse('studies:annotate', args=[study.slug, repository.owner, repository.name, issues[0].number])}"
    )
    expect(page.locator("#scenario-1")).to_be_checked()
    expect(page.locator("#component-1")).to_be_checked()
    expect(page.locator("#component-14")).to_be_checked()
    expect(page.locator("#field-component kbd.choice-key").nth(13)).to_have_text("⇧4")
    expect(page.locator("#impact-3")).to_be_checked()
    expect(page.locator("#impact-uncertain")).to_be_checked()
    expect(page.locator("#impact-note")).to_have_value("check the optimizer")
    assert csp_violations(page) == []
    assert Assignment.objects.filter(annotator=annotator, status="submitted").count() == 3
    impact = Annotation.objects.filter(field__key="impact")
    assert sorted(impact.values_list("value", "uncertain", "note")) == [(3, True, "check the optimizer")] * 3
    scenario = Annotation.objects.filter(field__key="scenario").values_list("value", flat=True)
    assert set(scenario) == {"Wrong shape"}
    components = Annotation.objects.filter(field__key="component").values_list("value", flat=True)
    assert [sorted(value) for value in components] == [["Engine", "Estimator"]] * 3
