"""The codebook page: every member reads it; owners edit it, consolidate open codes, export, import and copy it.

The forms are in studies/forms.py, the rules in studies/codebook.py. A change that is refused shows the page
again (422) with the form that failed, open, its errors at its inputs and what was typed still in them.
"""

from collections.abc import Callable

from django.contrib import messages
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator.bidi import isolate
from studies.access import StudyAccess, get_access
from studies.codebook import (
    CodebookError,
    choice_add,
    choice_delete,
    choice_update,
    code_merge,
    code_promote,
    codebook_copy,
    codebook_export,
    codebook_load,
    field_add,
    field_delete,
    field_update,
    open_codes,
    preset,
)
from studies.codebook_versions import rechecks_pending
from studies.forms import (
    ChoiceForm,
    CodebookCopyForm,
    CodebookLoadForm,
    CodebookPresetForm,
    CodeMergeForm,
    CodePromoteForm,
    FieldForm,
    NewChoiceForm,
    NewFieldForm,
    failed_or,
    refuse,
)
from studies.models import Choice, CodebookField

REFUSED = 422  # Unprocessable Content: the page again, with the form that failed


def _codebook_page(request: HttpRequest, access: StudyAccess, failed: BaseForm | None = None) -> HttpResponse:
    """The codebook; for owners with a form for every field, choice and open code, and `failed` in its place."""
    study = access.study
    fields = list(study.fields.prefetch_related("choices"))
    labels = {field.key: field.label for field in fields}
    versions = list(study.codebook_versions.select_related("user"))
    for version in versions:
        version.meaning_labels = [labels.get(key, key) for key in version.meaning_changed]
    context = {"study": study, "access": access, "fields": fields, "versions": versions}
    if access.may_manage:
        context["rechecks_pending"] = rechecks_pending(study)
        sent_from = getattr(failed, "about", None)  # the open code or choice a promotion or merge was sent from
        codes = open_codes(access)
        for code in codes:
            code.form = failed if sent_from == (code.field.key, code.text, False) else None
        for field in fields:
            field.edit_form = failed_or(FieldForm(instance=field), failed)
            field.new_choice_form = failed_or(NewChoiceForm(field=field), failed)
            for choice in field.choices.all():
                choice.edit_form = failed_or(ChoiceForm(instance=choice), failed)
                choice.merge_form = failed if sent_from == (field.key, choice.value, True) else None
        rows = [code.form for code in codes] + [
            choice.merge_form for field in fields for choice in field.choices.all()
        ]
        context |= {
            # Sent from no row of the page as it is now (one changed meanwhile): its errors go at the top.
            "unplaced_form": failed if sent_from and failed not in rows else None,
            "codes": codes,
            "changes": study.codebook_changes.select_related("field", "user")[:20],
            "new_field_form": failed_or(NewFieldForm(), failed),
            "load_form": failed_or(CodebookLoadForm(), failed),
            "preset_form": failed_or(CodebookPresetForm(), failed),
            "copy_form": failed_or(CodebookCopyForm(user=request.user, study=study), failed),
        }
    return render(request, "studies/codebook.html", context, status=REFUSED if failed else 200)


def _act(
    request: HttpRequest,
    access: StudyAccess,
    form: BaseForm,
    action: Callable[[dict], str],
    *,
    anchor: str = "",
    field: str | None = None,
) -> HttpResponse:
    """If the form is valid, `action(cleaned_data)` makes the change and says what it did: back to the codebook
    (at `anchor`) with that message. Refused by the form or by the rules (a CodebookError, shown at `field`, or
    at the field it names): the page again, with the form saying why."""
    if form.is_valid():
        try:
            done = action(form.cleaned_data)
        except CodebookError as error:
            refuse(form, error, field)
        else:
            messages.success(request, done)
            return redirect(reverse("studies:codebook", args=[access.study.slug]) + (f"#{anchor}" if anchor else ""))
    return _codebook_page(request, access, form)


@require_GET
def codebook(request: HttpRequest, slug: str) -> HttpResponse:
    return _codebook_page(request, get_access(request.user, slug))


