"""Reconciliation: everyone's values side by side, final values, the decision, re-opening, the discussion.

The same page serves the screening discussion (everyone's votes, accept or
reject). Who may see it and act on it is decided by studies/workflow.py.
"""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from issues.models import Issue
from studies.assignment import ISSUE_REFERENCE
from studies.discussion import comment_post
from studies.models import Annotation, Assignment, CodebookField, FinalValue, IssueStage, Membership, Stage
from studies.views.annotate import get_study_issue, issue_pane, issue_url, posted_value
from studies.views.pages import get_study_for_owner, get_study_for_user
from studies.workflow import (
    StaleVersion,
    can_reconcile,
    can_see_all_values,
    decide,
    display_value,
    final_value_save,
    missing_final_values,
    reopen,
    same_value,
    screening_resolve,
    screening_votes,
)

FILTERS = {"disagreements": "only disagreements", "uncertain": "only uncertain"}


@require_GET
def reconcile(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    study_issue, roles = _allowed(request, slug, owner, repo, number)
    return render(request, "studies/reconcile.html", _context(request, study_issue, roles))


@require_POST
def final_value(request: HttpRequest, slug: str, owner: str, repo: str, number: int, key: str) -> HttpResponse:
    study_issue, roles = _allowed(request, slug, owner, repo, number, act=True)
    field = get_object_or_404(
        CodebookField.objects.prefetch_related("choices"), study=study_issue.study, key=key, stage=Stage.LABELLING
    )
    conflict, error, status = None, "", 200
    try:
        final_value_save(
            study_issue,
            field,
            value=posted_value(field, request.POST),
            rationale=request.POST.get("rationale", ""),
            user=request.user,
            version=request.POST.get("version") or 0,
        )
    except StaleVersion as stale:
        conflict, status = {"message": str(stale), "version": stale.current.version}, 409
    except ValidationError as exception:
        error, status = " ".join(exception.messages), 422
    if not request.htmx:
        if conflict or error:
            messages.error(request, f"{field.label}: {conflict['message'] if conflict else error}")
        return redirect(_url(study_issue) + f"#final-{key}")
    row = next(row for row in _comparison(study_issue) if row["field"].pk == field.pk)
    context = {**_context(request, study_issue, roles), "row": row, "conflict": conflict, "error": error}
    return render(request, "studies/reconcile.html#field-row", context, status=status)


@require_POST
def decision(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    study_issue, roles = _allowed(request, slug, owner, repo, number, act=True)
    include = request.POST.get("decision") == "include"
    try:
        duplicate_of = _duplicate_of(study_issue, request.POST.get("duplicate_of", ""))
        arguments = {
            "include": include,
            "user": request.user,
            "note": request.POST.get("note", ""),
            "reason": request.POST.get("reason", ""),
            "duplicate_of": duplicate_of,
            "version": request.POST.get("version"),
        }
        if study_issue.stage == IssueStage.DISCUSSION:
            screening_resolve(study_issue, **arguments)
        else:
            decide(study_issue, **arguments)
    except StaleVersion as stale:
        context = _context(request, stale.current, roles, posted=request.POST)  # as it is now
        context["conflict"] = {"message": str(stale), "version": stale.current.version}
        return render(request, "studies/reconcile.html", context, status=409)
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
        return redirect(_url(study_issue) + "#decision")
    messages.success(
        request, f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}: decision recorded."
    )
    return redirect(_url(study_issue))


@require_POST
def reopen_issue(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    get_study_for_owner(request.user, slug)  # 404 for everyone else, before anything is said about the issue
    study_issue, _ = _allowed(request, slug, owner, repo, number)
    try:
        reopen(
            study_issue,
            to_stage=request.POST.get("to_stage", ""),
            user=request.user,
            version=request.POST.get("version"),
        )
    except StaleVersion as stale:
        messages.error(request, str(stale))
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
    else:
        messages.success(request, "Re-opened; the previous decision stays in the history.")
    return redirect(_url(study_issue))


@require_POST
def comment(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    study_issue, _ = _allowed(request, slug, owner, repo, number)
    try:
        comment_post(study_issue, author=request.user, body=request.POST.get("body", ""))
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
    return redirect(_url(study_issue) + "#discussion")


# --- helpers ---


def _allowed(request: HttpRequest, slug, owner, repo, number, *, act: bool = False):
    """The study issue and the user's roles; 404 for non-members, 403 (saying why) before the reveal or without
    the right to act."""
    study = get_study_for_user(request.user, slug)
    study_issue = get_study_issue(study, owner, repo, number)
    roles = study.roles_of(request.user)
    if not can_see_all_values(study_issue, request.user, roles):
        raise PermissionDenied(
            f"Everyone's values are shown once the issue is in reconciliation; it is in "
            f"{study_issue.get_stage_display()}."
        )
    if act and not can_reconcile(study_issue, request.user, roles):
        raise PermissionDenied("Only adjudicators and owners reconcile this issue.")
    return study_issue, roles


def _context(request: HttpRequest, study_issue, roles: set[str], posted=None) -> dict:
    only = request.GET.get("only", "")
    rows = _comparison(study_issue)
    shown = [
        row
        for row in rows
        if (only != "disagreements" or not row["agree"]) and (only != "uncertain" or row["uncertain"])
    ]
    return {
        **issue_pane(request, study_issue.study, study_issue.issue, roles),
        "study_issue": study_issue,
        "may_act": can_reconcile(study_issue, request.user, roles) and study_issue.stage != IssueStage.DECIDED,
        "is_owner": Membership.Role.OWNER in roles or request.user.is_staff,
        "votes": screening_votes(study_issue) if study_issue.study.screening else [],
        "rows": shown,
        "counts": {
            "all": len(rows),
            "disagreements": sum(not row["agree"] for row in rows),
            "uncertain": sum(row["uncertain"] for row in rows),
        },
        "only": only,
        "filters": FILTERS,
        "missing": missing_final_values(study_issue) if study_issue.stage == IssueStage.RECONCILIATION else [],
        "reasons": [(value, label) for value, label in study_issue.Reason.choices if value != "screened_out"],
        "discussion": study_issue.comments.select_related("author"),
        "posted": posted or {},
    }


def _comparison(study_issue) -> list[dict]:
    """Per labelling field: every annotator's value, flags and note; whether they agree; the final value."""
    assignments = list(
        Assignment.objects.filter(study_id=study_issue.study_id, issue_id=study_issue.issue_id, stage=Stage.LABELLING)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    answers = {(a.assignment_id, a.field_id): a for a in Annotation.objects.filter(assignment__in=assignments)}
    finals = {f.field_id: f for f in FinalValue.objects.filter(study_issue=study_issue).select_related("set_by")}
    rows = []
    for field in study_issue.study.fields.filter(stage=Stage.LABELLING).prefetch_related("choices"):
        entries = [(assignment.annotator, answers.get((assignment.pk, field.pk))) for assignment in assignments]
        values = [answer.value if answer else None for _, answer in entries]
        agree = bool(values) and all(same_value(value, values[0]) for value in values)  # nobody answering agrees too
        final = finals.get(field.pk)
        proposed = final.value if final else (values[0] if agree else None)
        rows.append(
            {
                "field": field,
                "entries": [
                    (annotator, answer, display_value(answer.value if answer else None))
                    for annotator, answer in entries
                ],
                "agree": agree,
                "uncertain": any(answer and answer.uncertain for _, answer in entries),
                "final": final,
                "final_display": display_value(final.value) if final else "",
                "proposed": proposed,
                "selected": _selected_values(proposed),
                "text": _text(proposed),
            }
        )
    return rows


def _selected_values(value) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {str(item) for item in values if isinstance(item, str | int)}


def _text(value) -> str:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(value)
    return value if isinstance(value, str) else ""


def _duplicate_of(study_issue, text: str) -> Issue | None:
    """The issue given as a GitHub URL, owner/name#N or #N (same repository)."""
    text = text.strip()
    if not text:
        return None
    if match := re.fullmatch(r"#?(\d+)", text):
        repository, number = study_issue.issue.repository, int(match[1])
        found = Issue.objects.filter(repository=repository, number=number).first()
    elif match := ISSUE_REFERENCE.match(text):
        found = Issue.objects.filter(
            repository__owner=match["owner"], repository__name=match["name"], number=int(match["number"])
        ).first()
    else:
        raise ValidationError(f"{text!r} is not an issue: give #N, owner/name#N or its GitHub URL.")
    if found is None:
        raise ValidationError(f"{text} is not an imported issue.")
    return found


def _url(study_issue) -> str:
    return issue_url(study_issue.study, study_issue.issue).rstrip("/") + "/reconcile/"
