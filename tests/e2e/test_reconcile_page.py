"""The Compare tab in Chromium, walked as an adjudicator does it, mistakes included (issue 13).

Two annotators agree on some fields and differ on others. A refused final value keeps every choice and word; "no
answer" is stored only when the adjudicator clears a value on purpose; agreed values are final at once, so the
issue can be included without clicking through them; a refused decision is an error, in view, with the note kept.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.bidi import isolate
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import FinalValue, IssueStage, Stage, StudyIssue
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What each annotator gave: they agree on scenario, component and the buggy version, and differ on the rest.
VALUES = {
    "scenario": ("Wrong shape", "Wrong shape"),
    "component": (["Model", "Engine"], ["Engine", "Model"]),
    "buggy_version": ("2.3.0", "2.3.0"),
    "impact": ("2", "3"),
    "root_cause": ("Logic error", {"other": "race in the loader"}),
    "gist_urls": ("https://gist.github.com/a/1", "https://gist.github.com/b/2"),
    "fixed_version": ("2.4.0", "2.4.1"),
    "fixing_commits": ("abc1234", "def5678"),
}


# Where only the impact differs: the one field to settle before including the issue.
ONLY_IMPACT_DIFFERS = {key: VALUES[key] for key in ("scenario", "component", "buggy_version", "impact")}


def labelled_by_two(study, values: dict):
    """An issue two annotators have labelled (through the services, as the annotate page does), and its adjudicator."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(2)]
    study_issue = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    fields = {field.key: field for field in study.fields.all()}
    assignments = [
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)
        for annotator in annotators
    ]
    for number, assignment in enumerate(assignments):
        for key, given in values.items():
            annotation_save(assignment=assignment, field=fields[key], value=given[number])
        assignment_submit(assignment=assignment)
    assert StudyIssue.objects.get(pk=study_issue.pk).stage == IssueStage.RECONCILIATION
    return study_issue, adjudicator, annotators


@pytest.fixture
def in_reconciliation(study):
    return labelled_by_two(study, VALUES)


@pytest.fixture
def only_impact_differs(study):
    return labelled_by_two(study, ONLY_IMPACT_DIFFERS)


def url(study_issue, name="studies:reconcile") -> str:
    repository = study_issue.issue.repository
    return reverse(name, args=[study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number])


def finals(study_issue) -> dict:
    return {
        final.field.key: (final.value, final.source)
        for final in FinalValue.objects.filter(study_issue=study_issue).select_related("field")
    }


def test_it_keeps_the_choice_when_the_rationale_is_missing(open_as, live_server, in_reconciliation):
    study_issue, adjudicator, _ = in_reconciliation
    judge = open_as(adjudicator)
    judge.goto(live_server.url + url(study_issue))
    impact = judge.locator("#final-impact")

    impact.get_by_label("3 — model works differently").check()
    impact.get_by_role("button", name="Set the final value").click()  # the mistake: no rationale
    expect(impact.locator(".save-state.error")).to_contain_text("say why")
    expect(impact.get_by_label("3 — model works differently")).to_be_checked()
    assert "impact" not in finals(study_issue)

    impact.get_by_label("Rationale").fill("Wrong results during training.")
    impact.get_by_role("button", name="Set the final value").click()
    expect(impact.locator(".save-state.saved")).to_contain_text("Final: 3 — model works differently")
    expect(impact.get_by_label("3 — model works differently")).to_be_checked()
    assert finals(study_issue)["impact"] == (3, "adjudicated")


def test_it_refuses_an_empty_choice_and_clears_a_value_only_when_asked(open_as, live_server, in_reconciliation):
    study_issue, adjudicator, _ = in_reconciliation
    judge = open_as(adjudicator)
    judge.goto(live_server.url + url(study_issue))
    cause = judge.locator("#final-root_cause")

    cause.get_by_label("Rationale").fill("Neither fits.")
    cause.get_by_role("button", name="Set the final value").click()  # the mistake: nothing chosen
    expect(cause.locator(".save-state.error")).to_contain_text(f"Choose the final value of {isolate('Root cause')}")
    expect(cause.locator(".save-state.saved")).to_have_count(0)
    expect(cause.get_by_label("Rationale")).to_have_value("Neither fits.")
    assert "root_cause" not in finals(study_issue)

    cause.get_by_role("button", name="Clear: no answer").click()
    expect(cause.locator(".save-state.saved")).to_contain_text("Final: no answer (cleared by")
    assert finals(study_issue)["root_cause"] == (None, "adjudicated")


