"""Calibration rounds in Chromium, walked as a team runs them, with the owner's mistake on the way.

The owner starts round 1 asking for more issues than the study has: refused, with the reason, and the form as she
typed it. She asks for three. The annotators label blind (one in the browser, who cannot open the rounds). The owner
reads round 1's report: the stop rule is not met, the disagreements side by side. She sharpens Scenario's definition,
closes round 1, starts round 2; its report lists the change, and the rounds page plots both rounds.
"""

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from agreement.rounds import round_start
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Assignment, Round, Stage
from tests.factories import MembershipFactory, StudyIssueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    people = {
        name: MembershipFactory(study=study, role=role, user__username=name).user
        for name, role in (("olga", "owner"), ("ann", "annotator"), ("bob", "annotator"))
    }
    for _ in range(6):
        StudyIssueFactory(study=study, stage=Stage.LABELLING)
    return study, people


SCENARIOS = ("Wrong shape", "Wrong calculation", "Wrong shape")


def answer(assignment: Assignment, scenario: str, impact: str, note: str = "") -> None:
    fields = {field.key: field for field in assignment.study.fields.all()}
    annotation_save(assignment=assignment, field=fields["scenario"], value=scenario, note=note)
    annotation_save(assignment=assignment, field=fields["component"], value=["Model"])
    annotation_save(assignment=assignment, field=fields["impact"], value=impact)
    assignment_submit(assignment=assignment)


def work_of(round_: Round, username: str) -> list[Assignment]:
    issues = round_.issues.values("issue")
    return list(
        Assignment.objects.filter(issue__in=issues, annotator__username=username, stage=Stage.LABELLING).order_by(
            "issue_id"
        )
    )


def start_round(page, *, size: str) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Start the round"))
    form.get_by_label("Issues in the sample").fill(size)
    form.get_by_label("Seed").fill("5")
    for key in ("component", "root_cause", "reproduced", "rejection_reason"):
        form.locator(f'input[name="fields"][value="{key}"]').uncheck()
    form.get_by_label("at least").fill("0.8")
    form.get_by_role("button", name="Start the round").click()


