"""The model pages: an admin's endpoints; a study's model raters, their runs (progress polled by htmx), and each
run's log as JSON Lines. Who may open them is studies/access.py's rule; everyone else gets 404."""

import json

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.bidi import isolate
from llm.agreement import compare, gate_of, items_for_humans
from llm.forms import EndpointForm, GateForm, QueueForm, RaterForm
from llm.models import Endpoint, ModelAnswer, ModelGate, ModelRater, ModelRun
from llm.raters import RaterError, rated_fields, rater_add
from llm.runs import RunError, run_pause, run_queue, run_resume
from studies.access import StudyAccess, get_access, may_configure_model_endpoints
from studies.assignment import AssignmentError, assignment_add
from studies.forms import failed_or, refuse

REFUSED = 422


# --- Endpoints: admins ---


def _endpoints_page(request: HttpRequest, form: EndpointForm | None = None) -> HttpResponse:
    context = {"endpoints": Endpoint.objects.all(), "form": form or EndpointForm()}
    return render(request, "llm/endpoints.html", context, status=REFUSED if form else 200)


@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    if not may_configure_model_endpoints(request.user):
        raise Http404
    if request.method == "GET":
        return _endpoints_page(request)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _endpoints_page(request, form)
    endpoint = form.save(commit=False)
    endpoint.created_by = request.user
    endpoint.save()
    messages.success(request, f"Endpoint {endpoint.name} added: prompts may now be sent to {endpoint.base_url}.")
    return redirect("llm:endpoints")


@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if not may_configure_model_endpoints(request.user):
        raise Http404
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Endpoint {endpoint.name} saved.")
        return redirect("llm:endpoints")
    status = REFUSED if request.method == "POST" else 200
    return render(request, "llm/endpoint.html", {"endpoint": endpoint, "form": form}, status=status)


# --- A study's model raters: owners ---


def _raters_page(request: HttpRequest, access: StudyAccess, failed: RaterForm | None = None) -> HttpResponse:
    study = access.study
    raters = list(
        study.model_raters.select_related("endpoint")
        .prefetch_related("fields", Prefetch("runs", queryset=ModelRun.objects.order_by("-created_at", "-id")))
        .annotate(issue_count=Count("issues", distinct=True))
    )
    for rater in raters:
        rater.latest = next(iter(rater.runs.all()), None)
    context = {
        "study": study,
        "access": access,
        "raters": raters,
        "form": failed_or(RaterForm(study=study), failed),
        "has_endpoints": Endpoint.objects.exists(),
    }
    return render(request, "llm/raters.html", context, status=REFUSED if failed else 200)


@require_GET
def raters(request: HttpRequest, slug: str) -> HttpResponse:
    return _raters_page(request, get_access(request.user, slug, require="may_manage_model_raters"))


@require_POST
def rater_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    form = RaterForm(request.POST, study=access.study)
    if not form.is_valid():
        return _raters_page(request, access, form)
    data = form.cleaned_data
    try:
        rater = rater_add(study=access.study, user=request.user, **{**data, "fields": list(data["fields"])})
    except RaterError as error:
        refuse(form, error)
        return _raters_page(request, access, form)
    messages.success(request, f"Model rater {rater.name} added: it rates nothing until you run it.")
    return redirect("llm:rater", slug=slug, name=rater.name)


def _rater(access: StudyAccess, name: str) -> ModelRater:
    return get_object_or_404(access.study.model_raters.select_related("endpoint"), name=name)


def _run(rater: ModelRater, run_id: int) -> ModelRun:
    return get_object_or_404(rater.runs, pk=run_id)


