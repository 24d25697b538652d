"""Admins manage people in the app: accounts with their studies and roles, new researchers with a one-time link
to set a password, deactivation, password resets. Nobody else reaches any of it."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from studies.forms import PersonForm
from studies.people import SetPasswordTokens
from tests.factories import TEST_PASSWORD, MembershipFactory, StudyFactory, UserFactory
from tests.helpers import FormPage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and long passphrase"
User = get_user_model()


def link_on(response) -> str:
    """The set-password link the person page shows, as a path."""
    found = re.search(r'value="http://testserver(/accounts/set-password/[^"]+)"', response.text)
    assert found, "no link shown"
    return found.group(1)


def set_password(path: str, password: str = NEW_PASSWORD) -> int:
    """Follow the link as the new researcher would, in a browser of their own; the status of the final page."""
    browser = Client()
    form = browser.get(path, follow=True)
    if "Set my password" not in form.text:
        return 410  # the page says the link no longer works
    response = browser.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}, follow=True
    )
    return response.status_code


def logs_in(username: str, password: str = NEW_PASSWORD) -> bool:
    """Through the login form, as a person does (the lockout backend wants a request)."""
    return Client().post(reverse("login"), {"username": username, "password": password}).status_code == 302


def create(client, **fields):
    data = {"username": "dana", "first_name": "Dana", "last_name": "Ruiz", "email": "", **fields}
    return client.post(reverse("studies:person_create"), data, follow=True)


def test_it_lists_every_account_with_its_studies_and_roles(client, admin_user, django_assert_max_num_queries):
    study = StudyFactory(name="TF silent bugs")
    alice = MembershipFactory(study=study, user__username="alice", role="owner").user
    MembershipFactory(study=study, user=alice, role="annotator")
    UserFactory(username="bruno", is_active=False)
    client.force_login(admin_user)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("studies:people"))

    assert response.status_code == 200
    row = re.search(r"<tr>\s*<td><a[^>]*>alice</a>.*?</tr>", response.text, re.S).group(0)
    assert "<bdi>TF silent bugs</bdi>: annotator, owner" in row
    assert "deactivated" in re.search(r"<tr>\s*<td><a[^>]*>bruno</a>.*?</tr>", response.text, re.S).group(0)


def test_an_admin_creates_a_researcher_who_sets_a_password_with_the_link_and_logs_in(client, admin_user):
    client.force_login(admin_user)

    response = create(client)

    dana = User.objects.get(username="dana")
    assert (dana.get_full_name(), dana.is_staff, dana.is_active, dana.has_usable_password()) == (
        "Dana Ruiz",
        False,
        True,
        False,
    )
    assert not logs_in("dana", "")
    path = link_on(response)
    assert "shown only now" in response.text
    assert set_password(path) == 200
    assert logs_in("dana")


def test_the_link_is_shown_once(client, admin_user):
    client.force_login(admin_user)
    response = create(client)

    again = client.get(response.redirect_chain[-1][0])

    assert "set-password" not in again.text


def test_the_link_works_once(client, admin_user):
    client.force_login(admin_user)
    path = link_on(create(client))

    assert set_password(path) == 200
    assert set_password(path, "someone else's passphrase") == 410
    assert logs_in("dana")


def test_the_link_expires(client, admin_user, settings, monkeypatch):
    client.force_login(admin_user)
    path = link_on(create(client))
    later = SetPasswordTokens._now(SetPasswordTokens()) + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(SetPasswordTokens, "_now", lambda self: later)

    assert set_password(path) == 410
    assert not logs_in("dana")


def test_a_taken_username_is_refused_at_the_field_with_what_was_typed(client, admin_user):
    UserFactory(username="dana")
    client.force_login(admin_user)

    response = client.post(
        reverse("studies:person_create"), {"username": "Dana", "first_name": "Dana", "email": "dana@example.org"}
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("id_username") == ["The username “dana” is taken already."]
    assert (page.value("id_username"), page.value("id_first_name"), page.value("id_email")) == (
        "Dana",
        "Dana",
        "dana@example.org",
    )
    assert User.objects.filter(username__iexact="dana").count() == 1


def test_a_username_taken_while_the_form_was_checked_is_refused_at_the_field(client, admin_user, monkeypatch):
    def taken_meanwhile(form):
        UserFactory(username=form.cleaned_data["username"])
        return form.cleaned_data["username"]

    monkeypatch.setattr(PersonForm, "clean_username", taken_meanwhile)
    monkeypatch.setattr(PersonForm, "validate_unique", lambda form: None)
    client.force_login(admin_user)

    response = client.post(reverse("studies:person_create"), {"username": "dana"})

    assert response.status_code == 422
    assert FormPage(response.text).errors_at("id_username") == ["The username “dana” is taken already."]
    assert User.objects.filter(username="dana").count() == 1


def test_a_username_with_spaces_is_refused_and_nothing_is_written(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("studies:person_create"), {"username": "dana ruiz"})

    assert response.status_code == 422
    assert FormPage(response.text).errors_at("id_username")
    assert not User.objects.filter(username="dana ruiz").exists()


def test_a_deactivated_person_cannot_log_in_and_is_logged_out(client, admin_user):
    bruno = UserFactory(username="bruno")
    session = Client()
    session.force_login(bruno)
    client.force_login(admin_user)

    client.post(reverse("studies:person_active", args=[bruno.pk]), {"active": "0"})

    assert not logs_in("bruno", TEST_PASSWORD)
    assert session.get(reverse("studies:list")).status_code == 302  # to the login page
    client.post(reverse("studies:person_active", args=[bruno.pk]), {"active": "1"})
    assert logs_in("bruno", TEST_PASSWORD)


def test_the_link_does_not_work_while_its_person_is_deactivated(client, admin_user):
    client.force_login(admin_user)
    path = link_on(create(client))
    dana = User.objects.get(username="dana")

    client.post(reverse("studies:person_active", args=[dana.pk]), {"active": "0"})

    assert set_password(path) == 410
    dana.refresh_from_db()
    assert not dana.has_usable_password()


def test_nobody_deactivates_or_resets_themself(client, admin_user):
    client.force_login(admin_user)

    for url, data in (("studies:person_active", {"active": "0"}), ("studies:person_password", {})):
        response = client.post(reverse(url, args=[admin_user.pk]), data, follow=True)
        assert response.status_code == 200
        assert 'class="message message-error"' in response.text

    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("target", ["superuser", "staff"])
def test_a_staff_admin_cannot_take_over_another_admins_account(client, target):
    """Resetting a superuser's password would hand a staff admin the link to become them."""
    staff = UserFactory(username="staff", is_staff=True)
    other = UserFactory(username="other", is_staff=True, is_superuser=target == "superuser")
    client.force_login(staff)

    page = client.get(reverse("studies:person", args=[other.pk]))
    assert "Only a superuser can reset or deactivate another admin" in page.text
    assert "Reset password" not in page.text
    for url, data in (("studies:person_password", {}), ("studies:person_active", {"active": "0"})):
        response = client.post(reverse(url, args=[other.pk]), data, follow=True)
        assert "Only a superuser can reset or deactivate another admin" in response.text
        assert "/accounts/set-password/" not in response.text

    other.refresh_from_db()
    assert other.is_active and other.check_password(TEST_PASSWORD)


