"""The annotation workspace: the issue on the left, the codebook form on the right.

Blind by construction: every query for annotations here goes through the
request user's own assignment, so no response can carry another annotator's
values. Whether the Compare tab shows is the access policy's (studies/access.py).
"""

import re
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator.bidi import isolate
from issues.markdown import in_app_issue_links, render_markdown_cached
from issues.models import Issue, IssueComment
from issues.rendering import BODY_SHOWN, shown_body, stored_html
from studies import gold
from studies.access import StudyAccess, get_access
from studies.annotation import NOT_ASSIGNED, annotation_save, assignment_submit, stage_fields
from studies.codebook_versions import rechecks
from studies.effort import report_token
from studies.models import MAX_TEXT, Annotation, Assignment, CodebookField, Study, StudyIssue, checked_text
from studies.versions import posted_version
from studies.views.conflicts import answers_conflicts
from studies.workflow import same_value

OTHER = "__other__"


def queue(study: Study, user):
    """The user's assignments in the order they work through them."""
    return Assignment.objects.filter(study=study, annotator=user).order_by("-stage", "issue_id")


@require_GET
def annotate(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    return render(request, "studies/annotate.html", _page(request, access, study_issue))


def _page(request: HttpRequest, access: StudyAccess, study_issue: StudyIssue, refused: dict | None = None) -> dict:
    """The annotation page; `refused`: {key: state} of fields whose values were refused, shown as they were typed."""
    assignment = access.own_assignment(study_issue)
    fields = _field_states(assignment, readonly=not access.may_label(study_issue)) if assignment else []
    refused = refused or {}
    fields = [refused.get(state["key"], state) for state in fields]
    return {
        **issue_pane(request, access, study_issue),
        "assignment": assignment,
        "may_label": access.may_label(study_issue),
        "fields": fields,
        "missing": [state["field"].label for state in fields if state["field"].required and not state["answered"]],
        "training_pending": access.training_pending,
        "gold_feedback": _gold_feedback(access, study_issue, assignment),
        **_neighbours(access.study, request.user, assignment),
        # While the issue is open, the page reports the time it is in use (studies/effort.py).
        "active_time_token": report_token(assignment=assignment.pk) if access.may_label(study_issue) else "",
        "idle_seconds": settings.ACTIVE_TIME_IDLE_SECONDS,
    }


def _gold_feedback(access: StudyAccess, study_issue: StudyIssue, assignment: Assignment | None) -> list | None:
    """On a submitted training item: the reference answers beside the trainee's own."""
    is_training = assignment is not None and assignment.purpose == Assignment.Purpose.TRAINING
    return gold.feedback(assignment) if is_training and access.may_see_gold(study_issue) else None


def issue_pane(request: HttpRequest, access: StudyAccess, study_issue: StudyIssue) -> dict:
    """What studies/partials/issue_pane.html and the issue's tabs show: the issue, its body and comments as HTML,
    and whether everyone's values on it are revealed to the viewer (the Compare tab)."""
    study, issue = access.study, study_issue.issue
    comments = list(
        IssueComment.objects.filter(issue=issue).defer("payload").order_by("created_at", "github_id", "id")
    )
    # The payload stays deferred (it can be as large as a log): only GitHub's count is read from it.
    on_github = Issue.objects.filter(pk=issue.pk).with_github_comment_count().values_list("github_comment_count")
    repository = issue.repository.full_name
    body_html, comments_html = stored_html(issue, comments)
    full = bool(request.GET.get("full")) and len(issue.body) > BODY_SHOWN
    if full:
        body_html = render_markdown_cached(issue.body, repository=repository)
    body = issue.body if full else shown_body(issue.body)
    linked = _study_issue_urls(study, issue, [body] + [comment.body for comment in comments]).get
    return {
        "study": study,
        "access": access,
        "study_issue": study_issue,
        "issue": issue,
        "revealed": access.is_revealed(study_issue),
        "body_html": in_app_issue_links(body_html, repository, linked),
        "body_cut": None if body is issue.body else {"shown": len(body), "total": len(issue.body)},
        "comments": [
            (comment, in_app_issue_links(html, repository, linked))
            for comment, html in zip(comments, comments_html, strict=True)
        ],
        # Comments GitHub counted that the dump did not hold (REST issue files hold only the count).
        "comments_missing": max(0, on_github.get()[0] - len(comments)),
    }


class NotAssigned(Exception):
    """A member writes to an issue that is not (or no longer) theirs: a tab left open while an owner moved or took
    back the assignment; or real work while their training is pending (the message says so). Non-members never get
    this far: get_access answers them 404."""


TRAINING_FIRST = "Your training comes first: label the gold issues in your queue; real work opens once you pass."


def _own_assignment(access: StudyAccess, study_issue: StudyIssue) -> Assignment:
    """The user's assignment on the issue, to write to; NotAssigned if they have none or must train first."""
    assignment = access.own_assignment(study_issue)
    if assignment is None:
        raise NotAssigned
    if assignment.purpose == Assignment.Purpose.REAL and access.training_pending:
        raise NotAssigned(TRAINING_FIRST)
    return assignment


def _own_field(request: HttpRequest, slug: str, owner: str, repo: str, number: int, key: str):
    """The access, the issue and the field of the user's assignment on it; NotAssigned if they have none."""
    access = get_access(request.user, slug)
    study_issue = access.get_study_issue(owner, repo, number)
    assignment = _own_assignment(access, study_issue)
    field = get_object_or_404(
        CodebookField.objects.prefetch_related("choices"), study=access.study, key=key, stage=assignment.stage
    )
    return access, study_issue, field


def answers_not_assigned(view):
    """A save or submit to an issue the member no longer labels says so: in the field's save state (htmx), or as a
    message on the issue's page, which no longer shows the form."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, owner: str, repo: str, number: int, **kwargs) -> HttpResponse:
        try:
            return view(request, slug, owner, repo, number, **kwargs)
        except NotAssigned as refusal:
            message = str(refusal) or NOT_ASSIGNED
            if request.htmx and "key" in kwargs:
                return _save_state(request, {"key": kwargs["key"], "saved": False, "error": message}, 409)
            messages.error(request, message)
            return redirect("studies:annotate", slug, owner, repo, number)

    return wrapper


def _save_refused(request: HttpRequest, access, study_issue, field, status: int, **state) -> HttpResponse:
    """A refused save: htmx swaps the field's status (its inputs stay as typed, its version is the newer one);
    without JavaScript the page comes back with the field as it was typed and the reason under it."""
    state = {"key": field.key, "saved": False, "error": "", "conflict": "", **state}
    if request.htmx:
        return _save_state(request, state, status)
    typed = {**_posted_state(field, request.POST), **state}
    if "version" not in state:
        typed["version"] = request.POST.get("version", "")
    page = _page(request, access, study_issue, refused={field.key: typed})
    return render(request, "studies/annotate.html", page, status=status)


def _save_conflict(request: HttpRequest, stale, slug, owner, repo, number, key) -> HttpResponse:
    access, study_issue, field = _own_field(request, slug, owner, repo, number, key)
    return _save_refused(request, access, study_issue, field, 409, conflict=str(stale), version=stale.version)


def _save_state(request: HttpRequest, state: dict, status: int = 200) -> HttpResponse:
    # Only the field's status is swapped, and its version (out of band): the inputs stay as the annotator left them.
    html = render_to_string("studies/annotate.html#save-state", {"state": state}, request)
    if "version" in state:
        html += render_to_string("studies/annotate.html#version", {"state": state, "oob": True}, request)
    return HttpResponse(html, status=status)


@require_POST
@answers_not_assigned
@answers_conflicts(_save_conflict)
def save_field(request: HttpRequest, slug: str, owner: str, repo: str, number: int, key: str) -> HttpResponse:
    access, study_issue, field = _own_field(request, slug, owner, repo, number, key)
    assignment = access.own_assignment(study_issue)
    try:
        annotation = annotation_save(
            assignment=assignment,
            field=field,
            value=posted_value(field, request.POST),
            uncertain=request.POST.get("uncertain") == "on",
            note=request.POST.get("note", ""),
            version=posted_version(request.POST),
        )
    except ValidationError as exception:
        return _save_refused(request, access, study_issue, field, 422, error=" ".join(exception.messages))
    if not request.htmx:
        return redirect(issue_url(access.study, study_issue.issue) + f"#field-{field.key}")
    return _save_state(request, {"key": field.key, "saved": True, "version": annotation.version})


@require_POST
@answers_not_assigned
def submit(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug)
    study = access.study
    study_issue = access.get_study_issue(owner, repo, number)
    issue = study_issue.issue
    assignment = _own_assignment(access, study_issue)
    if unsaved := _unsaved(assignment, request.POST):
        # The page comes back with what was typed, so that nothing is lost, and the reason under each field.
        page = _page(request, access, study_issue, refused=unsaved)
        page["unsaved"] = [state["field"].label for state in unsaved.values()]
        return render(request, "studies/annotate.html", page, status=422)
    try:
        assignment_submit(assignment=assignment)
    except ValidationError as exception:
        messages.error(request, " ".join(exception.messages))
        return redirect(issue_url(study, issue) + "#codebook")
    if assignment.purpose == Assignment.Purpose.TRAINING:
        messages.success(request, "Submitted. Compare your answers with the reference answers below.")
        return redirect(issue_url(study, issue) + "#gold-feedback")
    messages.success(request, f"{issue.repository.full_name}#{issue.number} submitted.")
    return redirect("studies:next", slug=study.slug)


@require_GET
def next_issue(request: HttpRequest, slug: str) -> HttpResponse:
    """The user's next unfinished assignment of an issue at that stage (training first, while it is pending; gold
    issues whatever their stage); the study page when there is none. Answers to re-check come before all: the
    codebook changed what they mean (studies/codebook_versions.py)."""
    access = get_access(request.user, slug)
    study = access.study
    if rechecks(study, request.user).exists():
        messages.info(request, "The codebook changed what some of your answers mean: re-check them first.")
        return redirect("studies:recheck", slug=study.slug)
    gold.queue_prepare(study, request.user)
    at_its_stage = StudyIssue.objects.filter(study=study, issue=OuterRef("issue"), stage=OuterRef("stage"))
    unfinished = queue(study, request.user).exclude(status=Assignment.Status.SUBMITTED)
    if access.training_pending:
        unfinished = unfinished.filter(purpose=Assignment.Purpose.TRAINING)
    else:  # training no longer required (or passed): what is left of it is no work to hand out
        unfinished = unfinished.exclude(purpose=Assignment.Purpose.TRAINING)
    assignment = (
        unfinished.filter(Exists(at_its_stage) | ~Q(purpose=Assignment.Purpose.REAL))
        .select_related("issue__repository")
        .first()
    )
    if assignment is None:
        messages.info(request, _nothing_left(access))
        return redirect("studies:detail", slug=study.slug)
    return redirect(issue_url(study, assignment.issue))


def _nothing_left(access: StudyAccess) -> str:
    if not access.training_pending:
        return "Nothing left to label in this study for you."
    work = gold.gold_work(access.study, Assignment.Purpose.TRAINING, access.user)
    accuracy = gold.overall_accuracy(work[0]) if work else None
    shown = f"{accuracy:.0%}" if accuracy is not None else "no score yet"
    return (
        f"Your training is done but not passed (accuracy {shown}; every required field needs "
        f"{access.study.training_threshold:.0%}): real work stays closed. Ask an owner to let you train again."
    )


# `#123` in a body; a reference that is an issue of the study links to its page here.
_REFERENCE = re.compile(r"(?<![\w&/])#([1-9][0-9]{0,9})\b")
MAX_REFERENCES = 500


def _study_issue_urls(study: Study, issue: Issue, texts: list[str]) -> dict[int, str]:
    """{number: annotation page} for the same repository's issues that the texts mention and the study holds."""
    numbers = {int(number) for text in texts for number in _REFERENCE.findall(text or "")}
    if not numbers:
        return {}
    found = Issue.objects.filter(
        study_issues__study=study, repository=issue.repository, number__in=sorted(numbers)[:MAX_REFERENCES]
    ).values_list("number", flat=True)
    repository = issue.repository
    return {
        number: reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, number])
        for number in found
    }


