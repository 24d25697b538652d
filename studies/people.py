"""People: admins create researchers' accounts, switch them off and on, and hand out links to set a password.

The app sends no mail, so the admin passes the link on. It carries Django's password-reset token: it expires
after `PASSWORD_RESET_TIMEOUT` and dies once used, since the token hashes the password it replaces; ours also
hashes whether the account is active, so that no link works while its person is deactivated.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from studies.models import Membership


class PersonError(ValueError):
    pass


class SetPasswordTokens(PasswordResetTokenGenerator):
    key_salt = "annotator.people.SetPasswordTokens"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


set_password_tokens = SetPasswordTokens()


def people_with_roles() -> QuerySet:
    """Every account, by username, with its memberships and their studies (two queries in all)."""
    memberships = Membership.objects.select_related("study").order_by("study__name", "role")
    return (
        get_user_model()
        .objects.order_by(Lower("username"), "username")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
    )


def studies_and_roles(person) -> list[tuple]:
    """(study, [roles]) of a person from `people_with_roles()`, by study name."""
    roles: dict = {}
    for membership in person.memberships.all():
        roles.setdefault(membership.study, []).append(membership.role)
    return list(roles.items())


def set_password_path(person) -> str:
    """The path of a fresh link with which `person` sets a password; the view makes it absolute."""
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    return reverse("password_set", args=[uid, set_password_tokens.make_token(person)])


@transaction.atomic
def person_create(*, username: str, first_name: str = "", last_name: str = "", email: str = ""):
    """A researcher who cannot log in until they set a password through `set_password_path`."""
    person = get_user_model()(username=username, first_name=first_name, last_name=last_name, email=email)
    person.set_unusable_password()
    person.full_clean()
    person.save()
    return person


def why_unchangeable(person, by) -> str:
    """Why `by` may not reset or switch off `person`'s account ("" if they may). A staff admin who could reset a
    superuser's password would get the link, and with it the superuser's rights: other admins are the
    superusers' to manage."""
    if person.pk == by.pk:
        return "This is your own account: change your password from the menu under your name."
    if (person.is_staff or person.is_superuser) and not by.is_superuser:
        return "Only a superuser can reset or deactivate another admin's account."
    return ""


def person_set_active(*, person, active: bool, by) -> None:
    """Deactivated people cannot log in, and their sessions and set-password links end; their work stays."""
    if why := why_unchangeable(person, by):
        raise PersonError(why)
    person.is_active = active
    person.save(update_fields=["is_active"])


def password_reset(*, person, by) -> str:
    """The current password stops working at once (and with it the person's sessions); the link sets a new one."""
    if why := why_unchangeable(person, by):
        raise PersonError(why)
    person.set_unusable_password()
    person.save(update_fields=["password"])
    return set_password_path(person)
