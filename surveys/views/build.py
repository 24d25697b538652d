"""The owners' survey pages: the list, building a survey from the codebook, a survey's page (its link, status,
closing and reopening), and the download of its responses. Owners only: to anyone else they do not exist."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.bidi import isolate
from annotator.csv_writer import csv_lines
from studies.access import StudyAccess, get_access
from studies.codebook_versions import codebook_snapshot
from surveys import services
from surveys.forms import SurveyBuildForm, SurveyScheduleForm
from surveys.models import Survey
from surveys.questions import sections

REFUSED = 422


def _access(request: HttpRequest, slug: str) -> StudyAccess:
    return get_access(request.user, slug, require="may_manage_surveys")


def _survey(access: StudyAccess, pk: int) -> Survey:
    return get_object_or_404(access.study.surveys, pk=pk)


@require_GET
def survey_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    surveys = access.study.surveys.annotate(
        started=Count("responses"), submitted=Count("responses", filter=Q(responses__submitted_at__isnull=False))
    )
    return render(request, "surveys/list.html", {"study": access.study, "access": access, "surveys": surveys})


@require_http_methods(["GET", "POST"])
def survey_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    study = access.study
    if request.method == "GET":
        form = SurveyBuildForm(snapshot=codebook_snapshot(study))
        return render(request, "surveys/new.html", {"study": study, "form": form})
    # Frozen from the codebook as it is now, recorded as a version: the form is checked against that snapshot.
    version = services.codebook_version_for_survey(study, user=request.user)
    form = SurveyBuildForm(request.POST, snapshot=version.snapshot if version else {"fields": []})
    if not form.is_valid():
        return render(request, "surveys/new.html", {"study": study, "form": form}, status=REFUSED)
    survey = services.survey_create(study=study, user=request.user, version=version, spec=form.spec())
    messages.success(request, f"Survey “{isolate(survey.title)}” built from codebook version {version.number}.")
    return redirect("surveys:detail", slug=study.slug, pk=survey.pk)


def _detail_page(
    request: HttpRequest, access: StudyAccess, survey: Survey, schedule: SurveyScheduleForm | None = None
) -> HttpResponse:
    context = {
        "study": access.study,
        "survey": survey,
        "state": Survey.State(survey.state()),
        "link": request.build_absolute_uri(reverse("surveys:respond", args=[survey.token])),
        "started": survey.responses.count(),
        "submitted": survey.responses.filter(submitted_at__isnull=False).count(),
        "sections": sections(survey),
        "version": access.study.codebook_versions.filter(number=survey.codebook_version).first(),
        "schedule": schedule or SurveyScheduleForm(instance=survey),
    }
    return render(request, "surveys/detail.html", context, status=REFUSED if schedule else 200)


@require_GET
def survey_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    return _detail_page(request, access, _survey(access, pk))


@require_POST
def survey_schedule(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    survey = _survey(access, pk)
    form = SurveyScheduleForm(request.POST, instance=survey)
    if not form.is_valid():
        survey.refresh_from_db()  # the page shows the survey as stored, the form as typed
        return _detail_page(request, access, survey, form)
    form.save()
    messages.success(request, f"Saved: the survey is {Survey.State(survey.state()).label}.")
    return redirect("surveys:detail", slug=slug, pk=survey.pk)


@require_POST
def survey_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    survey = _survey(access, pk)
    services.survey_close(survey)
    messages.success(request, "The survey is closed: nobody can start or change a response.")
    return redirect("surveys:detail", slug=slug, pk=survey.pk)


@require_POST
def survey_reopen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    survey = _survey(access, pk)
    services.survey_reopen(survey)
    messages.success(request, f"The survey is {Survey.State(survey.state()).label}.")
    return redirect("surveys:detail", slug=slug, pk=survey.pk)


@require_GET
def responses_csv(request: HttpRequest, slug: str, pk: int) -> StreamingHttpResponse:
    access = _access(request, slug)
    survey = _survey(access, pk)
    header, rows = services.response_rows(survey)
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-survey-{survey.pk}-responses.csv"'
    return response
