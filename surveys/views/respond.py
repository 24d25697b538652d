"""The public survey pages, at /s/<token>/: no account, no JavaScript needed, nothing of the study but the survey.

A respondent's browser holds a random token in a cookie scoped to the survey's path; the database keeps only its
SHA-256 (surveys/services.py). Each section is a plain form that saves when sent (and, with htmx, on every change);
coming back in the same browser resumes at the first section with something unanswered.
"""

import secrets
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annotator.htmx import render_page
from annotator.lockout import client_ip
from surveys import services
from surveys.forms import SectionForm, StartForm, filled_honeypot
from surveys.models import Survey, SurveyResponse
from surveys.questions import sections

REFUSED = 422
TOO_MANY = 429
COOKIE_AGE = 60 * 60 * 24 * 180


def _cookie(survey: Survey) -> str:
    # Named by the token, not the id: a study moved to another instance (studies/transfer.py) keeps its surveys'
    # tokens but not their ids, and its respondents resume there.
    return f"survey_{survey.token}"


def _found(request: HttpRequest, token: str) -> tuple[Survey, SurveyResponse | None]:
    survey = Survey.objects.filter(token=token).first()
    if survey is None:
        raise _NoSuchSurvey
    return survey, services.response_of(survey, request.COOKIES.get(_cookie(survey)))


class _NoSuchSurvey(Exception):
    """A link with no survey behind it (mistyped, or the survey deleted)."""


def public(view):
    """A respondent's page: no account needed, never cached (it shows their answers); a link with no survey gets a
    bare 404 that, like the survey's pages, shows nothing of the app (the app's own 404 page links to the studies)."""

    @login_not_required
    @never_cache
    @require_http_methods(["GET", "POST"])
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _NoSuchSurvey:
            return render(request, "surveys/public/missing.html", status=404)

    return wrapped


def _page(request: HttpRequest, survey: Survey, template: str, context=None, status: int = 200) -> HttpResponse:
    return render(request, f"surveys/public/{template}", {"survey": survey, **(context or {})}, status=status)


def _thanks(request: HttpRequest, survey: Survey) -> HttpResponse:
    return _page(request, survey, "thanks.html")


def _discarded(request: HttpRequest, survey: Survey, response: SurveyResponse | None) -> HttpResponse:
    """The honeypot was filled in: a bot. Its response is dropped; it is thanked as anyone would be."""
    services.response_discard(response)
    page = _thanks(request, survey)
    page.delete_cookie(_cookie(survey), path=reverse("surveys:respond", args=[survey.token]))
    return page


def _resume_url(survey: Survey, response: SurveyResponse) -> str:
    """The section the respondent was at; the review page once past the last."""
    if response.page > len(sections(survey)):
        return reverse("surveys:submit", args=[survey.token])
    return reverse("surveys:section", args=[survey.token, response.page])


def _unavailable(request: HttpRequest, survey: Survey, response: SurveyResponse | None) -> HttpResponse | None:
    """The page to show instead of the survey's, if any: thanks once submitted, or why it cannot be answered."""
    if response is not None and response.submitted:
        return _thanks(request, survey)
    state = survey.state()
    if state == Survey.State.OPEN or (response is not None and state == Survey.State.FULL):
        return None
    return _page(request, survey, "status.html", {"state": state})


@public
def respond(request: HttpRequest, token: str) -> HttpResponse:
    survey, response = _found(request, token)
    if shown := _unavailable(request, survey, response):
        return shown
    if response is not None:
        return redirect(_resume_url(survey, response))
    if request.method == "GET":
        return _page(request, survey, "start.html", {"form": StartForm(consent=bool(survey.consent))})
    form = StartForm(request.POST, consent=bool(survey.consent))
    if filled_honeypot(request.POST):
        return _discarded(request, survey, None)
    if not form.is_valid():
        return _page(request, survey, "start.html", {"form": form}, status=REFUSED)
    if not services.may_start_from(client_ip(request)):
        return _page(request, survey, "status.html", {"state": "busy"}, status=TOO_MANY)
    secret = secrets.token_urlsafe(32)
    response = services.response_start(survey=survey, token=secret)
    started = HttpResponseRedirect(_resume_url(survey, response))
    started.set_cookie(
        _cookie(survey),
        secret,
        max_age=COOKIE_AGE,
        path=reverse("surveys:respond", args=[survey.token]),
        secure=settings.HTTPS or request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return started


@public
def section(request: HttpRequest, token: str, page: int) -> HttpResponse:
    survey, response = _found(request, token)
    if response is None:
        return redirect("surveys:respond", token=survey.token)
    if shown := _unavailable(request, survey, response):
        return shown
    every = sections(survey)
    if not 1 <= page <= len(every):
        return redirect(_resume_url(survey, response))
    current = every[page - 1]
    if request.method == "GET":
        form = SectionForm(initial=response.answers, section=current)
        return _section_page(request, survey, current, every, form)
    form = SectionForm(request.POST, section=current)
    if filled_honeypot(request.POST):
        return _discarded(request, survey, response)
    if not form.is_valid():
        return _section_page(request, survey, current, every, form, status=REFUSED)
    services.response_save(response=response, answers=form.answers(), page=_going_to(request, page))
    if request.htmx:
        return _section_page(request, survey, current, every, form, saved=True)
    return redirect(_resume_url(survey, response))


def _going_to(request: HttpRequest, page: int) -> int:
    """Where a save sends the respondent: htmx saves on the spot; the buttons go back or on."""
    if request.htmx:
        return page
    return max(page - 1, 1) if request.POST.get("go") == "back" else page + 1


def _section_page(request, survey, current, every, form, *, saved: bool = False, status: int = 200) -> HttpResponse:
    for asked in current.questions:
        asked.field = form[asked.id]
    context = {"survey": survey, "section": current, "count": len(every), "form": form, "saved": saved}
    return render_page(request, "surveys/public/section.html", context, partial="save-state", status=status)


@public
def submit(request: HttpRequest, token: str) -> HttpResponse:
    survey, response = _found(request, token)
    if response is None:
        return redirect("surveys:respond", token=survey.token)
    if shown := _unavailable(request, survey, response):
        return shown
    if request.method == "POST":
        if filled_honeypot(request.POST):
            return _discarded(request, survey, response)
        services.response_submit(response=response)
        return redirect("surveys:respond", token=survey.token)
    overview = [
        (each, sum(asked.id in response.answers for asked in each.questions), len(each.questions))
        for each in sections(survey)
    ]
    return _page(request, survey, "review.html", {"overview": overview, "count": len(overview)})
