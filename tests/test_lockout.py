"""Password guessing behind the reverse proxy: failures count against the client's own address, so an outsider
cannot lock a colleague out, a guesser who tries many usernames from one address is stopped, and the password
change form is throttled like the login."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.1"  # what gunicorn sees as REMOTE_ADDR behind Docker's published port
OUTSIDER, COLLEAGUE = "203.0.113.66", "198.51.100.7"
LOCKED = "Too many wrong passwords"


def through_proxy(address: str, spoofed: str = "") -> Client:
    """A browser at `address` behind the proxy, which appends it to whatever X-Forwarded-For the browser sent."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{spoofed}, {address}" if spoofed else address)


def log_in(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture
def one_proxy(settings):
    settings.ANNOTATOR_TRUSTED_PROXIES = 1


def test_it_does_not_let_an_outsider_lock_out_a_colleague_behind_the_proxy(one_proxy):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    outsider = through_proxy(OUTSIDER)
    answers = [log_in(outsider, "admin", "guess").status_code for _ in range(6)]

    at_work = log_in(through_proxy(COLLEAGUE), "admin")

    assert answers == [200, 200, 200, 200, 429, 429]  # the outsider is locked out
    assert at_work.status_code == 302 and int(at_work.client.session["_auth_user_id"]) == admin.pk


def test_it_counts_against_the_address_the_proxy_saw_not_one_the_browser_claims(one_proxy):
    UserFactory(username="dana")
    for claimed in range(5):  # a new made-up address each time, in front of the real one
        log_in(through_proxy(OUTSIDER, spoofed=f"10.0.0.{claimed}"), "dana", "guess")

    assert log_in(through_proxy(OUTSIDER, spoofed="10.0.0.99"), "dana").status_code == 429
    assert log_in(through_proxy(COLLEAGUE), "dana").status_code == 302


def test_it_believes_no_forwarded_address_unless_told_how_many_proxies_to_trust():
    """The default: clients connect directly, and X-Forwarded-For is whatever they wrote."""
    UserFactory(username="dana")
    for claimed in range(5):
        log_in(Client(REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR=f"10.0.0.{claimed}"), "dana", "guess")

    assert log_in(Client(REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="10.0.0.99"), "dana").status_code == 429
    assert log_in(Client(REMOTE_ADDR=COLLEAGUE), "dana").status_code == 302


def test_a_garbled_forwarded_address_counts_against_the_proxys_own(one_proxy):
    UserFactory(username="dana")
    garbled = through_proxy("unknown")

    answers = [log_in(garbled, "dana", "guess").status_code for _ in range(5)]

    assert answers == [200, 200, 200, 200, 429]
    assert log_in(Client(REMOTE_ADDR=PROXY), "dana").status_code == 429


def test_guessing_across_many_usernames_locks_the_address(one_proxy):
    """Four guesses for each of many usernames never reach five for one; thirty from one address lock it."""
    users = [UserFactory() for _ in range(8)]
    guesser = through_proxy(OUTSIDER)
    answers = [log_in(guesser, user.username, "guess").status_code for user in users for _ in range(4)]

    assert answers[:29] == [200] * 29 and set(answers[29:]) == {429}
    assert log_in(guesser, users[0].username).status_code == 429  # even the right password, from there
    assert log_in(through_proxy(COLLEAGUE), users[0].username).status_code == 302


def test_logging_in_to_ones_own_account_does_not_clear_the_guesses_from_that_address(one_proxy):
    own = UserFactory()
    targets = [UserFactory() for _ in range(8)]
    guesser = through_proxy(OUTSIDER)
    for target in targets[:7]:
        for _ in range(4):
            log_in(guesser, target.username, "guess")
        assert log_in(guesser, own.username).status_code == 302
        guesser.logout()

    answers = [log_in(guesser, targets[7].username, "guess").status_code for _ in range(2)]

    assert answers == [200, 429]  # the 29th and 30th guesses from the address


def test_a_typo_then_the_right_password_starts_the_count_again(one_proxy):
    user = UserFactory()
    browser = through_proxy(COLLEAGUE)
    for _ in range(4):
        log_in(browser, user.username, "typo")
    assert log_in(browser, user.username).status_code == 302
    browser.logout()

    assert [log_in(browser, user.username, "typo").status_code for _ in range(4)] == [200] * 4


def change_password(client: Client, old: str, new: str = "a brand new passphrase 2026"):
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": new})


def test_wrong_current_passwords_lock_the_password_change_form(client):
    user = UserFactory()
    client.force_login(user)

    answers = [change_password(client, "guess") for _ in range(5)]
    right = change_password(client, TEST_PASSWORD)

    assert all("Your old password was entered incorrectly" in answer.text for answer in answers[:4])
    assert answers[4].status_code == 429 and LOCKED in answers[4].text
    assert right.status_code == 429 and LOCKED in right.text
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)  # nothing changed
    assert client.get(reverse("studies:list")).status_code == 200  # the rest of the app still works
    assert log_in(Client(), user.username).status_code == 429  # the guesses count as failed logins


def test_the_password_change_form_still_changes_the_password():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    change_password(client, "typo")

    response = change_password(client, TEST_PASSWORD)

    assert response.status_code == 302 and response.url == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase 2026")
