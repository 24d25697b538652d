"""The agreement report of a study, in the page and as downloads (the JSON is the command's contract)."""

from datetime import datetime, time
from itertools import combinations
from urllib.parse import urlencode

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agreement import coefficients, diagnostics, gold
from agreement.forms import PrimaryStatisticForm
from agreement.intervals import REPLICATES, intervals_for
from agreement.latex import latex_table
from agreement.models import PrimaryStatistic
from agreement.primary import PrimaryStatisticError, declarations, meets, primary_declare
from agreement.ratings import final_ratings
from agreement.report import report_of, study_ratings
from annotator.csv_writer import write_csv
from studies.access import StudyAccess, get_access
from studies.forms import failed_or, refuse
from studies.models import Assignment, CodebookField, Membership, Stage
from studies.versions import posted_version
from studies.views.conflicts import answers_conflicts

COEFFICIENTS = [
    ("percent_agreement", "Percent agreement", "share of items on which all their annotators agree"),
    ("pairwise_agreement", "Pairwise agreement", "mean share of agreeing pairs of annotators (Gwet)"),
    ("fleiss_kappa", "Fleiss' κ", ""),
    ("krippendorff_alpha", "Krippendorff's α", "at the field's level"),
    ("gwet_ac1", "Gwet's AC1", "robust when one value dominates"),
]
KAPPA_LIKE = {"fleiss_kappa", "krippendorff_alpha", "gwet_ac1"}
MAX_MATRICES = 6  # pairs of annotators drawn per field
CELL, LABEL_WIDTH, LABEL_HEIGHT = 28, 130, 110


@require_GET
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_see_agreement")
    return _report_page(request, access)


