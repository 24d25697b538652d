"""History: an issue's tab, the study's activity feed, and the CSV of everything (studies/history.py)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studies.access import get_access
from studies.history import issue_history, study_activity, write_history_csv
from studies.models import IssueStage
from studies.views.annotate import issue_pane


@require_GET
def issue_history_page(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    context = {
        **issue_pane(request, access, study_issue),
        "study_issue": study_issue,
        "stage_shown": IssueStage(access.stage_shown(study_issue)).label,
        "changes": issue_history(study_issue, access),
    }
    return render(request, "studies/history.html", context)


@require_GET
def activity(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest changes in the study: for its owners and adjudicators."""
    access = get_access(request.user, slug, require="oversees")
    context = {"study": access.study, "access": access, "changes": study_activity(access)}
    return render(request, "studies/activity.html", context)


@require_GET
def history_export(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_download_history")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-history.csv"'
    write_history_csv(list(reversed(study_activity(access, limit=None))), response)
    return response