@pytest.mark.parametrize(
    "key, fill, stored",
    [
        (
            "component",
            lambda row: (row.get_by_label("Model", exact=True).uncheck(), row.get_by_label("Layers").check()),
            ["Engine", "Layers"],
        ),
        (
            "root_cause",
            lambda row: (row.get_by_label("Other:").check(), row.get_by_label("Root cause: other").fill("a race")),
            {"other": "a race"},
        ),
        (
            "gist_urls",
            lambda row: row.get_by_label("Final Reproduction links").fill(
                "https://gist.github.com/c/3 => not replicated"
            ),
            "https://gist.github.com/c/3 => not replicated",  # the paper's links come with a note
        ),
        ("fixed_version", lambda row: row.get_by_label("Final Fixed version").fill("2.4.1"), "2.4.1"),
        ("fixing_commits", lambda row: row.get_by_label("Final Fixing commit(s)").fill("def5678"), ["def5678"]),
    ],
)
def test_a_refused_value_of_every_kind_comes_back_as_it_was_typed(
    open_as, live_server, in_reconciliation, key, fill, stored
):
    study_issue, adjudicator, _ = in_reconciliation
    judge = open_as(adjudicator)
    judge.goto(live_server.url + url(study_issue))
    row = judge.locator(f"#final-{key}")
    if key == "component":  # agreed, so final already: changing it needs a reason too
        row.get_by_role("button", name="Change the final value").wait_for()
    fill(row)
    typed = row.locator("input:checked, input[type=text], textarea[name=value]").evaluate_all(
        "controls => controls.map(c => c.type === 'checkbox' || c.type === 'radio' ? c.value : c.value)"
    )
    row.get_by_role("button", name="final value").click()  # no rationale
    expect(row.locator(".save-state.error")).to_contain_text("say why")
    after = row.locator("input:checked, input[type=text], textarea[name=value]").evaluate_all(
        "controls => controls.map(c => c.value)"
    )
    assert after == typed
    row.get_by_label("Rationale").fill("Checked the fix.")
    row.get_by_role("button", name="final value").click()
    expect(row.locator(".save-state.saved")).to_contain_text("adjudicated by")
    assert finals(study_issue)[key] == (stored, "adjudicated")


def test_agreed_values_are_final_at_once_and_the_issue_can_be_included(open_as, live_server, only_impact_differs):
    study_issue, adjudicator, annotators = only_impact_differs
    names = ", ".join(sorted(annotator.username for annotator in annotators))
    assert finals(study_issue) == {
        "scenario": ("Wrong shape", "agreed"),
        "component": (["Model", "Engine"], "agreed"),
        "buggy_version": ("2.3.0", "agreed"),
    }
    judge = open_as(adjudicator)
    judge.goto(live_server.url + url(study_issue))
    expect(judge.locator("#final-scenario .save-state.saved")).to_have_text(f"Final: Wrong shape (agreed by {names})")
    expect(judge.locator("#decision")).to_contain_text("To include it, set the final value of: Impact.")

    impact = judge.locator("#final-impact")
    impact.get_by_label("2 — wrong information").check()
    impact.get_by_label("Rationale").fill("Only the message is wrong.")
    impact.get_by_role("button", name="Set the final value").click()
    expect(impact.locator(".save-state.saved")).to_contain_text("Final: 2 — wrong information")
    expect(judge.locator("#decision")).not_to_contain_text("To include it")  # nothing left to set, at once
    judge.reload()
    judge.get_by_label("include, with the final values").check()
    judge.get_by_role("button", name="Record the decision").click()
    expect(judge.locator("#decision")).to_contain_text("Included")

    judge.goto(live_server.url + url(study_issue, "studies:issue_history"))
    history = judge.locator(".changes")
    agreed = history.locator("li", has_text="created final value Scenario").first
    expect(agreed).to_contain_text("value: Wrong shape")
    expect(agreed).to_contain_text(f"agreed by: {names}")
    adjudicated = history.locator("li", has_text="created final value Impact").first
    expect(adjudicated).to_contain_text("value: 2 — wrong information")
    expect(adjudicated).to_contain_text(f"set by: {adjudicator.username}")
    expect(history).not_to_contain_text("_id")


def test_a_refused_decision_is_an_error_in_view_that_keeps_the_note(open_as, live_server, only_impact_differs):
    study_issue, adjudicator, _ = only_impact_differs
    judge = open_as(adjudicator)
    judge.set_viewport_size({"width": 1200, "height": 700})
    judge.goto(live_server.url + url(study_issue))
    judge.get_by_label("include, with the final values").check()
    judge.get_by_label("Rationale (Markdown)").fill("Clear-cut silent bug.")
    judge.get_by_role("button", name="Record the decision").click()  # the mistake: the impact has no final value

    error = judge.locator("#decision .form-error")
    expect(error).to_contain_text(f"Not recorded. Set the final value of: {isolate('Impact')}.")
    expect(error).to_be_in_viewport()
    expect(judge.locator(".messages .message-success")).to_have_count(0)
    expect(judge.get_by_label("Rationale (Markdown)")).to_have_value("Clear-cut silent bug.")
    expect(judge.get_by_label("include, with the final values")).to_be_checked()
    assert StudyIssue.objects.get(pk=study_issue.pk).stage == IssueStage.RECONCILIATION


def test_every_agreed_value_is_accepted_at_once(open_as, live_server, in_reconciliation):
    study_issue, adjudicator, _ = in_reconciliation
    FinalValue.objects.filter(study_issue=study_issue).delete()  # as for an issue that arrived before agreed values
    judge = open_as(adjudicator)
    judge.goto(live_server.url + url(study_issue))
    judge.get_by_role("button", name="Accept every agreed value").click()
    expect(judge.locator(".messages")).to_contain_text("3 agreed values are final now")
    expect(judge.locator("#final-buggy_version .save-state.saved")).to_contain_text("Final: 2.3.0 (agreed by")
    assert {key: source for key, (_, source) in finals(study_issue).items()} == dict.fromkeys(
        ["scenario", "component", "buggy_version"], "agreed"
    )
    judge.get_by_role("button", name="Accept every agreed value").click()  # nothing left: says so, not success
    expect(judge.locator(".messages")).to_contain_text("Every agreed value is final already")
    expect(judge.locator(".messages .message-success")).to_have_count(0)