def issue_url(study: Study, issue: Issue) -> str:
    repository = issue.repository
    return reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number])


# --- the form's state ---


def _field_states(assignment: Assignment, *, readonly: bool) -> list[dict]:
    fields = stage_fields(assignment)
    annotations = {a.field_id: a for a in Annotation.objects.filter(assignment=assignment)}
    return [_field_state(field, annotations.get(field.pk), readonly) for field in fields]


def _field_state(field: CodebookField, annotation: Annotation | None, readonly: bool) -> dict:
    """What a field's partial needs: its choices, what is selected, the other text, the flags."""
    value = annotation.value if annotation else None
    values = value if isinstance(value, list) else [value]
    selected = {item for item in values if isinstance(item, str | int)}
    others = [item["other"] for item in values if isinstance(item, dict) and "other" in item]
    text = value if isinstance(value, str) else ""
    if isinstance(value, list) and field.kind in {CodebookField.Kind.URLS, CodebookField.Kind.COMMITS}:
        text = "\n".join(value)
    return {
        "field": field,
        "key": field.key,
        "version": annotation.version if annotation else 0,
        "choices": [(choice, _selected(choice.value, selected)) for choice in field.choices.all()],
        "other": others[0] if others else "",
        "text": text,
        "vote": value.get("vote") if isinstance(value, dict) and "vote" in value else None,
        "comment": value.get("comment", "") if isinstance(value, dict) else "",
        "uncertain": bool(annotation and annotation.uncertain),
        "note": annotation.note if annotation else "",
        "readonly": readonly,
        "answered": bool(annotation and annotation.is_answered),
    }


