"""The Imports pages: admins upload dump files, watch the import run, read the results.

Researchers never see them: every URL answers 404 to a non-staff user.
"""

from functools import wraps

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.htmx import render_page
from issues.forms import ImportForm
from issues.importers.missing_comments import issues_missing_comments
from issues.importers.run import MISSING_COMMENTS, ImportOptions, write_problems_csv
from issues.models import ImportRun
from issues.tasks import fetch_comments as fetch_comments_task
from issues.tasks import run_import
from issues.uploads import ImportUploadHandler

RUNS_PER_PAGE = 25
PROBLEMS_SHOWN = 50


def staff_only(view):
    """Imports are for admins; to anyone else they do not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@staff_only
@require_http_methods(["GET", "POST"])
# Django's documented pattern for a custom upload handler: the CSRF check would read the body before the
# handler is in place, so the check moves to _create (@csrf_protect); tests prove a POST without a token fails.
@csrf_exempt
def import_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        uploads = ImportUploadHandler(request)
        request.upload_handlers = [uploads]
        try:
            return _create(request, uploads)
        finally:
            if not uploads.kept:  # a form error, a CSRF failure, an exception
                uploads.discard()
    context = {"form": ImportForm(user=request.user), "page": _history_page(request)}
    return render_page(request, "issues/imports.html", context, partial="import-history")


@csrf_protect
def _create(request: HttpRequest, uploads: ImportUploadHandler) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES, user=request.user, upload_errors=uploads.errors)
    if not form.is_valid():
        context = {"form": form, "page": _history_page(request)}
        return render_page(request, "issues/imports.html", context, partial="import-form", status=422)
    files, options = form.cleaned_data["files"], form.import_options().as_dict()
    # The service stores the options when the run starts; a queued run shows them already.
    run = ImportRun.objects.create(
        source=ImportRun.Source.UPLOAD,
        created_by=request.user,
        files=[file.description() for file in files],
        options=options,
    )
    run_import.enqueue(run.pk, uploads.store(files), options)  # the task deletes them when it is done
    if request.htmx:
        return HttpResponseClientRedirect(run.get_absolute_url())
    return redirect(run)


@staff_only
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("created_by"), pk=pk)
    return render(request, "issues/import_detail.html", {**_progress(run), "options": option_items(run.options)})


@staff_only
@require_POST
def fetch_comments(request: HttpRequest, pk: int) -> HttpResponse:
    """Fetch from GitHub, in the task worker, the comments the run's dumps counted but did not hold: of its
    study's issues if it had a study, else of every issue that misses some."""
    run = get_object_or_404(ImportRun, pk=pk)
    options = ImportOptions(study=run.options.get("study", ""), fetch_comments=True)
    fetching = ImportRun.objects.create(
        source=ImportRun.Source.GITHUB,
        created_by=request.user,
        files=[{"name": "comments missing from dumps"}],
        options=options.as_dict(),
    )
    fetch_comments_task.enqueue(fetching.pk, options.study)
    return redirect(fetching)


@staff_only
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled every second while the run is going; the finished state has no polling trigger."""
    run = get_object_or_404(ImportRun, pk=pk)
    return render(request, "issues/import_detail.html#import-progress", _progress(run))


@staff_only
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    write_problems_csv(run, response)
    return response


def _history_page(request: HttpRequest):
    page = Paginator(ImportRun.objects.select_related("created_by"), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page.object_list:
        run.options_summary = " · ".join(f"{label} {value}" for label, value in option_items(run.options))
    return page


def _progress(run: ImportRun) -> dict:
    """What the progress bar and the results show: rates and times as text."""
    context = {"run": run}
    if run.started_at:
        elapsed = ((run.finished_at or timezone.now()) - run.started_at).total_seconds()
        context["elapsed"] = duration(elapsed)
        if elapsed > 0:
            context["rate"] = f"{run.records_read / elapsed:,.0f}"
        fraction = run.bytes_read / run.bytes_total if run.bytes_total else 0
        if not run.is_finished and 0 < fraction < 1:
            context["eta"] = duration(elapsed * (1 - fraction) / fraction)
    if run.is_finished:
        if run.counts.get(MISSING_COMMENTS):
            # Still missing now (a later fetch may have got them): what the button would fetch.
            context["missing_comments"] = issues_missing_comments(run.options.get("study", "")).count()
        context["counts"] = run.result_rows()
        context["problems"] = list(run.problems.all()[:PROBLEMS_SHOWN])
        context["problems_shown"] = PROBLEMS_SHOWN
    return context


def option_items(options: dict) -> list[tuple[str, str]]:
    """A run's options (ImportOptions.as_dict()) as (label, value) pairs in words."""
    items = []
    if options.get("format"):
        items.append(("format", options["format"]))
    if options.get("repository"):
        items.append(("repository", options["repository"]))
    selection = options.get("selection", {})
    for name, label in [
        ("labels", "labels (all of)"),
        ("any_labels", "labels (any of)"),
        ("exclude_labels", "labels (none of)"),
    ]:
        if selection.get(name):
            items.append((label, ", ".join(selection[name])))
    for name, label in [("state", "state"), ("since", "created on or after"), ("until", "created on or before")]:
        if selection.get(name):
            items.append((label, selection[name]))
    if selection.get("include_prs"):
        items.append(("pull requests", "included"))
    if selection.get("limit"):
        items.append(("limit", f"{selection['limit']:,}"))
    if selection.get("sample"):
        items.append(("sample", f"{selection['sample']:,} (seed {selection.get('seed', 0)})"))
    if options.get("study"):
        items.append(("study", options["study"]))
    if options.get("share"):
        items.append(("shared", "with every study"))
    if options.get("strict"):
        items.append(("strict", "yes"))
    if options.get("fetch_comments"):
        items.append(("comments", "fetched from GitHub for the issues whose dumps left them out"))
    return items


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:.0f} min"