@require_GET
def rater(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    rater = _rater(access, name)
    context = {
        "study": access.study,
        "rater": rater,
        "fields": rater.fields.order_by("position", "id"),
        "issue_count": rater.issues.count(),
        "runs": rater.runs.all()[:20],
    }
    return render(request, "llm/rater.html", context)


@require_GET
def run_progress(request: HttpRequest, slug: str, name: str, run: int) -> HttpResponse:
    """Polled every second while the run is queued or running; a finished run's row has no polling trigger."""
    access = get_access(request.user, slug, require="may_manage_model_raters")
    rater = _rater(access, name)
    return render(request, "llm/rater.html#run-row", {"study": access.study, "rater": rater, "run": _run(rater, run)})


@require_POST
def run_start(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    rater = _rater(access, name)
    try:
        run = run_queue(rater, request.user)
    except RunError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Run {run.pk} queued: the task worker starts it.")
    return redirect("llm:rater", slug=slug, name=name)


@require_POST
def run_pause_view(request: HttpRequest, slug: str, name: str, run: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    run_pause(_run(_rater(access, name), run))
    messages.success(request, f"Run {run} pauses once the requests in flight are back.")
    return redirect("llm:rater", slug=slug, name=name)


@require_POST
def run_resume_view(request: HttpRequest, slug: str, name: str, run: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    try:
        run_resume(_run(_rater(access, name), run))
    except RunError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Run {run} queued again: it asks only what it has not stored.")
    return redirect("llm:rater", slug=slug, name=name)


@require_GET
def run_log(request: HttpRequest, slug: str, name: str, run: int) -> StreamingHttpResponse:
    """Every prompt, model version, parameter, raw response, value and confidence of the run, one JSON object a
    line; only on the issues whose values the viewer may see (an owner who labels an issue blind sees none)."""
    access = get_access(request.user, slug, require="may_manage_model_raters")
    rater = _rater(access, name)
    chosen = _run(rater, run)
    answers = (
        ModelAnswer.objects.filter(run=chosen, study_issue__in=access.revealed_issues())
        .select_related("study_issue__issue__repository", "field", "reused_from")
        .order_by("study_issue_id", "field__position", "field_id")
    )
    lines = (json.dumps(log_record(rater, chosen, answer), ensure_ascii=False) + "\n" for answer in answers.iterator())
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-{rater.name}-run-{chosen.pk}.jsonl"'
    return response


def log_record(rater: ModelRater, run: ModelRun, answer: ModelAnswer) -> dict:
    issue = answer.study_issue.issue
    return {
        "study": rater.study.slug,
        "rater": rater.name,
        "run": run.pk,
        "endpoint": {"name": rater.endpoint.name, "model": rater.endpoint.model},
        "model_version": answer.model_version,
        "issue": f"{issue.repository.full_name}#{issue.number}",
        "field": answer.field.key,
        "codebook_version": answer.codebook_version,
        "parameters": answer.parameters,
        "messages": answer.messages,
        "cut": answer.cut,
        "samples": answer.samples,
        "value": answer.value,
        "confidence": answer.confidence,
        "failed": answer.failed,
        "reused_from_run": answer.reused_from.run_id if answer.reused_from else None,
        "prompt_hash": answer.prompt_hash,
    }


# --- Models measured against the humans ---


def _agreement_page(request, access: StudyAccess, failed=None, failed_key: str = "") -> HttpResponse:
    study = access.study
    fields = rated_fields(study).filter(model_raters__isnull=False).distinct()
    comparisons = [compare(access, f) for f in fields]
    owner = access.may_manage_model_raters
    usernames = list(
        study.memberships.filter(role="annotator").values_list("user__username", flat=True).order_by("user__username")
    )
    for comparison in comparisons:
        key = comparison.field.key
        if owner:
            fresh = GateForm(instance=comparison.gate, auto_id=f"gate-{key}-%s")
            comparison.gate_form = failed if failed_key == f"gate-{key}" else fresh
            fresh_queue = QueueForm(usernames=usernames, auto_id=f"queue-{key}-%s")
            comparison.queue_form = failed if failed_key == f"queue-{key}" else fresh_queue
            comparison.for_humans = len(items_for_humans(study, comparison.field, comparison.threshold))
    context = {"study": study, "access": access, "comparisons": comparisons, "owner": owner}
    return render(request, "llm/agreement.html", context, status=REFUSED if failed else 200)


@require_GET
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    return _agreement_page(request, get_access(request.user, slug, require="may_see_agreement"))


def _rated_field(access: StudyAccess, key: str):
    return get_object_or_404(rated_fields(access.study), key=key)


@require_POST
def gate_set(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_model_raters")
    field = _rated_field(access, key)
    gate = ModelGate.objects.filter(field=field).first() or ModelGate(study=access.study, field=field)
    form = GateForm(request.POST, instance=gate, auto_id=f"gate-{key}-%s")
    if not form.is_valid():
        return _agreement_page(request, access, form, f"gate-{key}")
    gate = form.save(commit=False)
    gate.set_by = request.user
    gate.save()
    messages.success(request, f"The gate of {isolate(field.label)} is saved.")
    return redirect("llm:agreement", slug=slug)


@require_POST
def queue_for_humans(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Hand the issues the models disagree on or are unsure of to the chosen annotators, at the field's stage."""
    access = get_access(request.user, slug, require="may_manage_model_raters")
    study, field = access.study, _rated_field(access, key)
    usernames = list(study.memberships.filter(role="annotator").values_list("user__username", flat=True))
    form = QueueForm(request.POST, usernames=usernames, auto_id=f"queue-{key}-%s")
    if not form.is_valid():
        return _agreement_page(request, access, form, f"queue-{key}")
    _, threshold = gate_of(field)
    given = 0
    with transaction.atomic():
        for study_issue in items_for_humans(study, field, threshold):
            for username in form.cleaned_data["annotators"]:
                try:
                    assignment_add(study, study_issue.issue, username=username, stage=field.stage)
                except AssignmentError:
                    continue  # they have it already
                given += 1
    messages.success(
        request, f"{given} assignment{pluralize(given)} given: the issues the models disagree on or are unsure of."
    )
    return redirect("llm:agreement", slug=slug)
