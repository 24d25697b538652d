from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_login_page_to_anonymous_users(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text


def test_it_logs_a_researcher_in_and_lands_on_their_studies(client, researcher):
    response = client.post(reverse("login"), {"username": researcher.username, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("studies:list")
    assert client.get(reverse("studies:list")).context["user"] == researcher


def test_it_rejects_a_wrong_password_with_a_message(client, researcher):
    response = client.post(reverse("login"), {"username": researcher.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert not response.context["user"].is_authenticated


def test_it_follows_next_after_login(client, researcher, study):
    url = reverse("studies:detail", args=[study.slug])

    response = client.post(
        f"{reverse('login')}?next={url}", {"username": researcher.username, "password": TEST_PASSWORD, "next": url}
    )

    assert response.url == url


def test_it_logs_out_only_by_post(client, researcher):
    client.force_login(researcher)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.url == reverse("login")
    assert client.get(reverse("studies:list")).status_code == 302


def test_it_changes_the_password(client, researcher):
    client.force_login(researcher)
    new_password = "a much longer passphrase 2026"

    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.url == reverse("password_change_done")
    researcher.refresh_from_db()
    assert researcher.check_password(new_password)


def test_it_refuses_a_weak_new_password(client, researcher):
    client.force_login(researcher)

    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )

    assert response.status_code == 200
    assert "This password is too common." in response.text
    researcher.refresh_from_db()
    assert researcher.check_password(TEST_PASSWORD)


def test_it_requires_login_to_change_a_password(client):
    response = client.get(reverse("password_change"))
    assert response.url.startswith(reverse("login"))


def test_it_keeps_researchers_out_of_the_admin(client, researcher):
    client.force_login(researcher)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert client.get(reverse("admin:issues_issue_changelist")).status_code == 302


def test_it_opens_the_admin_to_admins(client, admin_user):
    client.force_login(admin_user)

    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:issues_issue_changelist")).status_code == 200
    assert client.get(reverse("admin:studies_study_changelist")).status_code == 200


def test_it_links_the_admin_only_for_admins(client, researcher, admin_user):
    client.force_login(researcher)
    assert reverse("admin:index") not in client.get(reverse("studies:list")).text

    client.force_login(admin_user)
    assert reverse("admin:index") in client.get(reverse("studies:list")).text


def test_it_lists_demo_accounts_on_the_login_page_only_in_demo_mode(client, settings):
    settings.DEMO_MODE = False
    assert "Demo accounts" not in client.get(reverse("login")).text

    settings.DEMO_MODE = True
    response = client.get(reverse("login"))
    assert "Demo accounts" in response.text
    assert "alice" in response.text


def test_it_answers_health_checks_without_login(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.text == "ok"


def test_browsers_asking_for_favicon_ico_get_the_icon_without_login(client):
    response = client.get("/favicon.ico")
    icon = client.get(response["Location"])
    icon.close()

    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


def test_createsuperuser_makes_an_admin_who_can_log_in(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long admin passphrase 2026")
    call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.org")

    boss = get_user_model().objects.get(username="boss")
    assert boss.is_staff and boss.is_superuser
    login = client.post(reverse("login"), {"username": "boss", "password": "a long admin passphrase 2026"})
    assert login.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_five_wrong_passwords_lock_the_username_from_that_address_for_a_while(client):
    user = UserFactory(username="dana")
    login = reverse("login")
    for _ in range(4):
        wrong = client.post(login, {"username": "dana", "password": "not it"})
        assert wrong.status_code == 200 and "Please enter a correct username and password" in wrong.text

    fifth = client.post(login, {"username": "dana", "password": "not it"})
    locked = client.post(login, {"username": "dana", "password": TEST_PASSWORD})  # even the right one, now
    other = Client().post(login, {"username": UserFactory().username, "password": TEST_PASSWORD})

    assert fifth.status_code == 429 and "Too many wrong passwords" in fifth.text
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.text
    assert "_auth_user_id" not in client.session
    assert other.status_code == 302  # another account is not affected
    call_command("axes_reset_username", "dana")
    assert client.post(login, {"username": "dana", "password": TEST_PASSWORD}).status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_session_expires_after_a_week_and_the_next_page_asks_to_log_in_again(client, researcher):
    client.post(reverse("login"), {"username": researcher.username, "password": TEST_PASSWORD})
    session = Session.objects.get(session_key=client.cookies["sessionid"].value)
    assert session.expire_date - timezone.now() == pytest.approx(timedelta(days=7), abs=timedelta(minutes=1))
    assert client.cookies["sessionid"]["max-age"] == 7 * 24 * 3600

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("studies:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
