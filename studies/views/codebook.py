"""The codebook page: every member reads it; owners consolidate open codes, export, import and copy it."""

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studies.access import get_access
from studies.codebook import (
    CHOICE_EDITABLE,
    FIELD_EDITABLE,
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
)
from studies.models import Choice, CodebookField, Stage, Study

MAX_CODEBOOK_BYTES = 1024 * 1024


@require_GET
def codebook(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug)
    study = access.study
    context = {"study": study, "access": access, "fields": study.fields.prefetch_related("choices")}
    if access.may_manage:
        context["codes"] = open_codes(access)
        context["changes"] = study.codebook_changes.select_related("field", "user")[:20]
        context["other_studies"] = Study.objects.visible_to(request.user).exclude(pk=study.pk)
        context["kinds"], context["stages"] = CodebookField.Kind.choices, Stage.choices
    return render(request, "studies/codebook.html", context)


@require_POST
def promote(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    field = get_object_or_404(CodebookField, study=study, key=request.POST.get("field"))
    return _act(
        request,
        study,
        lambda: code_promote(field, request.POST.get("text", ""), user=request.user),
        f"“{request.POST.get('text')}” is now a choice of {field.label}.",
    )


@require_POST
def merge(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    field = get_object_or_404(CodebookField, study=study, key=request.POST.get("field"))
    source, target = request.POST.get("source", ""), request.POST.get("target", "")
    is_choice = request.POST.get("source_is_choice") == "1"

    def merge_it():
        code_merge(field, source, target, user=request.user, source_is_choice=is_choice)

    return _act(request, study, merge_it, f"“{source}” merged into “{target}” ({field.label}).")


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
    study = access.study
    upload = request.FILES.get("codebook")
    if upload is None or upload.size > MAX_CODEBOOK_BYTES:
        messages.error(request, "Choose a codebook JSON file (at most 1 MB).")
        return redirect("studies:codebook", slug=study.slug)
    try:
        data = json.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        messages.error(request, f"Not a JSON file: {error}")
        return redirect("studies:codebook", slug=study.slug)
    return _act(request, study, lambda: codebook_load(study, data), "Codebook loaded.")


@require_POST
def copy(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    source = get_object_or_404(Study.objects.visible_to(request.user), slug=request.POST.get("source"))
    return _act(request, study, lambda: codebook_copy(source, study), f"Codebook of {source.name} copied.")


# --- Editing fields and choices ---


class FieldForm(forms.ModelForm):
    class Meta:
        model = CodebookField
        fields = FIELD_EDITABLE


class NewFieldForm(forms.ModelForm):
    class Meta:
        model = CodebookField
        fields = ("key", "label", "kind", "stage", "definition", "required", "max_choices", "allow_other")


class ChoiceForm(forms.ModelForm):
    class Meta:
        model = Choice
        fields = CHOICE_EDITABLE


class NewChoiceForm(forms.ModelForm):
    label = forms.CharField(max_length=200, required=False)  # the value, when left empty

    class Meta:
        model = Choice
        fields = ("value", "label", "definition", "examples")


@require_POST
def field_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    form = NewFieldForm(request.POST, instance=CodebookField(study=study))
    return _act(
        request,
        study,
        lambda: field_add(study, _cleaned(form), user=request.user),
        f"Field “{request.POST.get('label')}” added.",
        anchor=f"def-{request.POST.get('key')}",
    )


@require_POST
def field_edit(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    field = get_object_or_404(CodebookField, study=study, key=key)
    form = FieldForm(request.POST, instance=field)
    return _act(
        request,
        study,
        lambda: field_update(field, _cleaned(form), user=request.user),
        f"{field.label} saved.",
        anchor=f"def-{key}",
    )


@require_POST
def field_remove(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    field = get_object_or_404(CodebookField, study=study, key=key)
    return _act(request, study, lambda: field_delete(field, user=request.user), f"{field.label} deleted.")


@require_POST
def choice_new(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    field = get_object_or_404(CodebookField, study=study, key=key)
    form = NewChoiceForm(request.POST, instance=Choice(field=field))
    return _act(
        request,
        study,
        lambda: choice_add(field, _cleaned(form), user=request.user),
        f"Choice added to {field.label}.",
        anchor=f"def-{key}",
    )


@require_POST
def choice_edit(request: HttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    choice = get_object_or_404(Choice.objects.select_related("field"), field__study=study, field__key=key, pk=pk)
    form = ChoiceForm(request.POST, instance=choice)
    return _act(
        request,
        study,
        lambda: choice_update(choice, _cleaned(form), user=request.user),
        f"Choice “{choice.value}” saved.",
        anchor=f"def-{key}",
    )


@require_POST
def choice_remove(request: HttpRequest, slug: str, key: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    choice = get_object_or_404(Choice.objects.select_related("field"), field__study=study, field__key=key, pk=pk)
    return _act(
        request,
        study,
        lambda: choice_delete(choice, user=request.user),
        f"Choice “{choice.label}” deleted.",
        anchor=f"def-{key}",
    )


def _cleaned(form: forms.ModelForm) -> dict:
    """The form's data, or a CodebookError saying what is wrong with it."""
    if not form.is_valid():
        raise CodebookError(
            " ".join(
                f"{form.fields[name].label if name in form.fields else 'This'}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            )
        )
    return form.cleaned_data


def _act(request: HttpRequest, study: Study, action, success: str, anchor: str = "") -> HttpResponse:
    try:
        action()
    except CodebookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect(reverse("studies:codebook", args=[study.slug]) + (f"#{anchor}" if anchor else ""))
