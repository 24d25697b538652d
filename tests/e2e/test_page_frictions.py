"""Small frictions a team met in Chromium (issue 13): what each person sees on the page."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.bidi import isolate
from tests.factories import MembershipFactory, StudyFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_researcher_sees_how_many_people_work_on_each_of_their_studies(open_as, live_server):
    alice = UserFactory(username="alice")
    for name, others in (("Three of us", 2), ("Four of us", 3)):
        study = StudyFactory(name=name)
        MembershipFactory(study=study, user=alice, role="annotator")
        MembershipFactory.create_batch(others, study=study)

    page = open_as(alice)

    expect(page.locator(".card", has_text="Three of us")).to_contain_text("3 members")
    expect(page.locator(".card", has_text="Four of us")).to_contain_text("4 members")
    expect(page.locator("body")).not_to_contain_text("{#")


def test_an_owner_adds_a_member_without_choosing_a_role_and_gets_an_annotator(open_as, live_server, study):
    owner = MembershipFactory(study=study, role="owner").user
    UserFactory(username="chen")
    page = open_as(owner)
    page.goto(live_server.url + reverse("studies:manage", args=[study.slug]))
    members = page.locator("section", has=page.get_by_role("heading", name="Members"))

    expect(members.get_by_label("Role")).to_have_value("annotator")
    members.get_by_label("Username").fill("chen")
    members.get_by_role("button", name="Add").click()

    expect(page.get_by_role("status")).to_have_text(f"chen is annotator of {isolate(study.name)}.")
    assert study.memberships.get(user__username="chen").role == "annotator"


def test_each_annotator_checkbox_sits_beside_its_name(open_as, live_server, study_with_ratings):
    owner = MembershipFactory(study=study_with_ratings, role="owner").user
    page = open_as(owner)
    page.goto(live_server.url + reverse("agreement:report", args=[study_with_ratings.slug]))

    for name in ("ann", "bob", "cyd"):
        checkbox = page.get_by_role("checkbox", name=name)
        expect(checkbox).to_be_visible()
        box = checkbox.bounding_box()
        # Where the name is drawn: the label's text after the checkbox.
        text = checkbox.evaluate(
            """box => { const range = document.createRange(); range.selectNodeContents(box.parentElement);
                        range.setStartAfter(box); const r = range.getBoundingClientRect();
                        return {x: r.x, y: r.y, height: r.height}; }"""
        )
        assert box["x"] + box["width"] <= text["x"], name  # to its left
        middle = box["y"] + box["height"] / 2
        assert text["y"] <= middle <= text["y"] + text["height"], name  # on the same line
