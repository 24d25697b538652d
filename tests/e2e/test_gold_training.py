"""Gold issues and training walked in Chromium, with a mistake on each side.

The owner marks one issue as gold by hand (forgetting a required answer first) and promotes a decided one, then
requires training at 0.8. A new annotator trains: right on the first gold issue, wrong on the second; after each
submission the reference and its rationale sit beside their answer. Their real work stays closed below the
threshold; the owner reads their accuracy, lowers the threshold, and real work opens.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from agreement.ratings import field_ratings
from studies.codebook import codebook_load, preset
from studies.models import Assignment, FinalValue, GoldItem, IssueStage, Stage, StudyIssue
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BY_HAND_RATIONALE = "The output has the wrong shape and nothing raises."
# The rationale's label isolates the field's label (annotator/bidi.py).
WHY_SCENARIO = re.compile(r"^Why \(.?Scenario.?\)$")
PROMOTED_RATIONALE = "The cumulative sums are wrong, silently."


def issue_url(study_issue, name="studies:annotate") -> str:
    repository = study_issue.issue.repository
    return reverse(name, args=[study_issue.study.slug, repository.owner, repository.name, study_issue.issue.number])


def label(page: Page, scenario: str, component: str) -> None:
    """Pick the choices (each saves itself), then submit."""
    for key, choice in (("scenario", scenario), ("component", component)):
        field = page.locator(f"#field-{key}")
        field.locator(f'input[value="{choice}"]').check()
        expect(field.locator(".save-state")).to_have_text("Saved")
    page.get_by_role("button", name="Submit").click()


def test_an_owner_sets_up_training_and_a_new_annotator_trains(open_as, live_server, study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    trainee = MembershipFactory(study=study, role="annotator", user=UserFactory(username="tom")).user
    by_hand = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    decided = StudyIssueFactory(study=study, stage=IssueStage.DECIDED, decision=StudyIssue.Decision.INCLUDE)
    fields = {field.key: field for field in study.fields.all()}
    FinalValue.objects.create(
        study_issue=decided, field=fields["scenario"], value="Wrong calculation", rationale=PROMOTED_RATIONALE
    )
    FinalValue.objects.create(study_issue=decided, field=fields["component"], value=["Layers"])
    real = StudyIssueFactory(study=study, stage=IssueStage.LABELLING)
    AssignmentFactory(study=study, issue=real.issue, annotator=trainee, stage=Stage.LABELLING)
    base = live_server.url

    # The owner marks the first issue as gold, forgetting the component (required) at first.
    alice = open_as(owner)
    alice.goto(base + issue_url(by_hand))
    alice.get_by_role("link", name="Gold", exact=True).click()
    alice.get_by_label("Scenario", exact=True).select_option("Wrong shape")
    alice.get_by_label(WHY_SCENARIO).fill(BY_HAND_RATIONALE)
    alice.get_by_role("button", name="Save the reference answers").click()
    expect(alice.locator(".field-invalid")).to_contain_text("is required: a gold issue needs its reference answer")
    expect(alice.get_by_label(WHY_SCENARIO)).to_have_value(BY_HAND_RATIONALE)
    assert not GoldItem.objects.exists()
    alice.get_by_label("Model", exact=True).check()
    alice.get_by_role("button", name="Save the reference answers").click()
    expect(alice.get_by_role("heading", name="Gold issues (1)")).to_be_visible()

    # … promotes the decided one, and requires training.
    alice.goto(base + issue_url(decided, "studies:gold_item"))
    alice.get_by_role("button", name="Take its final values as the reference").click()
    expect(alice.get_by_role("heading", name="Gold issues (2)")).to_be_visible()
    alice.get_by_label("Annotators train on the gold issues before real work").check()
    alice.get_by_label("Accuracy that passes").fill("0.8")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.locator(".messages")).to_contain_text("Training and checks saved.")

    # The trainee: training first, marked as such; right on the first gold issue.
    tom = open_as(trainee)
    tom.goto(base + reverse("studies:detail", args=[study.slug]))
    expect(tom.locator("[data-training]")).to_contain_text("Training comes first")
    tom.get_by_role("link", name="Next issue →").click()
    expect(tom).to_have_url(re.compile(re.escape(issue_url(by_hand)) + "$"))
    expect(tom.locator("[data-training]")).to_be_visible()
    expect(tom.locator("#gold-feedback")).to_have_count(0)  # nothing of the reference before submitting
    label(tom, "Wrong shape", "Model")
    feedback = tom.locator("#gold-feedback")
    expect(feedback.locator('[data-field="scenario"]')).to_contain_text("✓ matches")
    expect(feedback.locator('[data-field="scenario"]')).to_contain_text(BY_HAND_RATIONALE)

    # The mistake: the wrong scenario on the second; the reference and why are shown beside it.
    tom.get_by_role("link", name="Next unfinished issue →").click()
    expect(tom).to_have_url(re.compile(re.escape(issue_url(decided)) + "$"))
    label(tom, "Wrong shape", "Layers")
    scenario = tom.locator('#gold-feedback [data-field="scenario"]')
    expect(scenario).to_contain_text("✗ differs")
    expect(scenario).to_contain_text("Wrong calculation")
    expect(scenario).to_contain_text(PROMOTED_RATIONALE)
    expect(tom.locator('#gold-feedback [data-field="component"]')).to_contain_text("✓ matches")

    # 3 of 4 answers right, but the scenario at 0.5: real work stays closed, and the page says why.
    tom.get_by_role("link", name="Next unfinished issue →").click()
    expect(tom.locator(".messages")).to_contain_text("Your training is done but not passed (accuracy 75%")
    tom.goto(base + issue_url(real))
    expect(tom.get_by_role("alert")).to_contain_text("Your training comes first")
    expect(tom.locator('#field-scenario input[value="Wrong shape"]')).to_be_disabled()

    # The owner reads the trainee's scores against gold, and lowers the threshold.
    alice.goto(base + reverse("studies:gold", args=[study.slug]))
    alice.get_by_role("link", name="Annotators against gold: training and checks →").click()
    row = alice.locator('[data-annotator="tom"]')
    expect(row).to_contain_text("2 of 2")
    expect(row).to_contain_text("0.75")
    expect(row).to_contain_text("accuracy 0.50")
    expect(row).to_contain_text("closed: below 0.80")
    alice.goto(base + reverse("studies:gold", args=[study.slug]))
    alice.get_by_label("Accuracy that passes").fill("0.5")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.locator(".messages")).to_contain_text("Training and checks saved.")

    # Real work opens.
    tom.goto(base + reverse("studies:detail", args=[study.slug]))
    expect(tom.locator("[data-training]")).to_have_count(0)
    tom.get_by_role("link", name="Next issue →").click()
    expect(tom).to_have_url(re.compile(re.escape(issue_url(real)) + "$"))
    expect(tom.locator('#field-scenario input[value="Wrong shape"]')).to_be_enabled()

    # The training answers stay out of the study's labels; the decided issue's final values are untouched.
    assert Assignment.objects.filter(annotator=trainee, purpose="training", status="submitted").count() == 2
    assert field_ratings(study, fields["scenario"]).ratings == 0
    assert FinalValue.objects.get(study_issue=decided, field=fields["scenario"]).value == "Wrong calculation"