def _posted_state(field: CodebookField, data) -> dict:
    """A field's partial as the annotator typed it (a refused save): the inverse of posted_value()."""
    posted = [value for value in data.getlist("value") if value != OTHER]
    return {
        "field": field,
        "key": field.key,
        "choices": [(choice, choice.value in posted) for choice in field.choices.all()],
        "other": data.get("other", "") if OTHER in data.getlist("value") else "",
        "text": data.get("value", "") if not field.has_choices else "",
        "vote": {"yes": True, "no": False}.get(data.get("vote", "")),
        "comment": data.get("comment", ""),
        "uncertain": data.get("uncertain") == "on",
        "note": data.get("note", ""),
        "readonly": False,
        "answered": bool(posted or data.get("vote")),
    }


def _unsaved(assignment: Assignment, data) -> dict[str, dict]:
    """The fields whose values on the page differ from what is saved, as {key: the field as typed, with why}.

    The submit carries each field's values as the page holds them (`page-<key>`, as its save would post them; the
    page's JS adds them): the server compares them with what is stored rather than trusting the browser's word
    that everything was saved, so a refused or lost save cannot be dropped silently by a submit.
    """
    stored = {annotation.field_id: annotation for annotation in Annotation.objects.filter(assignment=assignment)}
    unsaved = {}
    for field in stage_fields(assignment):
        if (page := data.get(f"page-{field.key}")) is None:
            continue
        typed = QueryDict(page)
        annotation = stored.get(field.pk)
        try:
            value = field.clean_value(posted_value(field, typed))
            note = checked_text(typed.get("note", ""), f"The note on {isolate(field.label)}", MAX_TEXT)
        except ValidationError as exception:
            reason = " ".join(exception.messages)
        else:
            held = (annotation.value, annotation.uncertain, annotation.note) if annotation else (None, False, "")
            # Lists in any order: an imported answer may list its choices otherwise than the form does.
            if same_value(value, held[0]) and (typed.get("uncertain") == "on", note) == held[1:]:
                continue
            reason = "the save has not reached the server."
        unsaved[field.key] = {
            **_posted_state(field, typed),
            "version": annotation.version if annotation else 0,
            "saved": False,
            "conflict": "",
            "unsaved": True,
            "error": f"Not saved: {reason}",
        }
    return unsaved


