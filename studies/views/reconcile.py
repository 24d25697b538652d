"""Reconciliation: everyone's values side by side, final values, the decision, re-opening, the discussion.

The same page serves the screening discussion (everyone's votes, accept or
reject). Who may see it and act on it is the access policy's (studies/access.py);
how the issue moves on is studies/workflow.py's. A refused form comes back with
what was typed and the reason beside it.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from annotator.bidi import isolate
from annotator.htmx import render_page
from issues.models import Issue
from studies.access import StudyAccess, get_access
from studies.assignment import ISSUE_REFERENCE
from studies.discussion import comment_post
from studies.effort import report_token
from studies.models import Annotation, Assignment, CodebookField, FinalValue, Stage, StudyIssue
from studies.suggestions import suggestions
from studies.versions import posted_version
from studies.views.annotate import OTHER, issue_pane, issue_url, posted_value
from studies.views.conflicts import answers_conflicts
from studies.workflow import (
    agreed_values_accept,
    display_value,
    final_value_save,
    missing_final_values,
    record_decision,
    reopen,
    same_value,
    screening_votes,
)

FILTERS = {"disagreements": "only disagreements", "uncertain": "only uncertain"}


@require_GET
def reconcile(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access, study_issue = _allowed(request, slug, owner, repo, number)
    return render(request, "studies/reconcile.html", _context(request, access, study_issue))


def _final_refused(request: HttpRequest, access, study_issue, field, status: int, **refusal) -> HttpResponse:
    """The field's row again as the adjudicator left it (choices, text, rationale), with why it was refused."""
    rows = _comparison(study_issue)
    row = {**next(row for row in rows if row["field"].pk == field.pk), **_typed(field, request.POST)}
    context = {**_context(request, access, study_issue, rows=rows), "row": row, "refused_key": field.key, **refusal}
    context["rows"] = [row if each["field"].pk == field.pk else each for each in context["rows"]]
    return render_page(request, "studies/reconcile.html", context, partial="field-row", status=status)


def _final_conflict(request: HttpRequest, stale, slug, owner, repo, number, key) -> HttpResponse:
    access, study_issue = _allowed(request, slug, owner, repo, number, act=True)
    field = _labelling_field(access, key)
    conflict = {"message": str(stale), "version": stale.version}
    return _final_refused(request, access, study_issue, field, 409, field_conflict=conflict)


@require_POST
@answers_conflicts(_final_conflict)
def final_value(request: HttpRequest, slug: str, owner: str, repo: str, number: int, key: str) -> HttpResponse:
    access, study_issue = _allowed(request, slug, owner, repo, number, act=True)
    field = _labelling_field(access, key)
    try:
        final_value_save(
            study_issue,
            field,
            value=posted_value(field, request.POST),
            rationale=request.POST.get("rationale", ""),
            user=request.user,
            version=posted_version(request.POST),
            clear=request.POST.get("action") == "clear",
        )
    except ValidationError as exception:
        return _final_refused(request, access, study_issue, field, 422, field_error=" ".join(exception.messages))
    if not request.htmx:
        return redirect(_url(study_issue) + f"#final-{key}")
    rows = _comparison(study_issue)
    row = next(row for row in rows if row["field"].pk == field.pk)
    context = {**_context(request, access, study_issue, rows=rows), "row": row}
    context["hint_out_of_band"] = context["may_decide"]  # the hint sits in the decision form
    return render_page(request, "studies/reconcile.html", context, partial="field-row")


