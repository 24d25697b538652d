"""Running a study: admins create studies; owners manage members and assignments.

The forms are in studies/forms.py. A POST that succeeds redirects to the page, which says what was done; one
that is refused shows the page again (422) with the form that failed: its errors at its inputs, what was typed
still in them.
"""

from copy import copy

from django.contrib import messages
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.bidi import isolate
from studies import members
from studies.access import StudyAccess, get_access, may_create_studies
from studies.annotation_import import AnnotationImportError, Result, import_annotations
from studies.assignment import (
    AssignmentError,
    annotators_of,
    assign_balanced,
    assign_from_rows,
    assignment_add,
    assignment_move,
    assignment_remove,
)
from studies.codebook import codebook_load, preset
from studies.forms import (
    SHOWN_ERRORS,
    AnnotationsUploadForm,
    AssignBalancedForm,
    AssignFromCsvForm,
    AssignmentChangeForm,
    MemberAddForm,
    StudyForm,
    StudySettingsForm,
    UnassignForm,
    failed_or,
    refuse,
)
from studies.models import Assignment, Membership, Study
from studies.views.annotate import issue_url

REFUSED = 422  # Unprocessable Content: the page again, with the form that failed


@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    if not may_create_studies(request.user):
        raise Http404
    form = StudyForm(request.POST) if request.method == "POST" else StudyForm()
    if form.is_bound and form.is_valid():
        study = form.save()
        if form.cleaned_data["preset"]:
            name = form.cleaned_data["preset"]
            codebook_load(
                study, preset(name), screening=study.screening, user=request.user, summary=f"Loaded the {name} preset"
            )
        Membership.objects.create(study=study, user=request.user, role=Membership.Role.OWNER)
        messages.success(request, f"Study {isolate(study.name)} created; you are its owner.")
        return redirect("studies:manage", slug=study.slug)
    return render(request, "studies/create.html", {"form": form}, status=REFUSED if form.is_bound else 200)


def _manage_page(request: HttpRequest, access: StudyAccess, failed: BaseForm | None = None) -> HttpResponse:
    """The Manage page with fresh forms; after a refused POST, with `failed` in its place instead."""
    study = access.study
    forms = {
        "settings_form": StudySettingsForm(instance=study),
        "member_form": MemberAddForm(),
        "assign_form": AssignBalancedForm(study=study),
        "assign_csv_form": AssignFromCsvForm(study=study),
        "unassign_form": UnassignForm(),
        "upload_form": AnnotationsUploadForm(),
    }
    context = {
        "study": study,
        "members": study.memberships.select_related("user").order_by("user__username", "role"),
        "annotators": annotators_of(study),
        "progress": study.progress(gold_apart=True),
        **{name: failed_or(form, failed) for name, form in forms.items()},
    }
    return render(request, "studies/manage.html", context, status=REFUSED if failed else 200)


@require_GET
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    return _manage_page(request, get_access(request.user, slug, require="may_manage"))


@require_POST
def settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    # A copy: validating writes what was typed onto the instance, and a refused form's page shows the study as
    # it is saved.
    form = StudySettingsForm(request.POST, instance=copy(access.study))
    if not form.is_valid():
        return _manage_page(request, access, form)
    form.save()
    messages.success(request, "Settings saved.")
    return redirect("studies:manage", slug=slug)


@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, access, form)
    role = form.cleaned_data["role"]
    Membership.objects.get_or_create(study=study, user=form.user, role=role)
    messages.success(request, f"{form.user.username} is {role} of {isolate(study.name)}.")
    return redirect("studies:manage", slug=slug)


@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Nothing is typed here: a refusal is a message on the Manage page."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    membership = get_object_or_404(Membership.objects.select_related("user"), study=study, pk=pk)
    try:
        members.member_remove(membership)
    except members.MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{membership.user.username} is no longer {membership.role}.")
    return redirect("studies:manage", slug=study.slug)