def _selected(choice_value: str, selected: set) -> bool:
    return choice_value in selected or (choice_value.isdigit() and int(choice_value) in selected)


def posted_value(field: CodebookField, data):
    """The field's value from its form: the inverse of what _field_state shows."""
    kinds = CodebookField.Kind
    if field.kind == kinds.VOTE:
        posted = data.get("vote", "")
        if not posted:
            return None
        # Anything but yes or no goes on as it is, for clean_value to refuse by name.
        return {"vote": {"yes": True, "no": False}.get(posted, posted), "comment": data.get("comment", "")}
    if field.kind in {kinds.SINGLE, kinds.ORDINAL}:
        value = data.get("value", "")
        return {"other": data.get("other", "")} if value == OTHER else value
    if field.kind == kinds.MULTIPLE:
        return [{"other": data.get("other", "")} if v == OTHER else v for v in data.getlist("value")]
    return data.get("value", "")


def _neighbours(study: Study, user, assignment: Assignment | None) -> dict:
    """Previous and next issue in the user's queue (for j / k), and how far along they are."""
    if assignment is None:
        return {}
    same_stage = Assignment.objects.filter(study=study, annotator=user, stage=assignment.stage)
    around = same_stage.select_related("issue__repository")
    previous = around.filter(issue_id__lt=assignment.issue_id).order_by("-issue_id").first()
    following = around.filter(issue_id__gt=assignment.issue_id).order_by("issue_id").first()
    progress = same_stage.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=Assignment.Status.SUBMITTED)),
        position=Count("id", filter=Q(issue_id__lte=assignment.issue_id)),
    )
    return {
        "previous_url": issue_url(study, previous.issue) if previous else None,
        "next_url": issue_url(study, following.issue) if following else None,
        "progress": progress,
    }
