"""Time on task in Chromium: an annotator labels an issue, leaves the tab in the background, sits idle, submits; the
owner sees the active time without those gaps."""

import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studies.effort import duration
from studies.models import ActiveTime, Assignment, CodebookField, IssueStage, ReconciliationTime, Stage
from tests.factories import (
    AssignmentFactory,
    ChoiceFactory,
    CodebookFieldFactory,
    MembershipFactory,
    StudyIssueFactory,
)
from tests.helpers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDLE = 2  # seconds: the study's idle threshold for this test


@pytest.fixture
def assignment(study, settings):
    settings.ACTIVE_TIME_IDLE_SECONDS = IDLE
    field = CodebookFieldFactory(
        study=study, key="impact", label="Impact", kind=CodebookField.Kind.SINGLE, required=True
    )
    ChoiceFactory(field=field, value="low", label="Low")
    study_issue = StudyIssueFactory(study=study)
    annotator = MembershipFactory(study=study, role="annotator", user__username="ana").user
    return AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)


def set_hidden(page: Page, hidden: bool) -> None:
    """The tab goes to the background (another tab in front) or comes back, as Chromium tells the page."""
    page.evaluate(
        """(hidden) => {
          if (hidden) Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
          else delete document.visibilityState;
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def busy(page: Page, seconds: float) -> None:
    """Reading the issue: the pointer moves every half second."""
    for step in range(int(seconds * 2)):
        page.mouse.move(100 + step * 5, 200)
        page.wait_for_timeout(500)


def test_the_page_counts_use_and_leaves_out_long_pauses_and_the_background(open_as, live_server, assignment, settings):
    """The rule itself, on the browser's own clock: the default threshold of 120 s, minutes at a time."""
    settings.ACTIVE_TIME_IDLE_SECONDS = 120
    study, issue = assignment.study, assignment.issue
    page = open_as(assignment.annotator)
    reported = []
    page.on(
        "request",
        lambda request: (
            reported.append(float(parse_qs(request.post_data)["seconds"][0]))
            if request.url.endswith("/time/")
            else None
        ),
    )
    start = datetime(2026, 3, 2, 9, 0)
    page.clock.install(time=start)
    page.goto(live_server.url + annotate_url(issue, study))
    page.clock.pause_at(start + timedelta(seconds=3))  # the page was opened at most 3 s ago

    def use_after(seconds: int) -> None:
        page.clock.run_for(seconds * 1000)
        page.mouse.move(100 + seconds % 50, 200)

    use_after(0)  # counted: the moments since the page opened
    use_after(10)  # counted
    use_after(20)  # counted
    use_after(180)  # a pause of 3 minutes, longer than 120 s: not counted at all
    use_after(30)  # counted
    page.clock.run_for(10_000)
    set_hidden(page, True)  # the 10 s up to here count; then another tab for a minute, shorter than the threshold
    page.clock.run_for(60_000)
    set_hidden(page, False)
    use_after(10)  # counted
    set_hidden(page, True)

    wait_until(lambda: sum(reported) > 80, timeout=30, what="the reports")
    page.wait_for_timeout(500)  # nothing else on its way
    assert 80 < sum(reported) <= 83, reported  # 10 + 20 + 30 + 10 + 10, and the first 3 s at most


def annotate_url(issue, study) -> str:
    repository = issue.repository
    return reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number])


def test_the_owner_sees_the_active_time_without_the_background_and_the_idle_pause(open_as, live_server, assignment):
    study, issue = assignment.study, assignment.issue
    page = open_as(assignment.annotator)
    started = time.monotonic()
    page.goto(live_server.url + annotate_url(issue, study))

    busy(page, 3)
    set_hidden(page, True)  # off to another tab for a while
    page.wait_for_timeout(5_000)
    set_hidden(page, False)
    page.wait_for_timeout(5_000)  # back, but idle: longer than the threshold, so not counted either
    page.locator("#impact-1").check()
    expect(page.locator("#field-impact .save-state")).to_have_text("Saved")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".messages, body")).to_contain_text("submitted")
    wall = time.monotonic() - started

    wait_until(
        lambda: (
            Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.SUBMITTED
            and ActiveTime.objects.filter(assignment=assignment).exists()
        ),
        timeout=30,
        what="the submission and its time",
    )
    page.wait_for_timeout(1_000)  # a last report on its way as the page went
    seconds = ActiveTime.objects.get(assignment=assignment).seconds
    # About 3 s of reading and the moments to open the page and to choose and submit; not the 10 s in the
    # background and idle.
    assert 2.5 <= seconds <= 7, seconds
    assert wall >= 13

    owner = open_as(MembershipFactory(study=study, role="owner").user)
    owner.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    owner.get_by_role("link", name="Time on task →").click()
    row = owner.locator("#effort-table tbody tr", has_text="ana")
    expect(row.locator("td").nth(4)).to_have_text(duration(seconds))  # active time
    expect(row.locator("td").nth(5)).to_have_text(duration(seconds))  # the median of one issue


def test_the_time_spent_reconciling_counts_up_to_the_decision(open_as, live_server, study, settings):
    settings.ACTIVE_TIME_IDLE_SECONDS = IDLE
    study_issue = StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)
    adjudicator = MembershipFactory(study=study, role="adjudicator", user__username="dora").user
    issue = study_issue.issue
    judge = open_as(adjudicator)
    started = time.monotonic()
    judge.goto(
        live_server.url
        + reverse("studies:reconcile", args=[study.slug, issue.repository.owner, issue.repository.name, issue.number])
    )

    busy(judge, 2)
    judge.wait_for_timeout(4_000)  # thinking it over without touching anything: longer than the threshold
    judge.get_by_role("radio", name="exclude").check()
    judge.get_by_label("Reason for excluding").select_option("not_a_bug")
    judge.get_by_label("Rationale (Markdown)").fill("A question about the API, not a bug.")
    judge.get_by_role("button", name="Record the decision").click()
    expect(judge.locator("#decision")).to_contain_text("Excluded")
    wall = time.monotonic() - started

    wait_until(lambda: ReconciliationTime.objects.exists(), timeout=30, what="the time spent reconciling")
    judge.wait_for_timeout(1_000)  # a last report on its way as the page went
    seconds = ReconciliationTime.objects.get(study_issue=study_issue, user=adjudicator, stage="reconciliation").seconds
    assert 1.5 <= seconds <= 5, seconds
    assert wall >= 6

    owner = open_as(MembershipFactory(study=study, role="owner").user)
    owner.goto(live_server.url + reverse("studies:effort", args=[study.slug]))
    row = owner.locator("#effort-table tbody tr", has_text="dora")
    expect(row.locator("td").nth(1)).to_have_text("reconciliation")
    expect(row.locator("td").nth(4)).to_have_text(duration(seconds))