@require_POST
def assign(request: HttpRequest, slug: str) -> HttpResponse:
    """Balanced random assignment, or a CSV of issue,annotator rows (its form says `by=csv`)."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    from_csv = request.POST.get("by") == "csv" or "csv" in request.FILES
    form = (AssignFromCsvForm if from_csv else AssignBalancedForm)(request.POST, request.FILES, study=study)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if from_csv:
                result = assign_from_rows(study, data["csv"], stage=data["stage"])
            else:
                result = assign_balanced(study, per_issue=data["per_issue"], stage=data["stage"], seed=data["seed"])
        except AssignmentError as error:
            refuse(form, error, field="csv" if from_csv else None)
        else:
            messages.success(request, f"{result.created} assignments made; {result.kept} were there already.")
            return redirect("studies:manage", slug=slug)
    return _manage_page(request, access, form)


@require_POST
def unassign(request: HttpRequest, slug: str) -> HttpResponse:
    """Take back the assignments of one annotator that they have not started."""
    access = get_access(request.user, slug, require="may_manage")
    form = UnassignForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, access, form)
    deleted, _ = Assignment.objects.filter(
        study=access.study, annotator__username=form.cleaned_data["username"], status=Assignment.Status.ASSIGNED
    ).delete()
    messages.success(request, f"{deleted} unstarted assignment{'s' if deleted != 1 else ''} taken back.")
    return redirect("studies:manage", slug=slug)


@require_POST
def annotations_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The import_annotations command, for owners: a CSV checked whole, written only without errors."""
    access = get_access(request.user, slug, require="may_manage")
    form = AnnotationsUploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = import_annotations(
                access.study,
                data["csv"],
                create_users=data["create_users"],
                create_choices=data["create_choices"],
                dry_run=data["dry_run"],
                replace=data["replace"],
                issues=access.reachable_issues(),
            )
        except AnnotationImportError as error:
            form.refuse_file(error)
        else:
            _say_imported(request, result)
            return redirect("studies:manage", slug=slug)
    return _manage_page(request, access, form)


def _say_imported(request: HttpRequest, result: Result) -> None:
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


# --- One issue's assignments, by hand ---


def _assignments_page(
    request: HttpRequest, access: StudyAccess, issue, failed: AssignmentChangeForm | None = None
) -> HttpResponse:
    """The issue's assignments, a form to change each, one to add; after a refused POST, with `failed` in place."""
    study = access.study
    annotators = annotators_of(study)
    assignments = list(
        Assignment.objects.filter(study=study, issue=issue)
        .select_related("annotator")
        .order_by("-stage", "annotator__username")
    )
    for assignment in assignments:
        fresh = AssignmentChangeForm(study=study, annotators=annotators, assignment=assignment)
        assignment.form = failed_or(fresh, failed)
    context = {
        "study": study,
        "issue": issue,
        "issue_url": issue_url(study, issue),
        "assignments": assignments,
        "add_form": failed_or(AssignmentChangeForm(study=study, annotators=annotators), failed),
    }
    return render(request, "studies/assignments.html", context, status=REFUSED if failed else 200)


@require_GET
def issue_assignments(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    return _assignments_page(request, access, access.get_study_issue(owner, repo, number).issue)


@require_POST
def issue_assignment_change(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Add an annotator to the issue, or move or remove one of its assignments that has not been started."""
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    issue = access.get_study_issue(owner, repo, number).issue
    assignment = _assignment_or_404(study, issue, request.POST.get("assignment", ""))
    form = AssignmentChangeForm(request.POST, study=study, annotators=annotators_of(study), assignment=assignment)
    if form.is_valid():
        try:
            done = _change(study, issue, assignment, **form.cleaned_data)
        except AssignmentError as error:
            refuse(form, error)
        else:
            messages.success(request, done)
            return redirect("studies:issue_assignments", slug=slug, owner=owner, repo=repo, number=number)
    return _assignments_page(request, access, issue, form)


def _assignment_or_404(study: Study, issue, pk: str) -> Assignment | None:
    """The assignment of this issue that the form names, or None if it names none; 404 for any other."""
    if not pk:
        return None
    if not pk.isdigit():
        raise Http404
    return get_object_or_404(Assignment.objects.select_related("annotator"), study=study, issue=issue, pk=pk)


def _change(study: Study, issue, assignment: Assignment | None, *, username: str, stage: str) -> str:
    """Give the issue to one more annotator, move the assignment, or take it back; what was done, in words."""
    if assignment is None:
        assignment_add(study, issue, username=username, stage=stage)
        return f"Assigned to {username}."
    if username:
        assignment_move(assignment, username=username)
        return f"Moved from {assignment.annotator.username} to {username}."
    assignment_remove(assignment)
    return f"Taken back from {assignment.annotator.username}."