def test_a_superuser_resets_a_staff_admins_password(client, admin_user):
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(admin_user)

    response = client.post(reverse("studies:person_password", args=[staff.pk]), follow=True)

    assert link_on(response).startswith("/accounts/set-password/")
    staff.refresh_from_db()
    assert not staff.has_usable_password()


def test_a_password_reset_ends_the_old_password_and_gives_a_new_link(client, admin_user):
    bruno = UserFactory(username="bruno")
    client.force_login(admin_user)

    response = client.post(reverse("studies:person_password", args=[bruno.pk]), follow=True)

    assert not logs_in("bruno", TEST_PASSWORD)
    assert set_password(link_on(response)) == 200
    assert logs_in("bruno")


def test_a_new_link_ends_the_previous_one(client, admin_user):
    bruno = UserFactory(username="bruno")
    client.force_login(admin_user)
    first = link_on(client.post(reverse("studies:person_password", args=[bruno.pk]), follow=True))
    second = link_on(client.post(reverse("studies:person_password", args=[bruno.pk]), follow=True))

    assert set_password(first) == 410
    assert set_password(second) == 200


def test_a_person_page_shows_their_studies_and_roles(client, admin_user):
    study = StudyFactory(name="TF silent bugs")
    chen = MembershipFactory(study=study, user__username="chen", role="adjudicator").user
    MembershipFactory(study=study, user=chen, role="annotator")
    client.force_login(admin_user)

    response = client.get(reverse("studies:person", args=[chen.pk]))

    assert "TF silent bugs</a>: adjudicator, annotator" in response.text


@pytest.mark.parametrize("who", ["researcher", "owner"])
def test_it_does_not_exist_for_anyone_but_admins(client, who):
    person = UserFactory()
    user = MembershipFactory(role="owner").user if who == "owner" else UserFactory()
    client.force_login(user)

    for name, args in (("people", []), ("person_create", []), ("person", [person.pk])):
        assert client.get(reverse(f"studies:{name}", args=args)).status_code == 404
    for name, args in (("person_create", []), ("person_active", [person.pk]), ("person_password", [person.pk])):
        assert client.post(reverse(f"studies:{name}", args=args), {"username": "x", "active": "0"}).status_code == 404
    person.refresh_from_db()
    assert person.is_active and not User.objects.filter(username="x").exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("studies:people"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_changes_need_post_and_a_csrf_token(admin_user):
    bruno = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.get(reverse("studies:person_active", args=[bruno.pk])).status_code == 405
    assert client.post(reverse("studies:person_active", args=[bruno.pk]), {"active": "0"}).status_code == 403
    assert client.post(reverse("studies:person_create"), {"username": "dana"}).status_code == 403
    bruno.refresh_from_db()
    assert bruno.is_active and not User.objects.filter(username="dana").exists()


def test_admins_find_people_in_the_top_bar(client, admin_user):
    client.force_login(admin_user)

    assert f'href="{reverse("studies:people")}"' in client.get(reverse("studies:list")).text
