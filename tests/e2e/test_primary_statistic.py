"""An owner pre-registers Krippendorff's α ≥ 0.8 for Impact in Chromium; the team labels; the owner then lowers the
threshold without saying why (the mistake), is told to, says why, and the change is recorded as made after
labelling started; the agreement page shows the primary statistic first, not met."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from agreement.models import PrimaryStatistic, PrimaryStatisticEvent
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.models import Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyFactory, StudyIssueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Impact levels of ann and bob on six issues: ordinal α −0.486.
LEVELS = [(1, 4), (2, 3), (3, 1), (4, 2), (2, 2), (3, 3)]


def test_an_owner_pre_registers_alpha_then_changes_it_after_labelling_and_it_is_recorded(open_as, live_server):
    study = StudyFactory()
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    annotators = [MembershipFactory(study=study, role="annotator", user__username=n).user for n in ("ann", "bob")]
    assignments = []
    for _ in LEVELS:
        issue = StudyIssueFactory(study=study).issue
        assignments.append(
            [AssignmentFactory(study=study, issue=issue, annotator=a, stage=Stage.LABELLING) for a in annotators]
        )
    page = open_as(owner)
    page.goto(live_server.url + reverse("agreement:report", args=[study.slug]))
    impact = page.locator("#primary-impact")
    expect(impact).to_contain_text("No primary statistic declared for this field: declare it before labelling starts")

    impact.get_by_text("Declare the primary statistic of Impact").click()
    impact.get_by_label("Statistic", exact=True).select_option(label="Krippendorff's α")
    impact.get_by_label("Threshold", exact=True).fill("0.8")
    impact.get_by_label("Source of the threshold").fill("Krippendorff (2004): α ≥ 0.800, tentative ≥ 0.667")
    impact.get_by_role("button", name="Declare").click()
    expect(page.get_by_text("The primary statistic of Impact is Krippendorff's α ≥ 0.800.")).to_be_visible()

    # The team labels.
    impact_field = study.fields.get(key="impact")
    for pair, levels in zip(assignments, LEVELS, strict=True):
        for assignment, level in zip(pair, levels, strict=True):
            annotation_save(assignment=assignment, field=impact_field, value=str(level))
            annotation_save(assignment=assignment, field=study.fields.get(key="scenario"), value="Wrong shape")
            annotation_save(assignment=assignment, field=study.fields.get(key="component"), value=["Model"])
            assignment_submit(assignment=assignment)

    page.reload()
    impact = page.locator("#primary-impact")
    expect(impact).to_contain_text("Primary statistic: Krippendorff's α ≥ 0.800")
    expect(impact).to_contain_text("not met")
    # The mistake: lowering the bar once the values are in, without saying why.
    impact.get_by_text("Change the primary statistic of Impact").click()
    impact.get_by_label("Threshold", exact=True).fill("0.667")
    impact.get_by_role("button", name="Change").click()

    impact = page.locator("#primary-impact")
    expect(
        impact.get_by_text("Impact already has answers: a statistic changed now is not pre-registered.")
    ).to_be_visible()
    expect(impact.get_by_label("Threshold", exact=True)).to_have_value("0.667")
    assert str(PrimaryStatistic.objects.get().threshold) == "0.800"

    impact.get_by_label("Why (required once the field has answers)").fill("The pilot showed 0.8 is out of reach.")
    impact.get_by_role("button", name="Change").click()

    expect(page.get_by_text("recorded as set after labelling started")).to_be_visible()
    impact = page.locator("#primary-impact")
    expect(impact).to_contain_text("Primary statistic: Krippendorff's α ≥ 0.667")
    expect(impact).to_contain_text("not met (-0.486 is below 0.667)")
    expect(impact).to_contain_text("Declared or changed after labelling started: not pre-registered as it stands.")
    expect(impact.locator("ol li")).to_have_count(2)
    expect(impact.locator("ol li").nth(0)).to_contain_text("before labelling started")
    expect(impact.locator("ol li").nth(1)).to_contain_text("The pilot showed 0.8 is out of reach.")
    first = page.locator("#agreement-impact").locator("xpath=..").locator("table.agreement-table tbody tr").first
    expect(first).to_contain_text("Krippendorff's α")
    expect(first).to_contain_text("primary: not met (threshold 0.667)")
    declared = PrimaryStatistic.objects.get()
    assert declared.after_labelling_started and declared.reason == "The pilot showed 0.8 is out of reach."
    assert PrimaryStatisticEvent.objects.filter(pgh_label="update", after_labelling_started=True).count() == 1
