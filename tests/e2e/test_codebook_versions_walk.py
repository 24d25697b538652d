"""Codebook versions in Chromium, walked as a team does it, with the owner's mistake on the way.

The owner sharpens Impact's definition but forgets to say that it changes what the field means: a new version, and
nothing to re-check. She edits again, ticking the box: the annotators' earlier Impact answers come back to them.
An annotator reads the old and the new definition side by side, keeps one answer and changes the other; the owner
then reads the agreement over the answers given under the new version only.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.bidi import isolate
from studies.annotation import recheck_confirm
from studies.codebook import codebook_load, preset
from studies.codebook_versions import rechecks
from studies.models import Annotation, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import label

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHARPER = "Judge by what the user loses: from cosmetic (1) to results that change (4)."


@pytest.fixture
def labelled(study):
    """Two issues that ann and bob both labelled and submitted (Impact 3 and 2 from each)."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner", user__username="olga").user
    ann = MembershipFactory(study=study, role="annotator", user__username="ann").user
    bob = MembershipFactory(study=study, role="annotator", user__username="bob").user
    for impact in ("3", "2"):
        issue = StudyIssueFactory(study=study, stage=Stage.LABELLING).issue
        assignments = [AssignmentFactory(study=study, issue=issue, annotator=each) for each in (ann, bob)]
        for assignment in assignments:
            label(assignment, impact=impact)
    return study, owner, ann, bob


def edit_impact(page, *, definition: str, changes_meaning: bool) -> None:
    section = page.locator("section.codebook-field", has=page.locator("#def-impact"))
    section.locator("summary").first.click()
    form = section.locator("form.stacked-form").first
    form.get_by_label("Definition (Markdown)").fill(definition)
    if changes_meaning:
        form.get_by_label("this changes what the field means").check()
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Impact saved.")).to_be_visible()


def test_an_owner_redefines_impact_annotators_re_check_and_agreement_counts_the_new_answers(
    open_as, live_server, labelled
):
    study, owner, ann, bob = labelled
    olga = open_as(owner)
    olga.goto(live_server.url + reverse("studies:codebook", args=[study.slug]))
    expect(olga.get_by_text("This is version 1.")).to_be_visible()

    # The mistake: a sharper definition, without saying that it changes what Impact means.
    edit_impact(olga, definition=SHARPER, changes_meaning=False)
    expect(olga.get_by_text("This is version 2.")).to_be_visible()
    expect(olga.locator("#version-2")).to_contain_text(f"“{isolate('Impact')}”: definition changed.")
    expect(olga.locator("#rechecks-pending")).to_contain_text("none")
    assert not rechecks(study, ann).exists()

    # Again, this time ticking the box.
    edit_impact(olga, definition=SHARPER + " Leave it empty when unsure.", changes_meaning=True)
    expect(olga.get_by_text("This is version 3.")).to_be_visible()
    expect(olga.locator("#version-3")).to_contain_text("Changes what Impact means")
    expect(olga.locator("#rechecks-pending")).to_contain_text("Impact 4")

    # Ann: Next issue leads to her two Impact answers, each with the definition then and now.
    page = open_as(ann)
    page.goto(live_server.url + reverse("studies:detail", args=[study.slug]))
    expect(page.get_by_text("2 answers to re-check")).to_be_visible()
    page.get_by_role("link", name="Next issue →").click()
    expect(page.get_by_role("heading", name="Re-check your answers")).to_be_visible()
    items = page.locator("section.recheck")
    expect(items).to_have_count(2)
    first = items.first
    expect(first.locator(".then")).to_contain_text("Then: version 1")
    expect(first.locator(".then")).to_contain_text("Judge by the worst effect the report shows.")
    expect(first.locator(".now")).to_contain_text("Now: version 3")
    expect(first.locator(".now")).to_contain_text("Leave it empty when unsure.")
    expect(first.locator(".recheck-answer")).to_have_text("3 — model works differently")
    first.get_by_role("button", name="Keep my answer").click()
    expect(page.get_by_text(f"{isolate('Impact')}: your answer stands.")).to_be_visible()

    expect(items).to_have_count(1)
    items.first.locator('input[name="value"][value="1"]').check()
    items.first.get_by_role("button", name="Change my answer").click()
    expect(page.get_by_text(f"{isolate('Impact')}: your answer is changed.")).to_be_visible()
    expect(page.get_by_text("Nothing to re-check.")).to_be_visible()
    mine = Annotation.objects.filter(assignment__annotator=ann, field__key="impact").order_by("assignment__issue_id")
    assert [(a.value, a.codebook_version) for a in mine] == [(3, 3), (1, 3)]
    assert rechecks(study, bob).count() == 2  # bob's answers are his to re-check: untouched

    # Bob keeps his first answer (not his second); the owner reads the agreement since version 3.
    recheck_confirm(annotation=rechecks(study, bob).first(), version=rechecks(study, bob).first().version)
    olga.goto(live_server.url + reverse("agreement:report", args=[study.slug]))
    expect(olga.locator("#agreement-impact").locator("..")).to_contain_text("2 items")
    olga.get_by_label("Codebook").select_option("3")
    olga.get_by_role("button", name="Show").click()
    expect(olga.get_by_text("under codebook version 3 or later")).to_be_visible()
    expect(olga.locator("#agreement-impact").locator("..")).to_contain_text("1 item,")
