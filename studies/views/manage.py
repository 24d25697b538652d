"""Running a study: admins create studies; owners manage members and assignments."""

import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studies.access import get_access, may_create_studies
from studies.annotation_import import AnnotationImportError, import_annotations
from studies.assignment import (
    AssignmentError,
    annotators_of,
    assign_balanced,
    assign_from_rows,
    assignment_add,
    assignment_move,
    assignment_remove,
)
from studies.codebook import codebook_load, preset, presets
from studies.models import Assignment, Membership, Stage, Study
from studies.views.annotate import issue_url

MAX_CSV_BYTES = 5 * 1024 * 1024


# How the study runs; an owner sets them on the Manage page once the study exists.
SETTINGS = [
    "screening_accept_votes",
    "screening_discuss_votes",
    "reveal_after_decision",
    "annotators_reconcile",
    "annotators_see_agreement",
]


class StudyForm(forms.ModelForm):
    preset = forms.ChoiceField(
        choices=[("", "none (empty codebook)")] + [(name, name) for name in presets()],
        required=False,
        help_text="Start from this codebook.",
    )

    class Meta:
        model = Study
        fields = ["name", "slug", "description", "guidelines", "screening", "annotators_per_issue"]


class StudySettingsForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = ["name", "description", "guidelines", "annotators_per_issue", *SETTINGS]


@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    if not may_create_studies(request.user):
        raise Http404
    form = StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = form.save()
        if form.cleaned_data["preset"]:
            codebook_load(study, preset(form.cleaned_data["preset"]), screening=study.screening)
        Membership.objects.create(study=study, user=request.user, role=Membership.Role.OWNER)
        messages.success(request, f"Study {study.name} created; you are its owner.")
        return redirect("studies:manage", slug=study.slug)
    return render(request, "studies/create.html", {"form": form})


@require_http_methods(["GET"])
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    members = study.memberships.select_related("user").order_by("user__username", "role")
    stage = Stage.SCREENING if study.screening else Stage.LABELLING
    return render(
        request,
        "studies/manage.html",
        {
            "study": study,
            "members": members,
            "roles": Membership.Role.choices,
            "stages": Stage.choices,
            "stage": stage,
            "annotators": annotators_of(study),
            "progress": study.progress(),
            "settings_form": StudySettingsForm(instance=study),
        },
    )


@require_POST
def settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    form = StudySettingsForm(request.POST, instance=study)
    if form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
    else:
        messages.error(
            request,
            " ".join(
                f"{form.fields[name].label}: {' '.join(errors)}"
                for name, errors in form.errors.items()
                if name in form.fields
            ),
        )
    return redirect("studies:manage", slug=study.slug)


@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    user = get_user_model().objects.filter(username=request.POST.get("username", "").strip()).first()
    role = request.POST.get("role")
    if user is None or role not in Membership.Role.values:
        messages.error(request, "Give an existing username and a role.")
    else:
        Membership.objects.get_or_create(study=study, user=user, role=role)
        messages.success(request, f"{user.username} is {role} of {study.name}.")
    return redirect("studies:manage", slug=study.slug)


@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    membership = get_object_or_404(Membership, study=study, pk=pk)
    if (
        membership.role == Membership.Role.ANNOTATOR
        and Assignment.objects.filter(study=study, annotator=membership.user)
        .exclude(status=Assignment.Status.ASSIGNED)
        .exists()
    ):
        messages.error(
            request, f"{membership.user.username} has started labelling; their work stays, and so does the role."
        )
    elif (
        membership.role == Membership.Role.OWNER and study.memberships.filter(role=Membership.Role.OWNER).count() == 1
    ):
        messages.error(request, "A study keeps at least one owner.")
    else:
        if membership.role == Membership.Role.ANNOTATOR:
            Assignment.objects.filter(
                study=study, annotator=membership.user, status=Assignment.Status.ASSIGNED
            ).delete()
        membership.delete()
        messages.success(request, f"{membership.user.username} is no longer {membership.role}.")
    return redirect("studies:manage", slug=study.slug)