@require_POST
def promote(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    form = CodePromoteForm(request.POST, study=access.study)
    if form.has_error("field"):
        raise Http404  # no such field in this study

    def promote_it(data: dict) -> str:
        code_promote(data["field"], data["text"], user=request.user)
        return f"“{data['text']}” is now a choice of {data['field'].label}."

    return _act(request, access, form, promote_it)


@require_POST
def merge(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    form = CodeMergeForm(request.POST, study=access.study)
    if form.has_error("field"):
        raise Http404  # no such field in this study

    def merge_it(data: dict) -> str:
        field, source, target = data["field"], data["source"], data["target"]
        code_merge(field, source, target, user=request.user, source_is_choice=data["source_is_choice"])
        return f"“{isolate(source)}” merged into “{isolate(target)}” ({isolate(field.label)})."

    return _act(request, access, form, merge_it)


@require_GET
def export(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug)
    study = access.study
    response = JsonResponse(codebook_export(study), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-codebook.json"'
    return response


@require_POST
def load(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")

    def load_it(data: dict) -> str:
        codebook_load(access.study, data["codebook"], user=request.user, summary="Loaded a codebook file")
        return "Codebook loaded."

    return _act(request, access, CodebookLoadForm(request.POST, request.FILES), load_it, field="codebook")


@require_POST
def load_preset(request: HttpRequest, slug: str) -> HttpResponse:
    """A preset again: a study made from it gets what changed since (new fields, choices, export profiles, a
    version field that became free text)."""
    access = get_access(request.user, slug, require="may_manage")

    def load_it(data: dict) -> str:
        codebook_load(
            access.study,
            preset(data["preset"]),
            screening=access.study.screening,
            user=request.user,
            summary=f"Loaded the {data['preset']} preset",
        )
        return f"The {data['preset']} preset loaded."

    return _act(request, access, CodebookPresetForm(request.POST), load_it, field="preset")


@require_POST
def copy(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    form = CodebookCopyForm(request.POST, user=request.user, study=access.study)
    if form.has_error("source"):
        raise Http404  # no study of that name that they may see

    def copy_it(data: dict) -> str:
        codebook_copy(data["source"], access.study, user=request.user)
        return f"Codebook of {data['source'].name} copied."

    return _act(request, access, form, copy_it, field="source")


# --- Editing fields and choices ---


@require_POST
def field_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")

    def add_it(data: dict) -> str:
        return f"Field “{field_add(access.study, data, user=request.user).label}” added."

    form = NewFieldForm(request.POST)
    return _act(request, access, form, add_it, anchor=f"def-{form.data.get('key')}")


@require_POST
def field_edit(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    field = get_object_or_404(CodebookField, study=access.study, key=key)

    def save_it(data: dict) -> str:
        field_update(field, data, user=request.user)
        return f"{data['label']} saved."

    return _act(request, access, FieldForm(request.POST, instance=field), save_it, anchor=f"def-{key}")


@require_POST
def field_remove(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    field = get_object_or_404(CodebookField, study=access.study, key=key)
    return _remove(request, access, lambda: field_delete(field, user=request.user), f"{isolate(field.label)} deleted.")


@require_POST
def choice_new(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    field = get_object_or_404(CodebookField, study=access.study, key=key)

    def add_it(data: dict) -> str:
        choice_add(field, data, user=request.user)
        return f"Choice added to {isolate(field.label)}."

    return _act(request, access, NewChoiceForm(request.POST, field=field), add_it, anchor=f"def-{key}")


@require_POST
def choice_edit(request: HttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    choice = get_object_or_404(_choices(access), field__key=key, pk=pk)

    def save_it(data: dict) -> str:
        choice_update(choice, data, user=request.user)
        return f"Choice “{isolate(choice.value)}” saved."

    return _act(request, access, ChoiceForm(request.POST, instance=choice), save_it, anchor=f"def-{key}")


@require_POST
def choice_remove(request: HttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    choice = get_object_or_404(_choices(access), field__key=key, pk=pk)
    return _remove(
        request,
        access,
        lambda: choice_delete(choice, user=request.user),
        f"Choice “{isolate(choice.label)}” deleted.",
        anchor=f"def-{key}",
    )


def _choices(access: StudyAccess):
    return Choice.objects.select_related("field").filter(field__study=access.study)


def _remove(request: HttpRequest, access: StudyAccess, action, success: str, anchor: str = "") -> HttpResponse:
    """Nothing is typed to delete: a refusal (a field with answers, a choice in use) is a message on the page."""
    try:
        action()
    except CodebookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect(reverse("studies:codebook", args=[access.study.slug]) + (f"#{anchor}" if anchor else ""))
