"""History: an issue's tab, the study's activity feed, and the CSV of everything (studies/history.py)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studies.history import issue_history, study_activity, write_csv
from studies.views.annotate import get_study_issue, issue_pane
from studies.views.pages import get_study_for_owner, get_study_for_user


@require_GET
def issue_history_page(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    study = get_study_for_user(request.user, slug)
    study_issue = get_study_issue(study, owner, repo, number)
    roles = study.roles_of(request.user)
    context = {
        **issue_pane(request, study, study_issue.issue, roles),
        "study_issue": study_issue,
        "changes": issue_history(study_issue, request.user),
    }
    return render(request, "studies/history.html", context)


@require_GET
def activity(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest changes in the study: for its owners and adjudicators."""
    study = get_study_for_user(request.user, slug)
    if not study.is_overseen_by(request.user):
        raise Http404
    context = {
        "study": study,
        "changes": study_activity(study, request.user),
        "can_export": study.is_managed_by(request.user),
    }
    return render(request, "studies/activity.html", context)


@require_GET
def history_export(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_study_for_owner(request.user, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-history.csv"'
    write_csv(list(reversed(study_activity(study, request.user, limit=None))), response)
    return response
