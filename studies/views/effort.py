"""Time on task: the annotation page's reports of its active time, and the owners' page of the team's pace."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from annotator.csv_writer import csv_lines
from studies.access import get_access
from studies.effort import (
    ASSIGNMENT_COLUMNS,
    EFFORT_COLUMNS,
    active_time_report,
    assignment_rows,
    effort_rows,
    effort_summary,
)
from studies.forms import ActiveTimeForm


@require_POST
def active_time(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Only the assignment's own annotator reports its time; anyone else gets 404, a malformed report 400."""
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    mine = {assignment.pk: assignment for assignment in access.own_assignments(study_issue)}
    if not mine:
        raise Http404
    form = ActiveTimeForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    assignment_id, opened = form.cleaned_data["token"]
    if assignment_id not in mine:
        raise Http404
    active_time_report(assignment=mine[assignment_id], seconds=form.cleaned_data["seconds"], opened=opened)
    return HttpResponse(status=204)


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
