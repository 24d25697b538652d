"""The export profiles page: owners save layouts of the labelled dataset under a name; the study page offers each
as a download. The rules are in studies/export_profiles.py, the form in studies/forms.py."""

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator.bidi import isolate
from studies.access import StudyAccess, get_access
from studies.export_profiles import FINAL, SOURCES, ProfileError, profile_save
from studies.forms import ExportProfileForm, failed_or, refuse
from studies.models import CodebookField, ExportProfile

REFUSED = 422


def _profiles_page(request: HttpRequest, access: StudyAccess, failed: BaseForm | None = None) -> HttpResponse:
    study = access.study
    profiles = list(study.export_profiles.all())
    for profile in profiles:
        profile.form = failed_or(ExportProfileForm(profile=profile), failed)
    fields = list(study.fields.prefetch_related("choices"))
    context = {
        "study": study,
        "access": access,
        "profiles": profiles,
        "new_form": failed_or(ExportProfileForm(), failed),
        "sources": list(SOURCES.items()),
        "finals": [(f"{FINAL}{field.key}", field) for field in fields],
        "numbered": [
            f"{FINAL}{field.key}:{number}"
            for field in fields
            if field.kind == CodebookField.Kind.MULTIPLE
            for number in range(1, (field.max_choices or len(field.choices.all())) + 1)
        ],
    }
    return render(request, "studies/profiles.html", context, status=REFUSED if failed else 200)


def _save(request: HttpRequest, access: StudyAccess, profile: ExportProfile | None) -> HttpResponse:
    form = ExportProfileForm(request.POST, profile=profile)
    if form.is_valid():
        try:
            saved = profile_save(access.study, form.cleaned_data, profile=profile)
        except ProfileError as error:
            refuse(form, error)
        else:
            messages.success(request, f"Export profile “{isolate(saved.name)}” saved.")
            return redirect(reverse("studies:profiles", args=[access.study.slug]) + f"#profile-{saved.pk}")
    return _profiles_page(request, access, form)


@require_GET
def profiles(request: HttpRequest, slug: str) -> HttpResponse:
    return _profiles_page(request, get_access(request.user, slug, require="may_manage"))


@require_POST
def profile_new(request: HttpRequest, slug: str) -> HttpResponse:
    return _save(request, get_access(request.user, slug, require="may_manage"), None)


@require_POST
def profile_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    return _save(request, access, get_object_or_404(access.study.export_profiles, pk=pk))


@require_POST
def profile_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    profile = get_object_or_404(access.study.export_profiles, pk=pk)
    profile.delete()
    messages.success(request, f"Export profile “{isolate(profile.name)}” deleted.")
    return redirect("studies:profiles", slug=access.study.slug)