@require_POST
def assign(request: HttpRequest, slug: str) -> HttpResponse:
    """Balanced random assignment, or a CSV of issue,annotator rows."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    stage = request.POST.get("stage") if request.POST.get("stage") in Stage.values else Stage.LABELLING
    try:
        upload = request.FILES.get("csv")
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                raise AssignmentError("The CSV is larger than 5 MB.")
            rows = list(csv.DictReader(io.StringIO(upload.read().decode("utf-8-sig"))))
            result = assign_from_rows(study, rows, stage=stage)
        else:
            per_issue = int(request.POST.get("per_issue") or study.annotators_per_issue)
            result = assign_balanced(study, per_issue=per_issue, stage=stage, seed=int(request.POST.get("seed") or 0))
    except (AssignmentError, ValueError, UnicodeDecodeError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{result.created} assignments made; {result.kept} were there already.")
    return redirect("studies:manage", slug=study.slug)


@require_POST
def unassign(request: HttpRequest, slug: str) -> HttpResponse:
    """Take back the assignments of one annotator that they have not started."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    deleted, _ = Assignment.objects.filter(
        study=study, annotator__username=request.POST.get("username"), status=Assignment.Status.ASSIGNED
    ).delete()
    messages.success(request, f"{deleted} unstarted assignment{'s' if deleted != 1 else ''} taken back.")
    return redirect("studies:manage", slug=study.slug)


# --- One issue's assignments, by hand ---


@require_GET
def issue_assignments(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    issue = access.get_study_issue(owner, repo, number).issue
    assignments = Assignment.objects.filter(study=study, issue=issue).select_related("annotator")
    return render(
        request,
        "studies/assignments.html",
        {
            "study": study,
            "issue": issue,
            "issue_url": issue_url(study, issue),
            "stages": Stage.choices,
            "assignments": assignments.order_by("-stage", "annotator__username"),
            "annotators": annotators_of(study),
            "stage": Stage.SCREENING if study.screening else Stage.LABELLING,
        },
    )


@require_POST
def issue_assignment_change(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Add an annotator to the issue, or move or remove one of its assignments that has not been started."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    issue = access.get_study_issue(owner, repo, number).issue
    username = request.POST.get("username", "")
    try:
        if pk := request.POST.get("assignment", ""):
            if not pk.isdigit():
                raise Http404
            assignment = get_object_or_404(
                Assignment.objects.select_related("annotator"), study=study, issue=issue, pk=pk
            )
            if username:
                assignment_move(assignment, username=username)
                messages.success(request, f"Moved from {assignment.annotator.username} to {username}.")
            else:
                assignment_remove(assignment)
                messages.success(request, f"Taken back from {assignment.annotator.username}.")
        else:
            stage = request.POST.get("stage") if request.POST.get("stage") in Stage.values else Stage.LABELLING
            assignment_add(study, issue, username=username, stage=stage)
            messages.success(request, f"Assigned to {username}.")
    except AssignmentError as error:
        messages.error(request, str(error))
    return redirect("studies:issue_assignments", slug=study.slug, owner=owner, repo=repo, number=number)


MAX_ANNOTATIONS_BYTES = 20 * 1024 * 1024
SHOWN_ERRORS = 50


@require_POST
def annotations_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The import_annotations command, for owners: a CSV checked whole, written only without errors."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    upload = request.FILES.get("csv")
    if upload is None or upload.size > MAX_ANNOTATIONS_BYTES:
        messages.error(request, "Choose a CSV file of at most 20 MB.")
        return redirect("studies:manage", slug=study.slug)
    try:
        text = upload.read().decode("utf-8")
        result = import_annotations(
            study,
            text,
            create_users="create_users" in request.POST,
            create_choices="create_choices" in request.POST,
            dry_run="dry_run" in request.POST,
            replace="replace" in request.POST,
            issues=access.reachable_issues(),
        )
    except UnicodeDecodeError as error:
        messages.error(request, f"The file is not UTF-8 text: {error}")
    except AnnotationImportError as error:
        messages.error(request, str(error))
        for problem in error.errors[:SHOWN_ERRORS]:
            messages.error(request, problem)
        if len(error.errors) > SHOWN_ERRORS:
            messages.error(request, f"… and {len(error.errors) - SHOWN_ERRORS} more (the command lists them all).")
    else:
        for warning in result.warnings[:SHOWN_ERRORS]:
            messages.warning(request, warning)
        if result.dry_run:
            messages.success(request, "The file is fine (dry run: nothing was written).")
        else:
            messages.success(
                request,
                f"{result.annotations} annotations and {result.final_values} final values "
                f"imported; {len(result.users_created)} users and "
                f"{len(result.choices_created)} choices created.",
            )
    return redirect("studies:manage", slug=study.slug)
