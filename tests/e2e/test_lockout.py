"""Password guessing, walked in Chromium: behind the reverse proxy an outsider's guesses lock only the outsider, and
a run of wrong current passwords on the password change form ends at the lockout page."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import TEST_PASSWORD, UserFactory
from tests.helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def behind_proxy(open_as, address: str) -> Page:
    """A browser at `address`: the proxy in front of the app says so in X-Forwarded-For."""
    page = open_as(None)
    page.context.set_extra_http_headers({"X-Forwarded-For": address})
    return page


def try_password(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_outsider_guessing_the_admins_password_does_not_lock_the_admin_out(open_as, live_server, settings):
    settings.ANNOTATOR_TRUSTED_PROXIES = 1
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    outsider = behind_proxy(open_as, "203.0.113.66")
    for _ in range(4):
        try_password(outsider, live_server, "admin", "letmein")
        expect(outsider.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    try_password(outsider, live_server, "admin", "letmein")
    expect(outsider.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()

    admin = behind_proxy(open_as, "198.51.100.7")
    try_password(admin, live_server, "admin", TEST_PASSWORD)

    expect(admin.get_by_role("heading", name="All studies")).to_be_visible()


def test_wrong_current_passwords_lock_the_password_change_form(page: Page, live_server):
    user = UserFactory()
    log_in(page, live_server, user)
    page.get_by_text(user.username).click()
    page.get_by_role("link", name="Change password").click()

    def change(old: str) -> None:
        page.get_by_label("Old password").fill(old)
        page.locator("#id_new_password1").fill("a brand new passphrase 2026")
        page.locator("#id_new_password2").fill("a brand new passphrase 2026")
        page.get_by_role("button", name="Change my password").click()

    for _ in range(4):  # the mistake: guessing at the current password
        change("my old one?")
        expect(page.get_by_text("Your old password was entered incorrectly")).to_be_visible()
    change("my old one?")
    expect(page.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/password_change/")
    change(TEST_PASSWORD)  # even the right one, for now

    expect(page.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
