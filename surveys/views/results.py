"""A survey's results for its owners: each question's answers (diverging bars as SVG), medians, shares with
intervals, the comments (searchable), filters by background answers, and the summary as CSV or LaTeX."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotator.csv_writer import csv_lines
from studies.access import get_access
from surveys.results import SUMMARY_COLUMNS, background_filters, methods_paragraph, summary_latex, summary_rows
from surveys.results import survey_results as compute


@require_GET
def survey_results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage_surveys")
    survey = get_object_or_404(access.study.surveys, pk=pk)
    filters = background_filters(survey)
    chosen = {asked.id: request.GET.get(asked.id, "") for asked in filters}
    search = request.GET.get("q", "").strip()
    results = compute(survey, filters=chosen, search=search)
    name = f"{access.study.slug}-survey-{survey.pk}-summary"
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(
            csv_lines(SUMMARY_COLUMNS, summary_rows(results)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if request.GET.get("format") == "latex":
        response = HttpResponse(summary_latex(results), content_type="application/x-tex; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.tex"'
        return response
    context = {
        "study": access.study,
        "survey": survey,
        "results": results,
        "filters": [(asked, chosen[asked.id]) for asked in filters],
        "search": search,
        "query": request.GET.urlencode(),
        # The paragraph speaks of the whole survey, whatever the page is filtered by.
        "paragraph": methods_paragraph(compute(survey) if results.filters or search else results),
    }
    return render(request, "surveys/results.html", context)
