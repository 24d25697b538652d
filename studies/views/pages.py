from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from studies.discussion import mark_read
from studies.exports import LONG_COLUMNS, csv_lines, json_lines, long_rows, wide_columns, wide_rows
from studies.history import hidden_assignments
from studies.models import Membership, Study

ISSUES_PER_PAGE = 50


def get_study_for_user(user, slug: str) -> Study:
    """The study, if the user may see it; 404 otherwise, so that a
    non-member cannot even learn that the study exists."""
    return get_object_or_404(Study.objects.visible_to(user), slug=slug)


def get_study_for_owner(user, slug: str) -> Study:
    """The study, if the user manages it; 404 otherwise, as for a non-member."""
    study = get_study_for_user(user, slug)
    if not study.is_managed_by(user):
        raise Http404
    return study


@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    studies = (
        Study.objects.visible_to(request.user)
        .annotate(issue_count=Count("study_issues", distinct=True))
        .annotate(member_count=Count("memberships__user", distinct=True))
    )
    roles: dict[int, list[str]] = {}
    for study_id, role in Membership.objects.filter(user=request.user).values_list("study_id", "role"):
        roles.setdefault(study_id, []).append(role)
    for study in studies:
        study.my_roles = sorted(roles.get(study.pk, []))
    return render(request, "studies/list.html", {"studies": studies})


@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_study_for_user(request.user, slug)
    issues = (
        study.issues.select_related("repository")
        .without_texts()
        .order_by("repository__owner", "repository__name", "number")
    )
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    if request.htmx:
        return render(request, "studies/detail.html#issue-list", {"study": study, "page": page})
    members = study.memberships.select_related("user").order_by("user__username", "role")
    context = {"study": study, "page": page, "members": members, "my_progress": study.progress(annotator=request.user)}
    roles = study.roles_of(request.user)
    context["can_manage"] = Membership.Role.OWNER in roles or request.user.is_staff
    context["sees_activity"] = study.is_overseen_by(request.user, roles)
    context["annotators"], context["stages"] = study.stage_table(per_annotator=context["sees_activity"])
    if context["sees_activity"]:
        context["team_progress"] = study.progress()
    return render(request, "studies/detail.html", context)


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """Where others mentioned the user. The text stays on the discussion page, which keeps the reveal rule."""
    items = request.user.notifications.select_related(
        "comment__author", "comment__study_issue__study", "comment__study_issue__issue__repository"
    )[:200]
    return render(request, "studies/notifications.html", {"notifications": items})


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    mark_read(request.user)
    return redirect("studies:notifications")


@require_GET
def export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The labelled dataset (CSV or JSON; a row per issue, or per annotation value), streamed: for owners and
    adjudicators."""
    study = get_study_for_user(request.user, slug)
    if not study.is_overseen_by(request.user):
        raise Http404
    as_json = request.GET.get("format") == "json"
    if request.GET.get("layout") == "long":  # the import_annotations format, without what the viewer labels blind
        columns, rows = LONG_COLUMNS, long_rows(study, hidden=hidden_assignments(study, request.user))
    else:
        with_annotators = request.GET.get("with_annotators") == "1"
        columns, rows = (
            wide_columns(study, with_annotators=with_annotators),
            wide_rows(study, with_annotators=with_annotators),
        )
    lines = json_lines(columns, rows) if as_json else csv_lines(columns, rows, excel=request.GET.get("excel") == "1")
    response = StreamingHttpResponse(lines, content_type="application/json" if as_json else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-labels.{"json" if as_json else "csv"}"'
    return response
