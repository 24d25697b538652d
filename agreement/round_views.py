"""Calibration rounds: the rounds page (start one, each field's agreement round by round, its CSV) and a round's
report."""

import math

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agreement.models import PrimaryStatistic
from agreement.rounds import (
    CSV_COLUMNS,
    RoundError,
    all_met,
    codebook_changes,
    csv_rows,
    eligible_issues,
    previous_round,
    round_close,
    round_disagreements,
    round_fields,
    round_results,
    round_start,
    rounds_summary,
)
from annotator.csv_writer import csv_lines
from studies.access import StudyAccess, get_access
from studies.assignment import annotators_of
from studies.forms import RoundStartForm, failed_or, refuse
from studies.models import Round
from studies.views.manage import REFUSED

# The plot of one field: a column per round, agreement from its lowest value (0 or below) up to 1.
PLOT_HEIGHT, PLOT_TOP, PLOT_LEFT, COLUMN = 160, 12, 44, 64


@require_http_methods(["GET", "POST"])
def rounds(request: HttpRequest, slug: str) -> HttpResponse:
    """The rounds so far, plotted; owners start the next one here (a refused start comes back with its errors)."""
    access = get_access(request.user, slug, require="may_manage" if request.method == "POST" else "may_see_rounds")
    if request.method == "GET":
        return _rounds_page(request, access)
    form = _start_form(access, request.POST)
    if form.is_valid():
        try:
            started = round_start(study=access.study, user=request.user, **form.cleaned_data)
        except RoundError as error:
            refuse(form, error)
        else:
            messages.success(request, f"Round {started.number} started: {started.size} issues assigned for labelling.")
            return redirect("agreement:round", slug=slug, round_number=started.number)
    return _rounds_page(request, access, form)


@require_GET
def round_report(request: HttpRequest, slug: str, round_number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_see_rounds")
    rounds = Round.objects.select_related("study", "started_by")
    round_ = get_object_or_404(rounds, study=access.study, number=round_number)
    results = round_results(round_, access)
    disagreements = round_disagreements(round_, access)
    primary = {each.field_id: each for each in PrimaryStatistic.objects.filter(field__in=round_.fields.all())}
    context = {
        "study": access.study,
        "access": access,
        "round": round_,
        "rows": [
            {
                "result": result,
                "disagreements": disagreements[result.field.pk],
                "primary": primary.get(result.field.pk),
            }
            for result in results
        ],
        "all_met": all_met(results),
        "previous": previous_round(round_),
        "changes": codebook_changes(round_),
        "annotators": round_.annotators.order_by("username"),
        "hidden": round_.issues.count() - round_.issues.filter(access.revealed_filter()).count(),
    }
    return render(request, "agreement/round.html", context)


@require_POST
def round_close_view(request: HttpRequest, slug: str, round_number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    round_ = get_object_or_404(Round, study=access.study, number=round_number)
    try:
        closed = round_close(round_)
    except RoundError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Round {closed.number} closed at codebook version {closed.codebook_version_end}.")
    return redirect("agreement:round", slug=slug, round_number=round_number)


@require_GET
def rounds_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """One row per round and field: the statistic, its interval, the stop rule and the codebook versions."""
    access = get_access(request.user, slug, require="may_see_rounds")
    lines = csv_lines(CSV_COLUMNS, csv_rows(rounds_summary(access.study, access)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-rounds.csv"'
    return response


def _start_form(access: StudyAccess, data=None) -> RoundStartForm:
    """The stop rule starts as the study's pre-registered primary statistic when its fields share one, so that a
    round is not judged by another statistic unless the owner chooses it."""
    study = access.study
    declared = set(PrimaryStatistic.objects.filter(study=study).values_list("statistic", "threshold"))
    initial = {}
    if len(declared) == 1 and (rule := declared.pop())[0] in Round.Statistic.values:
        initial = {"statistic": rule[0], "threshold": rule[1]}
    return RoundStartForm(data, initial=initial, annotators=annotators_of(study), fields=list(round_fields(study)))


def _rounds_page(request: HttpRequest, access: StudyAccess, failed: RoundStartForm | None = None) -> HttpResponse:
    study = access.study
    summary = rounds_summary(study, access)
    context = {
        "study": study,
        "access": access,
        "summary": summary,
        "plots": _plots(summary),
        "open_round": study.rounds.filter(closed_at__isnull=True).first(),
        "form": failed_or(_start_form(access), failed) if access.may_manage else None,
        "eligible": eligible_issues(study).count(),
    }
    return render(request, "agreement/rounds.html", context, status=REFUSED if failed else 200)


def _plots(summary) -> list[dict]:
    """Each field's agreement round by round, as SVG coordinates: a point per round, its 95 % interval as a bar, its
    threshold as a dashed line across its column."""
    by_field: dict[str, dict] = {}
    for each, results in summary:
        for result in results:
            plot = by_field.setdefault(result.field.key, {"field": result.field, "points": []})
            plot["points"].append((each, result))
    numbers = [number for _, results in summary for r in results for number in (r.value, r.low) if number is not None]
    lowest = min([0.0, *numbers])
    bottom = max(-1.0, math.floor(lowest * 10) / 10)

    def y(value: float) -> float:
        return round(PLOT_TOP + (1 - (value - bottom) / (1 - bottom)) * PLOT_HEIGHT, 1)

    plots = []
    for plot in by_field.values():
        points = []
        for index, (each, result) in enumerate(plot["points"]):
            x = PLOT_LEFT + COLUMN * index + COLUMN // 2
            points.append(
                {
                    "round": each.number,
                    "x": x,
                    "y": y(result.value) if result.value is not None else None,
                    "low": y(result.low) if result.low is not None else None,
                    "high": y(result.high) if result.high is not None else None,
                    "threshold": y(each.threshold),
                    "left": x - COLUMN // 2 + 6,
                    "right": x + COLUMN // 2 - 6,
                    "result": result,
                }
            )
        plots.append(
            {
                "field": plot["field"],
                "points": points,
                "line": " ".join(f"{p['x']},{p['y']}" for p in points if p["y"] is not None),
                "width": PLOT_LEFT + COLUMN * len(points) + 8,
                "height": PLOT_TOP + PLOT_HEIGHT + 28,
                "axis": [{"value": value, "y": y(value)} for value in sorted({bottom, 0.0, 0.5, 1.0})],
                "axis_left": PLOT_LEFT,
                "label_y": PLOT_TOP + PLOT_HEIGHT + 18,
            }
        )
    return plots