def test_an_owner_runs_two_rounds_and_sees_whether_the_codebook_converges(open_as, live_server, team):
    study, people = team
    olga = open_as(people["olga"])
    olga.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    olga.get_by_role("link", name="Calibration rounds →").click()
    expect(olga.get_by_role("heading", name="Start round 1")).to_be_visible()

    # The mistake: a sample larger than the study.
    start_round(olga, size="10")
    size = olga.locator(".field-invalid", has=olga.get_by_label("Issues in the sample"))
    expect(size).to_contain_text("The sample would be 10 issues, but only 6 can join a round")
    expect(olga.get_by_label("Issues in the sample")).to_have_value("10")
    expect(olga.get_by_label("Seed")).to_have_value("5")
    expect(olga.locator('input[name="fields"][value="component"]')).not_to_be_checked()
    assert not Round.objects.exists()

    olga.get_by_label("Issues in the sample").fill("3")
    olga.get_by_role("button", name="Start the round").click()
    expect(olga.get_by_text("Round 1 started: 3 issues assigned for labelling.")).to_be_visible()
    first = Round.objects.get()
    assert sorted(first.fields.values_list("key", flat=True)) == ["impact", "scenario"]

    # Ann labels her three; Bob two by the same values, and the third in the browser, blind to Ann's.
    for assignment, scenario in zip(work_of(first, "ann"), SCENARIOS, strict=True):
        answer(assignment, scenario, "2", note="ann-round-note")
    bobs = work_of(first, "bob")
    answer(bobs[0], "Wrong shape", "2")
    answer(bobs[1], "Wrong calculation", "2")
    bob = open_as(people["bob"])
    issue = bobs[2].issue
    bob.goto(
        live_server.url
        + reverse("studies:annotate", args=[study.slug, issue.repository.owner, issue.repository.name, issue.number])
    )
    expect(bob.get_by_role("button", name="Submit")).to_be_visible()
    assert "ann-round-note" not in bob.content()
    bob.get_by_label("Wrong calculation").check()
    bob.locator("#component-1").click()
    bob.locator("#impact-3").click()
    expect(bob.locator("#field-impact .save-state")).to_have_text("Saved")
    bob.get_by_role("button", name="Submit").click()
    expect(bob.locator(".messages")).to_contain_text("submitted")
    assert bob.goto(live_server.url + reverse("agreement:round", args=[study.slug, 1])).status == 404

    # Round 1's report: Scenario disagrees on one issue of three, far below 0.8.
    olga.goto(live_server.url + reverse("agreement:round", args=[study.slug, 1]))
    expect(olga.locator("#stop-rule-verdict")).to_have_text("not met")
    row = olga.locator("#round-results tr", has=olga.get_by_text("Scenario", exact=True))
    expect(row).to_contain_text("not met")
    disputed = olga.locator("table.disagreements").first
    expect(disputed).to_contain_text(f"{issue.repository.owner}/{issue.repository.name}#{issue.number}")
    expect(disputed).to_contain_text("ann-round-note")
    expect(disputed).to_contain_text("Wrong calculation")
    expect(disputed.get_by_role("link")).to_have_attribute(
        "href",
        reverse("studies:reconcile", args=[study.slug, issue.repository.owner, issue.repository.name, issue.number]),
    )

    # She sharpens Scenario, closes round 1 and starts round 2 on the other three issues.
    olga.goto(live_server.url + reverse("studies:codebook", args=[study.slug]))
    section = olga.locator("section.codebook-field", has=olga.locator("#def-scenario"))
    section.locator("summary").first.click()
    form = section.locator("form.stacked-form").first
    form.get_by_label("Definition (Markdown)").fill("The symptom the user sees first, not its cause.")
    form.get_by_role("button", name="Save").click()
    expect(olga.get_by_text("Scenario saved.")).to_be_visible()
    olga.goto(live_server.url + reverse("agreement:round", args=[study.slug, 1]))
    olga.get_by_role("button", name="Close round 1").click()
    expect(olga.get_by_text("Round 1 closed at codebook version 2.")).to_be_visible()
    olga.goto(live_server.url + reverse("agreement:rounds", args=[study.slug]))
    start_round(olga, size="3")
    expect(olga.get_by_text("Round 2 started: 3 issues assigned for labelling.")).to_be_visible()
    expect(olga.locator("#changes-heading")).to_have_text("Codebook changes since round 1")
    expect(olga.get_by_text("definition changed.")).to_be_visible()

    second = Round.objects.get(number=2)
    for username in ("ann", "bob"):
        for assignment, scenario in zip(work_of(second, username), SCENARIOS, strict=True):
            answer(assignment, scenario, "3")

    olga.goto(live_server.url + reverse("agreement:rounds", args=[study.slug]))
    plots = olga.locator("figure.round-plot")
    expect(plots).to_have_count(2)
    scenario_plot = plots.filter(has_text="Scenario")
    expect(scenario_plot.locator("circle.estimate")).to_have_count(2)
    expect(scenario_plot.locator("line.threshold")).to_have_count(2)
    expect(scenario_plot.locator("text", has_text="round 2")).to_have_count(1)
    with olga.expect_download() as download:
        olga.get_by_role("link", name="every round's agreement per field (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    scenario = [row for row in rows if row["field"] == "scenario"]
    assert [(row["round"], row["met"]) for row in scenario] == [("1", "no"), ("2", "yes")]
    assert [(row["codebook_version_start"], row["codebook_version_end"]) for row in scenario] == [
        ("1", "2"),
        ("2", ""),
    ]


def test_a_report_read_before_the_last_answer_shows_it_when_read_again(open_as, live_server, team):
    """The trap: the owner reads round 1's report before Bob has submitted his last issue. The figures are kept with
    the round once computed; his answer must still show when she reads the report again, and once the round is
    closed the kept figures are the ones shown."""
    study, people = team
    round_ = round_start(
        study=study, user=people["olga"], size=3, seed=5, annotators=["ann", "bob"], fields=["scenario"]
    )
    for assignment, scenario in zip(work_of(round_, "ann"), SCENARIOS, strict=True):
        answer(assignment, scenario, "2")
    bobs = work_of(round_, "bob")
    answer(bobs[0], "Wrong shape", "2")
    answer(bobs[1], "Wrong calculation", "2")
    olga = open_as(people["olga"])
    report = live_server.url + reverse("agreement:round", args=[study.slug, 1])

    # Read too early: two issues, on which they agree.
    olga.goto(report)
    row = olga.locator("#round-results tr", has=olga.get_by_text("Scenario", exact=True))
    expect(row.locator("td").nth(1)).to_have_text("1.000")
    expect(row.locator("td").nth(3)).to_have_text("2")
    expect(olga.locator("#stop-rule-verdict")).to_have_text("met")

    # Bob labels the third in the browser, unlike Ann.
    bob = open_as(people["bob"])
    issue = bobs[2].issue
    bob.goto(
        live_server.url
        + reverse("studies:annotate", args=[study.slug, issue.repository.owner, issue.repository.name, issue.number])
    )
    bob.get_by_label("Wrong calculation").check()
    bob.locator("#component-1").click()
    bob.locator("#impact-3").click()
    expect(bob.locator("#field-impact .save-state")).to_have_text("Saved")
    bob.get_by_role("button", name="Submit").click()
    expect(bob.locator(".messages")).to_contain_text("submitted")

    olga.reload()
    expect(row.locator("td").nth(3)).to_have_text("3")
    expect(olga.locator("#stop-rule-verdict")).to_have_text("not met")
    value = row.locator("td").nth(1).inner_text()
    assert float(value) < 0.8

    olga.get_by_role("button", name="Close round 1").click()
    expect(olga.get_by_text("Round 1 closed at codebook version 1.")).to_be_visible()
    olga.reload()
    expect(row.locator("td").nth(1)).to_have_text(value)
    expect(row.locator("td").nth(3)).to_have_text("3")
    assert Round.objects.get().cached_results["fields"]["scenario"]["items"] == 3
