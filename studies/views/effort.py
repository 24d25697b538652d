"""Time on task: the annotation and reconciliation pages' reports of their active time, and the owners' page of
the team's pace."""

from datetime import datetime
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from annotator.csv_writer import csv_lines
from studies.access import get_access
from studies.effort import (
    ASSIGNMENT_COLUMNS,
    EFFORT_COLUMNS,
    RECONCILING,
    active_time_report,
    assignment_rows,
    effort_rows,
    effort_summary,
    reconciliation_time_report,
)
from studies.forms import ActiveTimeForm


class BadReport(Exception):
    """A report that is no time, or whose token the server did not sign: 400, saying what is wrong."""


def answers_bad_reports(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadReport as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    return wrapper


@require_POST
@answers_bad_reports
def active_time(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Only the assignment's own annotator reports its time; anyone else gets 404, a malformed report 400."""
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    mine = {assignment.pk: assignment for assignment in access.own_assignments(study_issue)}
    if not mine:
        raise Http404
    seconds, work, opened = _report(request)
    if work.get("assignment") not in mine:
        raise Http404
    active_time_report(assignment=mine[work["assignment"]], seconds=seconds, opened=opened)
    return HttpResponse(status=204)


@require_POST
@answers_bad_reports
def reconciliation_time(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Only those who may reconcile the issue report their time on it; anyone else gets 404, a malformed report 400."""
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    if not access.may_reconcile(study_issue):
        raise Http404
    seconds, work, opened = _report(request)
    if work.get("study_issue") != study_issue.pk or work.get("stage") not in RECONCILING:
        raise Http404
    reconciliation_time_report(
        study_issue=study_issue, user=request.user, stage=work["stage"], seconds=seconds, opened=opened
    )
    return HttpResponse(status=204)


def _report(request: HttpRequest) -> tuple[float, dict, datetime]:
    """The seconds, the work and the page's opening time of a report; BadReport (400) saying what is wrong."""
    form = ActiveTimeForm(request.POST)
    if not form.is_valid():
        raise BadReport("; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()))
    work, opened = form.cleaned_data["token"]
    return form.cleaned_data["seconds"], work, opened


@require_GET
def effort(request: HttpRequest, slug: str) -> HttpResponse:
    """Each annotator's time on task and pace, and when the study's assignments will be done."""
    access = get_access(request.user, slug, require="may_see_effort")
    context = {"study": access.study, "access": access, "summary": effort_summary(access.study)}
    return render(request, "studies/effort.html", context)


@require_GET
def effort_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The figures per annotator and stage, or (`?layout=assignments`) each assignment's times."""
    access = get_access(request.user, slug, require="may_see_effort")
    study = access.study
    if request.GET.get("layout") == "assignments":
        name, lines = "effort-assignments", csv_lines(ASSIGNMENT_COLUMNS, assignment_rows(study))
    else:
        name, lines = "effort", csv_lines(EFFORT_COLUMNS, effort_rows(effort_summary(study)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-{name}.csv"'
    return response
