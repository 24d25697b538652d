"""Codebook versions as downloads, and the re-check queue: an annotator's own answers given before the owner
changed what their field means (studies/codebook_versions.py).

Re-checks are blind like labelling: every query goes through the request user's own annotations.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotator.bidi import isolate
from studies.access import get_access
from studies.annotation import recheck_change, recheck_confirm
from studies.codebook_versions import rechecks, snapshot_field
from studies.models import Annotation, CodebookVersion
from studies.versions import posted_version
from studies.views.annotate import _field_state, _posted_state, posted_value
from studies.views.conflicts import answers_conflicts
from studies.workflow import display_value


def _json_download(data, filename: str) -> JsonResponse:
    response = JsonResponse(data, safe=False, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def versions_export(request: HttpRequest, slug: str) -> HttpResponse:
    """Every version of the codebook, oldest first, each with its snapshot and its diff against the one before."""
    study = get_access(request.user, slug).study
    versions = study.codebook_versions.select_related("user").order_by("number")
    data = {
        "study": study.slug,
        "versions": [
            {
                "number": version.number,
                "created_at": version.created_at.isoformat(),
                "user": version.user.username if version.user else None,
                "summary": version.summary,
                "meaning_changed": version.meaning_changed,
                "diff": version.diff,
                "codebook": version.snapshot,
            }
            for version in versions
        ],
    }
    return _json_download(data, f"{study.slug}-codebook-versions.json")


@require_GET
def version_export(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """One version's codebook, as the codebook download writes it: a file that loads as a codebook."""
    study = get_access(request.user, slug).study
    found = get_object_or_404(CodebookVersion, study=study, number=version)
    return _json_download(found.snapshot, f"{study.slug}-codebook-v{version}.json")


def _recheck_page(request: HttpRequest, slug: str, refused: dict | None = None, status: int = 200) -> HttpResponse:
    """The user's re-checks, each with the field as it was when they answered and as it is now; `refused`: the
    item whose change was refused, {"pk", "error", "state"}, shown as it was typed."""
    access = get_access(request.user, slug)
    study = access.study
    items = list(rechecks(study, request.user))
    versions = {version.number: version for version in study.codebook_versions.all()}
    latest = max(versions, default=1)
    for item in items:
        item.then = snapshot_field(versions.get(item.codebook_version), item.field.key)
        item.now = snapshot_field(versions.get(latest), item.field.key)
        item.shown = display_value(item.value, item.field)
        item.state = _field_state(item.field, item, readonly=False)
        if refused and refused["pk"] == item.pk:
            item.error, item.state = refused["error"], refused["state"]
    context = {"study": study, "access": access, "items": items, "latest": latest}
    return render(request, "studies/recheck.html", context, status=status)


def _own_recheck(request: HttpRequest, slug: str, pk: int) -> Annotation:
    """One of the user's own re-checks; 404 for anything else (another's answer, one re-checked already)."""
    study = get_access(request.user, slug).study
    return get_object_or_404(rechecks(study, request.user), pk=pk)


def _recheck_conflict(request: HttpRequest, stale, slug: str, pk: int) -> HttpResponse:
    """Another tab re-checked or changed the answer meanwhile: the queue as it is now, saying so."""
    messages.error(request, str(stale))
    return _recheck_page(request, slug, status=409)


@require_GET
def recheck(request: HttpRequest, slug: str) -> HttpResponse:
    return _recheck_page(request, slug)


@require_POST
@answers_conflicts(_recheck_conflict)
def recheck_keep(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    annotation = _own_recheck(request, slug, pk)
    recheck_confirm(annotation=annotation, version=posted_version(request.POST))
    messages.success(request, f"{isolate(annotation.field.label)}: your answer stands.")
    return redirect("studies:recheck", slug=slug)


@require_POST
@answers_conflicts(_recheck_conflict)
def recheck_answer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    annotation = _own_recheck(request, slug, pk)
    version = posted_version(request.POST)
    try:
        recheck_change(annotation=annotation, value=posted_value(annotation.field, request.POST), version=version)
    except ValidationError as error:
        state = {**_posted_state(annotation.field, request.POST), "version": version}
        return _recheck_page(request, slug, {"pk": pk, "error": " ".join(error.messages), "state": state}, 422)
    messages.success(request, f"{isolate(annotation.field.label)}: your answer is changed.")
    return redirect("studies:recheck", slug=slug)