@require_POST
def accept_agreed(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Every agreed value without a final value becomes final (issues that reached reconciliation before)."""
    access, study_issue = _allowed(request, slug, owner, repo, number, act=True)
    try:
        stored = agreed_values_accept(study_issue)
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
    else:
        if stored:
            messages.success(request, f"{stored} agreed value{'s are' if stored != 1 else ' is'} final now.")
        else:  # nothing happened: said as such, not as a success
            messages.info(request, "Every agreed value is final already; nothing changed.")
    return redirect(_url(study_issue))


def _decision_conflict(request: HttpRequest, stale, slug, owner, repo, number) -> HttpResponse:
    """The page as the issue is now, with the decision form as it was filled in."""
    access, study_issue = _allowed(request, slug, owner, repo, number)
    context = _context(request, access, stale.current, posted=request.POST)
    context["conflict"] = {"message": str(stale), "version": stale.version}
    return render(request, "studies/reconcile.html", context)


@require_POST
@answers_conflicts(_decision_conflict)
def decision(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access, study_issue = _allowed(request, slug, owner, repo, number, act=True)
    include = request.POST.get("decision") == "include"
    try:
        arguments = {
            "include": include,
            "user": request.user,
            "note": request.POST.get("note", ""),
            "reason": request.POST.get("reason", ""),
            "duplicate_of": _duplicate_of(study_issue, request.POST.get("duplicate_of", "")),
            "version": posted_version(request.POST),
        }
        record_decision(study_issue, **arguments)
    except ValidationError as exception:
        context = _context(request, access, study_issue, posted=request.POST)
        context["decision_error"] = " ".join(exception.messages)
        return render(request, "studies/reconcile.html", context, status=422)
    messages.success(
        request, f"{study_issue.issue.repository.full_name}#{study_issue.issue.number}: decision recorded."
    )
    return redirect(_url(study_issue))


@require_POST
@answers_conflicts(_decision_conflict)
def reopen_issue(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")  # 404 for everyone else, before anything is said
    access, study_issue = _allowed(request, slug, owner, repo, number, access=access)
    try:
        version = posted_version(request.POST)
        reopen(study_issue, to_stage=request.POST.get("to_stage", ""), user=request.user, version=version)
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
    else:
        messages.success(request, "Re-opened; the previous decision stays in the history.")
    return redirect(_url(study_issue))


@require_POST
def comment(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access, study_issue = _allowed(request, slug, owner, repo, number)
    try:
        comment_post(study_issue, author=request.user, body=request.POST.get("body", ""))
    except ValidationError as exception:
        context = _context(request, access, study_issue)
        context.update(comment_error=" ".join(exception.messages), comment_body=request.POST.get("body", ""))
        return render(request, "studies/reconcile.html", context, status=422)
    return redirect(_url(study_issue) + "#discussion")


# --- helpers ---


def _allowed(request: HttpRequest, slug, owner, repo, number, *, act: bool = False, access=None):
    """The access and the study issue; 404 for non-members, 403 (saying why) before the reveal or without the
    right to act."""
    access = access or get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    if not access.is_revealed(study_issue):
        raise PermissionDenied(access.why_hidden(study_issue))
    if act and not access.may_reconcile(study_issue):
        raise PermissionDenied("Only adjudicators and owners reconcile this issue.")
    return access, study_issue


def _labelling_field(access: StudyAccess, key: str) -> CodebookField:
    return get_object_or_404(
        CodebookField.objects.prefetch_related("choices"), study=access.study, key=key, stage=Stage.LABELLING
    )


def _context(request: HttpRequest, access: StudyAccess, study_issue: StudyIssue, posted=None, rows=None) -> dict:
    """The page's context; `rows`: the comparison, when the caller has it already."""
    only = request.GET.get("only", "")
    rows = _comparison(study_issue) if rows is None else rows
    suggested = suggestions(access, study_issue)
    for row in rows:
        field = row["field"]
        row["suggestions"] = [
            (each.source, display_value(each.value, field), each.note) for each in suggested.get(field.pk, [])
        ]
    shown = [
        row
        for row in rows
        if (only != "disagreements" or not row["agree"]) and (only != "uncertain" or row["uncertain"])
    ]
    may_decide = access.may_decide(study_issue)
    return {
        **issue_pane(request, access, study_issue),
        "may_set_final_values": access.may_set_final_values(study_issue),
        "may_decide": may_decide,
        # While the issue waits for a decision, the page reports the time it is in use (studies/effort.py).
        "active_time_token": report_token(study_issue=study_issue.pk, stage=study_issue.stage) if may_decide else "",
        "idle_seconds": settings.ACTIVE_TIME_IDLE_SECONDS,
        "may_reopen": access.may_reopen(study_issue),
        "votes": screening_votes(study_issue) if study_issue.study.screening else [],
        "rows": shown,
        "counts": {
            "all": len(rows),
            "disagreements": sum(not row["agree"] for row in rows),
            "uncertain": sum(row["uncertain"] for row in rows),
            "unaccepted": sum(row["agreed"] and not row["final"] for row in rows),
        },
        "only": only,
        "filters": FILTERS,
        "missing": missing_final_values(study_issue),
        "reasons": [(value, label) for value, label in study_issue.Reason.choices if value != "screened_out"],
        "discussion": study_issue.comments.select_related("author"),
        "posted": posted or {},
    }


def _comparison(study_issue) -> list[dict]:
    """Per labelling field: every annotator's value, flags and note; whether they agree; the final value."""
    assignments = list(
        Assignment.objects.real()
        .filter(study_id=study_issue.study_id, issue_id=study_issue.issue_id, stage=Stage.LABELLING)
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
                    (annotator, answer, display_value(answer.value if answer else None, field))
                    for annotator, answer in entries
                ],
                "agree": agree,
                "agreed": agree and values[0] is not None,
                "uncertain": any(answer and answer.uncertain for _, answer in entries),
                "final": final,
                "final_display": _final_display(final, field) if final else "",
                "proposed": proposed,
                "selected": _selected_values(proposed),
                "other": "",
                "text": _text(proposed),
                "rationale": final.rationale if final else "",
            }
        )
    return rows


def _final_display(final: FinalValue, field: CodebookField) -> SafeString:
    """The final value and where it came from: "Wrong shape (agreed by ann, bob)", "3 — … (adjudicated by cyd)";
    the value isolated (<bdi>), so that a right-to-left override in it cannot reorder where it came from."""
    if final.source == FinalValue.Source.AGREED:
        who = f"agreed by {', '.join(final.agreed_by)}"
    else:
        verb = "cleared" if final.value is None else "adjudicated"
        who = f"{verb} by {final.set_by.username if final.set_by else 'someone'}"
    return format_html("<bdi>{}</bdi> ({})", display_value(final.value, field), who)


def _selected_values(value) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {str(item) for item in values if isinstance(item, str | int)}


def _typed(field: CodebookField, data) -> dict:
    """A row's form as the adjudicator filled it in (a refused submit keeps every choice and word)."""
    values = data.getlist("value")
    return {
        "selected": {value for value in values if value != OTHER},
        "other": data.get("other", "") if OTHER in values else "",
        "text": data.get("value", "") if not field.has_choices else "",
        "rationale": data.get("rationale", ""),
    }


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
        raise ValidationError(f"{isolate(text)} is not an imported issue.")
    return found


def _url(study_issue) -> str:
    return issue_url(study_issue.study, study_issue.issue).rstrip("/") + "/reconcile/"