@require_POST
@answers_conflicts(lambda request, stale, slug, key: _report_page(request, get_access(request.user, slug), stale))
def primary(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Declare or change a field's primary statistic: owners only; after labelling started, with a reason."""
    access = get_access(request.user, slug, require="may_manage")
    field = get_object_or_404(CodebookField, study=access.study, key=key)
    form = PrimaryStatisticForm(request.POST, field=field)
    if form.is_valid():
        data = form.cleaned_data
        try:
            declared = primary_declare(
                field=field,
                statistic=data["statistic"],
                threshold=data["threshold"],
                source=data["source"],
                reason=data["reason"],
                user=request.user,
                version=posted_version(request.POST),
            )
        except PrimaryStatisticError as error:
            refuse(form, error)
        else:
            if declared is None:
                messages.info(request, f"The primary statistic of {field.label} is unchanged.")
            elif declared.after_labelling_started:
                messages.warning(
                    request,
                    f"The primary statistic of {field.label} is now {declared.get_statistic_display()} ≥ "
                    f"{declared.threshold}, recorded as set after labelling started.",
                )
            else:
                messages.success(
                    request,
                    f"The primary statistic of {field.label} is {declared.get_statistic_display()} ≥ "
                    f"{declared.threshold}.",
                )
            return redirect(reverse("agreement:report", args=[slug]) + f"#agreement-{key}")
    return _report_page(request, access, failed=form, status=422)


def _report_page(
    request: HttpRequest, access: StudyAccess, stale=None, *, failed: BaseForm | None = None, status: int = 200
) -> HttpResponse:
    study = access.study
    filters = _filters(request)
    restrictions = {
        "stage": filters["stage"] or None,
        "annotators": filters["annotators"] or None,
        "since": filters["since"],
        "until": filters["until"],
        "since_version": filters["since_version"],
    }
    # Over the issues revealed to the viewer only: a report over issues still blind to them (the confusion matrices
    # above all) could give their values away.
    ratings = study_ratings(study, issues=access.revealed_issues(), **restrictions)
    report = report_of(study, ratings)
    if request.GET.get("format") == "json":
        response = JsonResponse(report, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-agreement.json"'
        return response
    if request.GET.get("format") == "csv":
        return _csv(study, report)
    intervals = intervals_for(access, _filters_key(request), restrictions)
    if request.GET.get("format") == "latex":
        return _latex(study, report, intervals)
    primaries = {p.field_id: p for p in PrimaryStatistic.objects.filter(study=study).select_related("declared_by")}
    history = declarations(list(primaries))
    rows = []
    for key, each in ratings.items():
        row = _field_row(study, each, report["fields"][key], (intervals or {}).get(key, {}))
        row["primary"] = _primary(primaries.get(each.field.pk), history.get(each.field.pk, []), row)
        if row["primary"]:
            # The declared statistic first; every other one is secondary.
            row["table"].sort(key=lambda line: line is not row["primary"]["line"])
        row["warnings"] = report["fields"][key]["warnings"] + [
            warning.as_dict() for warning in diagnostics.interval_warnings((intervals or {}).get(key, {}))
        ]
        if access.may_manage:
            fresh = PrimaryStatisticForm(field=each.field, current=primaries.get(each.field.pk))
            row["primary_form"] = failed_or(fresh, failed)
            current = primaries.get(each.field.pk)
            row["primary_version"] = current.version if current else 0
        rows.append(row)
    annotators = sorted(
        study.memberships.filter(role=Membership.Role.ANNOTATOR).values_list("user__username", flat=True)
    )
    return render(
        request,
        "agreement/report.html",
        {
            "study": study,
            "rows": rows,
            "filters": filters,
            "stages": Stage.choices,
            "codebook_versions": list(study.codebook_versions.values_list("number", flat=True)),
            "annotators": annotators,
            "query": request.GET.urlencode(),
            "computing": intervals is None,
            "replicates": f"{REPLICATES:,}",
            "conflict": str(stale) if stale is not None else "",
            "has_model_raters": study.model_raters.exists(),  # llm/'s view, linked by name: agreement imports no llm
        },
        status=status,
    )


def _primary(current: PrimaryStatistic | None, history: list, row: dict) -> dict | None:
    """The field's primary statistic against its threshold: met only when the value reaches it."""
    if current is None:
        return None
    line = next(line for line in row["table"] if line["name"] == current.statistic)
    met = meets(line["value"], current.threshold)
    low = line["ci"][0] if line["ci"] else None
    return {
        "declaration": current,
        "line": line,
        "met": met,
        # Met by the point estimate only: the interval reaches below the threshold.
        "uncertain": met and low is not None and not meets(low, current.threshold),
        "history": history,
        "changed_after_labelling": any(each.after_labelling_started for each in history),
    }


def _field_row(study, ratings, numbers: dict, intervals: dict) -> dict:
    """What the page shows of one field: its coefficients with bands and intervals, and Cohen's κ pair by pair."""

    def line(label: str, meaning: str, value, reason: str, kappa_like: bool, interval=None) -> dict:
        band = coefficients.landis_koch(value) if value is not None and kappa_like else ""
        shown = interval if interval and None not in interval else None
        return {"label": label, "meaning": meaning, "value": value, "reason": reason, "band": band, "ci": shown}

    table = [
        line(
            label, meaning, numbers[name], numbers["undefined"].get(name, ""), name in KAPPA_LIKE, intervals.get(name)
        )
        | {"name": name}
        for name, label, meaning in COEFFICIENTS
    ]
    field = ratings.field
    if numbers["level"] == "ordinal" and numbers["items"]:
        # Shown beside the ordinal α, as reviewers often ask for it; not part of the JSON contract.
        interval = coefficients.krippendorff_alpha(ratings.rows, "interval", ratings.scale)
        table.append(
            line(
                "Krippendorff's α (interval)",
                "the levels as equally spaced numbers",
                interval.value,
                interval.reason,
                True,
            )
            | {"name": "krippendorff_alpha_interval"}
        )
    pairs = [
        {
            "pair": pair.replace("|", " & "),
            **entry,
            "band": coefficients.landis_koch(entry["kappa"]) if entry["kappa"] is not None else "",
        }
        for pair, entry in numbers["cohen_kappa"].items()
    ]
    diagnosed = [{"pair": pair.replace("|", " & "), **entry} for pair, entry in numbers["diagnostics"].items()]
    return {
        "field": field,
        "numbers": numbers,
        "table": table,
        "pairs": pairs,
        "diagnostics": diagnosed,
        **_details(study, field, ratings),
    }


def _details(study, field, ratings) -> dict:
    """Where the agreement comes from: per value, per pair of annotators, and against the final values."""
    if not ratings.units:
        return {}
    details = {"versus_final": _versus_final(study, field, ratings)}
    if field.kind == CodebookField.Kind.MULTIPLE:
        # Sets of choices: each choice as its own yes/no question.
        details["per_choice"] = []
        for choice in field.choices.all():
            rows = [[None if value is None else choice.value in value for value in row] for row in ratings.rows]
            details["per_choice"].append(
                {
                    "label": choice.label,
                    "percent": coefficients.percent_agreement(rows),
                    "alpha": coefficients.krippendorff_alpha(rows, "nominal"),
                }
            )
        return details
    details["categories"] = list(coefficients.category_agreement(ratings.rows, ratings.scale).items())
    details["matrices"] = [
        _heat_map(ratings, first, second) for first, second in combinations(range(len(ratings.coders)), 2)
    ][:MAX_MATRICES]
    return details


def _versus_final(study, field, ratings) -> list[dict]:
    """Each annotator against the final values: the share of issues where they gave it, and Cohen's κ."""
    finals = final_ratings(study, field, ratings.units)
    rows = []
    for index, coder in enumerate(ratings.coders):
        pairs = [
            [row[index], finals[unit]]
            for unit, row in zip(ratings.units, ratings.rows, strict=True)
            if unit in finals and row[index] is not None
        ]
        if pairs:
            rows.append(
                {
                    "coder": coder,
                    "n": len(pairs),
                    "percent": sum(a == b for a, b in pairs) / len(pairs),
                    "kappa": coefficients.cohen_kappa(pairs),
                }
            )
    return rows


def _heat_map(ratings, first: int, second: int) -> dict:
    """A confusion matrix as SVG cells: darker for more issues (attributes only: the CSP allows no styles)."""
    matrix = coefficients.confusion_matrix([[row[first], row[second]] for row in ratings.rows], ratings.scale)
    largest = int(matrix.counts.max()) or 1
    size = len(matrix.labels)
    cells = [
        {
            "x": LABEL_WIDTH + column * CELL,
            "y": LABEL_HEIGHT + row * CELL,
            "count": int(matrix.counts[row, column]),
            "opacity": round(0.08 + 0.92 * int(matrix.counts[row, column]) / largest, 3),
            "diagonal": row == column,
            "of": f"{matrix.labels[row]} / {matrix.labels[column]}",
        }
        for row in range(size)
        for column in range(size)
    ]
    return {
        "rows_coder": ratings.coders[first],
        "columns_coder": ratings.coders[second],
        "cells": cells,
        "labels": [
            {"text": str(label)[:18], "at": index * CELL + CELL // 2} for index, label in enumerate(matrix.labels)
        ],
        "width": LABEL_WIDTH + size * CELL,
        "height": LABEL_HEIGHT + size * CELL,
        "cell": CELL,
        "label_width": LABEL_WIDTH,
        "label_height": LABEL_HEIGHT,
    }


def _filters_key(request: HttpRequest) -> str:
    """The restrictions of the URL, in one canonical order: what the stored intervals are for."""
    kept = sorted(
        (name, value)
        for name in ("stage", "annotator", "since", "until", "since_version")
        for value in request.GET.getlist(name)
        if value
    )
    return urlencode(kept)[:500]


def _filters(request: HttpRequest) -> dict:
    """Stage, annotators, the window of submissions and the codebook version, from the URL (so that a view can be
    shared)."""
    stage = request.GET.get("stage", "")
    version = request.GET.get("since_version", "")
    return {
        "since_version": int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None,
        "stage": stage if stage in Stage.values else "",
        "annotators": [name for name in request.GET.getlist("annotator") if name],
        "since": _day(request.GET.get("since", "")),
        "until": _day(request.GET.get("until", ""), end=True),
        "since_text": request.GET.get("since", ""),
        "until_text": request.GET.get("until", ""),
    }


def _day(text: str, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment)


def _csv(study, report: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-agreement.csv"'
    columns = ["field", "level", "items", "annotators", "ratings", "coefficient", "value", "n", "undefined"]
    columns += ["role", "note"]
    write_csv(response, columns, _csv_rows(report))
    return response


def _csv_rows(report: dict):
    """A row per coefficient (primary or secondary, when the field has a primary statistic), per pair's κ and
    diagnostics, and per warning (its text in `note`)."""
    for key, numbers in report["fields"].items():
        common = [key, numbers["level"], numbers["items"], numbers["annotators"], numbers["ratings"]]
        primary = numbers.get("primary")
        for name, _, _ in COEFFICIENTS:
            role, note = "", ""
            if primary:
                role = "primary" if name == primary["statistic"] else "secondary"
            if role == "primary":
                verdict = "met" if primary["met"] else "not met"
                changed = "; declared or changed after labelling started" if primary["after_labelling_started"] else ""
                note = f"threshold {primary['threshold']:.3f} ({primary['source']}): {verdict}{changed}"
            value, reason = _number(numbers[name]), numbers["undefined"].get(name, "")
            yield [*common, name, value, numbers["items"], reason, role, note]
        for pair, entry in numbers["cohen_kappa"].items():
            for variant in ("kappa", "linear", "quadratic"):
                if variant in entry:
                    reason = numbers["undefined"].get(
                        f"cohen_kappa {pair}" + ("" if variant == "kappa" else f" {variant}"), ""
                    )
                    yield [*common, f"cohen_{variant} {pair}", _number(entry[variant]), entry["n"], reason, "", ""]
        for pair, found in numbers["diagnostics"].items():
            for name in ("prevalence_index", "bias_index", "pabak", "kappa_max"):
                yield [*common, f"{name} {pair}", _number(found[name]), found["n"], "", "", ""]
        for warning in numbers["warnings"]:
            yield [*common, f"warning {warning['kind']}", "", numbers["items"], "", "", warning["message"]]


def _latex(study, report: dict, intervals: dict | None) -> HttpResponse:
    labels = dict(study.fields.values_list("key", "label"))
    table = latex_table(study.name, labels, report, intervals, timezone.localdate())
    response = HttpResponse(table, content_type="application/x-tex; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-agreement.tex"'
    return response


def _number(value) -> str:
    return "" if value is None else f"{value:.6f}"


@require_GET
def gold_scores(request: HttpRequest, slug: str) -> HttpResponse:
    """Each trainee's and each checked annotator's accuracy and kappa against gold: for owners only (annotators are
    not told which issues are checks)."""
    access = get_access(request.user, slug, require="may_see_gold_scores")
    study = access.study
    context = {
        "study": study,
        "fields": gold.gold_fields(study),
        "trainees": gold.scores(study, Assignment.Purpose.TRAINING),
        "checks": gold.scores(study, Assignment.Purpose.CHECK),
    }
    return render(request, "agreement/gold.html", context)
