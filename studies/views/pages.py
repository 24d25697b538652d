from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from annotator.csv_writer import csv_lines
from annotator.htmx import render_page
from studies.access import StudyAccess, get_access, may_create_studies
from studies.codebook_versions import rechecks
from studies.discussion import mark_read, notifications_of
from studies.export_profiles import profile_lines
from studies.exports import LONG_COLUMNS, json_lines, long_rows, wide_columns, wide_rows
from studies.models import Membership, Study

ISSUES_PER_PAGE = 50


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
    return render(request, "studies/list.html", {"studies": studies, "may_create": may_create_studies(request.user)})


@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug)
    study = access.study
    issues = (
        study.issues.select_related("repository")
        .without_texts()
        .order_by("repository__owner", "repository__name", "number")
    )
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"study": study, "access": access, "page": page}
    if not request.htmx:
        context["members"] = study.memberships.select_related("user").order_by("user__username", "role")
        context["my_progress"] = study.progress(annotator=request.user)
        context["rechecks"] = rechecks(study, request.user).count()
        context["annotators"], context["stages"] = study.stage_table(per_annotator=access.oversees)
        if access.oversees:
            context["team_progress"] = study.progress(gold_apart=True)
            context["profiles"] = study.export_profiles.all()
    return render_page(request, "studies/detail.html", context, partial="issue-list")


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """Where others mentioned the user. The text stays on the discussion page, which keeps the reveal rule: a
    mention on an issue still blind to the user links to it only once it is revealed to them."""
    items = list(
        notifications_of(request.user).select_related(
            "comment__author", "comment__study_issue__study", "comment__study_issue__issue__repository"
        )[:200]
    )
    hidden: dict[int, frozenset[int]] = {}
    for note in items:
        study_issue = note.comment.study_issue
        if study_issue.study_id not in hidden:
            hidden[study_issue.study_id] = StudyAccess(study_issue.study, request.user).hidden_study_issue_ids
        note.revealed = study_issue.pk not in hidden[study_issue.study_id]
    return render(request, "studies/notifications.html", {"notifications": items})


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    mark_read(request.user)
    return redirect("studies:notifications")


@require_GET
def export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The labelled dataset (CSV or JSON; a row per issue, or per annotation value), streamed: for owners and
    adjudicators, without the values still blind to them."""
    access = get_access(request.user, slug, require="may_export")
    study = access.study
    if "profile" in request.GET:
        profile = get_object_or_404(study.export_profiles, name=request.GET["profile"])
        response = StreamingHttpResponse(profile_lines(access, profile), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-{slugify(profile.name)}.csv"'
        return response
    as_json = request.GET.get("format") == "json"
    if request.GET.get("layout") == "long":  # the import_annotations format
        columns, rows = LONG_COLUMNS, long_rows(access)
    else:
        with_annotators = request.GET.get("with_annotators") == "1"
        columns = wide_columns(study, with_annotators=with_annotators)
        rows = wide_rows(access, with_annotators=with_annotators)
    lines = json_lines(columns, rows) if as_json else csv_lines(columns, rows, excel=request.GET.get("excel") == "1")
    response = StreamingHttpResponse(lines, content_type="application/json" if as_json else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-labels.{"json" if as_json else "csv"}"'
    return response
