"""An owner on the Manage page in Chromium: one mistake, shown at its field with what was typed, then put right."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotator.bidi import isolate
from studies.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_mistypes_a_username_sees_why_at_the_field_then_adds_the_member(page: Page, live_server, study):
    owner = MembershipFactory(study=study, role="owner").user
    UserFactory(username="chen")
    log_in(page, live_server, owner)
    page.goto(live_server.url + reverse("studies:manage", args=[study.slug]))
    members = page.locator("section", has=page.get_by_role("heading", name="Members"))
    username, role = members.get_by_label("Username"), members.get_by_label("Role")

    username.fill("chne")
    role.select_option("adjudicator")
    members.get_by_role("button", name="Add").click()

    expect(username).to_have_value("chne")
    expect(username).to_be_focused()
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_have_accessible_description("There is no user “chne”.")
    expect(role).to_have_value("adjudicator")
    expect(page.get_by_label("Name", exact=True)).to_have_value(study.name)  # the other forms, as they were
    assert not Membership.objects.filter(user__username="chen").exists()

    username.fill("chen")
    members.get_by_role("button", name="Add").click()

    expect(page.get_by_role("status")).to_have_text(f"chen is adjudicator of {isolate(study.name)}.")
    expect(members.get_by_role("row", name="chen adjudicator")).to_be_visible()
    expect(username).to_have_value("")
    expect(username).not_to_have_attribute("aria-invalid", "true")
    assert Membership.objects.filter(study=study, user__username="chen", role="adjudicator").exists()
    assert csp_violations(page) == []
