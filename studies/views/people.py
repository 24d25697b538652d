"""People: admins manage accounts in the app (the Django admin is for raw data). Everyone else gets 404.

A set-password link is shown once, on the person's page right after it was made (kept in the session until then,
so that a reload does not post again); a new one can be made at any time, and making it ends the old one.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studies import people
from studies.access import may_manage_people
from studies.forms import PersonForm

REFUSED = 422
LINK = "people:set-password-link"  # session key: (person's pk, link), shown once


def _admin_only(request: HttpRequest) -> None:
    if not may_manage_people(request.user):
        raise Http404


def _person(request: HttpRequest, pk: int):
    _admin_only(request)
    return get_object_or_404(get_user_model(), pk=pk)


def _show_link_once(request: HttpRequest, person, path: str) -> None:
    request.session[LINK] = (person.pk, request.build_absolute_uri(path))


@require_GET
def people_list(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    everyone = [(person, people.studies_and_roles(person)) for person in people.people_with_roles()]
    return render(request, "studies/people.html", {"people": everyone})


@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = PersonForm(request.POST) if request.method == "POST" else PersonForm()
    if form.is_bound and form.is_valid():
        try:
            person = people.person_create(**form.cleaned_data)
        except (IntegrityError, ValidationError):  # another admin took the username since the form was checked
            form.add_error("username", f"The username “{form.cleaned_data['username']}” is taken already.")
        else:
            _show_link_once(request, person, people.set_password_path(person))
            messages.success(request, f"Account {person.username} created.")
            return redirect("studies:person", pk=person.pk)
    return render(request, "studies/person_create.html", {"form": form}, status=REFUSED if form.is_bound else 200)


@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    shown_pk, link = request.session.pop(LINK, (None, None))
    context = {
        "person": person,
        "studies": people.studies_and_roles(people.people_with_roles().get(pk=person.pk)),
        "link": link if shown_pk == person.pk else None,
        "link_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
        "unchangeable": people.why_unchangeable(person, request.user),
    }
    return render(request, "studies/person.html", context)


@require_POST
def person_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (`active=0`) or reactivate (`active=1`); nothing is typed, so a refusal is a message."""
    person = _person(request, pk)
    active = request.POST.get("active") == "1"
    try:
        people.person_set_active(person=person, active=active, by=request.user)
    except people.PersonError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"{person.username} {'can log in again' if active else 'is deactivated and cannot log in'}."
        )
    return redirect("studies:person", pk=pk)


@require_POST
def person_password(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    try:
        path = people.password_reset(person=person, by=request.user)
    except people.PersonError as error:
        messages.error(request, str(error))
    else:
        _show_link_once(request, person, path)
        messages.success(request, f"{person.username}'s password no longer works; give them the link below.")
    return redirect("studies:person", pk=pk)
