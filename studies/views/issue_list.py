"""The study's issue list: filters in the URL, full-text search with highlighted snippets.

Filters on codebook values and on uncertainty look at the viewer's own
annotations only: the list must not reveal anyone else's labels. Progress and
status count the study's own work (real assignments, not training or gold
checks); an issue the viewer is checked on is listed to them as an issue in
labelling with their own assignment (studies/access.py, `stage_shown`).
"""

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from annotator.htmx import render_page
from issues.search import search, snippets
from studies.access import StudyAccess, get_access
from studies.models import Annotation, Assignment, IssueStage, Membership, StudyIssue

ISSUES_PER_PAGE = 50
# Of the assignments (the first four), then of the issue's stage in the study.
STATUSES = {
    "unassigned": "unassigned",
    "assigned": "assigned, not started",
    "in_progress": "in progress",
    "submitted": "submitted by all",
    "discussion": "in screening discussion",
    "reconciliation": "in reconciliation",
    "decided": "decided",
    "included": "decided: included",
    "excluded": "decided: excluded",
}
STAGE_FILTERS = {
    "discussion": {"stage": IssueStage.DISCUSSION},
    "reconciliation": {"stage": IssueStage.RECONCILIATION},
    "decided": {"stage": IssueStage.DECIDED},
    "included": {"stage": IssueStage.DECIDED, "decision": StudyIssue.Decision.INCLUDE},
    "excluded": {"stage": IssueStage.DECIDED, "decision": StudyIssue.Decision.EXCLUDE},
}
SORTS = {
    "number": ("repository__owner", "repository__name", "number"),
    "-number": ("-repository__owner", "-repository__name", "-number"),
    "updated": ("-updated_at", "-id"),
    "title": ("title", "id"),
}


@require_GET
def issue_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug)
    study = access.study
    filters = {
        name: request.GET.get(name, "").strip()
        for name in ("q", "status", "annotator", "label", "field", "value", "uncertain", "sort")
    }
    issues = _filtered(access, filters)
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    _add_progress(access, page.object_list)
    if filters["q"]:
        found = snippets([issue.pk for issue in page.object_list], filters["q"])
        for issue in page.object_list:
            issue.snippet = found.get(issue.pk, "")
    context = {
        "study": study,
        "page": page,
        "filters": filters,
        "query_string": _query_string(request),
        "annotators": study.memberships.filter(role=Membership.Role.ANNOTATOR)
        .values_list("user__username", flat=True)
        .order_by("user__username"),
        "fields": study.fields.filter(kind__in=["single", "multiple", "ordinal"]).prefetch_related("choices"),
        "statuses": STATUSES,
        "access": access,
        "sorts": list(SORTS),
    }
    return render_page(request, "studies/issues.html", context, partial="results")


def _work(access: StudyAccess):
    """The assignments an issue's progress counts, as the viewer is shown them: the real ones, and on an issue
    they are checked on, only their own."""
    checked = access.checked_issue_ids
    real = Assignment.objects.real().filter(study=access.study).exclude(issue_id__in=checked)
    return real | Assignment.objects.filter(study=access.study, issue_id__in=checked, annotator_id=access.user.pk)


def _filtered(access: StudyAccess, filters: dict):
    study, user = access.study, access.user
    # Bodies and payloads are megabytes for a page of 50; the snippets come from the database.
    issues = study.issues.select_related("repository").without_texts()
    # Status as EXISTS tests on the assignments (indexed by study and issue): no grouping of the whole study.
    assignments = _work(access).filter(issue=OuterRef("pk"))
    any_ = Exists(assignments)
    unfinished = Exists(assignments.exclude(status=Assignment.Status.SUBMITTED))
    touched = Exists(assignments.exclude(status=Assignment.Status.ASSIGNED))
    status = filters["status"]
    if status == "unassigned":
        issues = issues.filter(~any_)
    elif status == "assigned":
        issues = issues.filter(any_, ~touched)
    elif status == "in_progress":
        issues = issues.filter(touched, unfinished)
    elif status == "submitted":
        issues = issues.filter(any_, ~unfinished)
    elif status in STAGE_FILTERS:
        issues = issues.filter(
            Exists(StudyIssue.objects.filter(study=study, issue=OuterRef("pk"), **STAGE_FILTERS[status]))
        ).exclude(pk__in=access.checked_issue_ids)
    if filters["annotator"]:
        issues = issues.filter(Exists(assignments.filter(annotator__username=filters["annotator"])))
    if filters["label"]:
        issues = issues.filter(labels__contains=[filters["label"]])
    own = Annotation.objects.filter(
        assignment__study=study, assignment__annotator=user, assignment__issue=OuterRef("pk")
    )
    if filters["field"] and filters["value"]:
        value = int(filters["value"]) if filters["value"].isdigit() else filters["value"]
        issues = issues.filter(
            Exists(own.filter(field__key=filters["field"]).filter(Q(value=value) | Q(value__contains=[value])))
        )
    if filters["uncertain"]:
        issues = issues.filter(Exists(own.filter(uncertain=True)))
    if filters["q"]:
        issues = search(issues, filters["q"])
    return issues.order_by(*SORTS.get(filters["sort"], SORTS["number"]))


def _add_progress(access: StudyAccess, issues) -> None:
    """How many of each listed issue's assignments are submitted: one query for the page."""
    study = access.study
    counts = {
        row["issue_id"]: row
        for row in _work(access)
        .filter(issue__in=[issue.pk for issue in issues])
        .values("issue_id")
        .annotate(assigned=Count("id"), submitted=Count("id", filter=Q(status=Assignment.Status.SUBMITTED)))
    }
    stages = {
        row["issue_id"]: row
        for row in StudyIssue.objects.filter(study=study, issue__in=[issue.pk for issue in issues]).values(
            "issue_id", "stage", "decision"
        )
    }
    for issue in issues:
        row = counts.get(issue.pk, {})
        issue.assigned, issue.submitted = row.get("assigned", 0), row.get("submitted", 0)
        if issue.pk in access.checked_issue_ids:
            # Shown as an issue in labelling whose other annotators have not submitted yet.
            issue.assigned = max(issue.assigned, study.annotators_per_issue)
            stages[issue.pk] = {"stage": IssueStage.LABELLING, "decision": ""}
        issue.stage = IssueStage(stages[issue.pk]["stage"]).label if issue.pk in stages else ""
        decision = stages.get(issue.pk, {}).get("decision")
        issue.decision = StudyIssue.Decision(decision).label if decision else ""


def _query_string(request: HttpRequest) -> str:
    """The filters without the page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
