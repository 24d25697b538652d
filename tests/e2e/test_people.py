"""Admins manage people in Chromium: a new researcher's account, with one mistake on the way, their link to set a
password, their first log-in; then they are deactivated and cannot log in."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "labels on silent bugs"


def log_in_with(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_creates_an_account_and_the_researcher_sets_a_password_and_logs_in(
    open_as, browser: Browser, live_server
):
    UserFactory(username="dana")  # someone has that name already
    admin = open_as(AdminFactory())

    admin.get_by_role("link", name="People").click()
    admin.get_by_role("link", name="New account").click()
    admin.get_by_label("Username").fill("Dana")
    admin.get_by_label("First name").fill("Dana")
    admin.get_by_label("Last name").fill("Ruiz")
    admin.get_by_role("button", name="Create account").click()

    username = admin.get_by_label("Username")
    expect(username).to_have_accessible_description(re.compile("The username “dana” is taken already.$"))
    expect(username).to_have_value("Dana")
    expect(admin.get_by_label("Last name")).to_have_value("Ruiz")
    assert not get_user_model().objects.filter(username="Dana").exists()

    username.fill("druiz")
    admin.get_by_role("button", name="Create account").click()
    expect(admin.get_by_role("status")).to_have_text("Account druiz created.")
    link = admin.get_by_role("textbox", name="Link").input_value()
    assert link.startswith(f"{live_server.url}/accounts/set-password/")

    researcher = browser.new_context().new_page()
    researcher.goto(link)
    expect(researcher.get_by_text("Account druiz")).to_be_visible()
    researcher.get_by_label(re.compile(r"^New password:?$")).fill(PASSWORD)
    researcher.get_by_label("New password confirmation").fill(PASSWORD)
    researcher.get_by_role("button", name="Set my password").click()
    expect(researcher.get_by_role("heading", name="Password set")).to_be_visible()
    researcher.get_by_role("link", name="Log in").click()
    log_in_with(researcher, live_server, "druiz", PASSWORD)
    expect(researcher).to_have_url(f"{live_server.url}/")
    expect(researcher.get_by_role("heading", name="Your studies")).to_be_visible()

    researcher.goto(link)  # once only
    expect(researcher.get_by_role("alert")).to_contain_text("This link no longer works")
    researcher.context.close()


def test_a_deactivated_researcher_cannot_log_in(open_as, browser: Browser, live_server):
    UserFactory(username="bruno")
    admin = open_as(AdminFactory())

    admin.goto(live_server.url + reverse("studies:people"))
    admin.get_by_role("link", name="bruno", exact=True).click()
    admin.get_by_role("button", name="Deactivate").click()

    expect(admin.get_by_role("status")).to_have_text("bruno is deactivated and cannot log in.")
    admin.goto(live_server.url + reverse("studies:people"))
    expect(admin.get_by_role("row", name=re.compile(r"^bruno"))).to_contain_text("deactivated")

    bruno = browser.new_context().new_page()
    log_in_with(bruno, live_server, "bruno", "correct horse battery staple")
    expect(bruno.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(bruno).to_have_url(re.compile(r"/accounts/login/"))
    bruno.context.close()
