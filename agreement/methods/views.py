"""The methods report: its page (the report beside its checklist), its Markdown and LaTeX downloads, and the
owners' choice of example disagreements. The report itself is built in agreement/methods/."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from agreement.forms import ExampleForm
from agreement.intervals import intervals_for
from agreement.methods import methods_report
from agreement.methods.examples import ExampleRefused, chosen_examples, example_choose
from agreement.methods.render import latex, markdown
from annotator.bidi import isolate
from studies.access import StudyAccess, get_access
from studies.forms import refuse
from studies.models import ExampleDisagreement

REFUSED = 422
# The agreement page's intervals without filters: the report shares them (agreement/intervals.py stores them).
UNFILTERED = {"stage": None, "annotators": None, "since": None, "until": None, "since_version": None}
DOWNLOADS = {
    "markdown": (markdown, "text/markdown", "md"),
    "latex": (latex, "application/x-tex", "tex"),
}


def _report_page(request: HttpRequest, access: StudyAccess, failed: ExampleForm | None = None) -> HttpResponse:
    study = access.study
    report = methods_report(access, intervals=intervals_for(access, "", UNFILTERED))
    context = {
        "study": study,
        "access": access,
        "report": report,
        "chosen": chosen_examples(access) if access.may_choose_examples else [],
        "form": failed or ExampleForm(study=study),
    }
    return render(request, "agreement/methods.html", context, status=REFUSED if failed else 200)


@require_GET
def methods(request: HttpRequest, slug: str) -> HttpResponse:
    """The page, or (`?format=markdown|latex`) the report as a file."""
    access = get_access(request.user, slug, require="may_see_methods_report")
    if request.GET.get("format") not in DOWNLOADS:
        return _report_page(request, access)
    write, content_type, extension = DOWNLOADS[request.GET["format"]]
    report = methods_report(access, intervals=intervals_for(access, "", UNFILTERED))
    response = HttpResponse(write(report), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-methods.{extension}"'
    return response


@require_POST
def example_add(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_choose_examples")
    form = ExampleForm(request.POST, study=access.study)
    if form.is_valid():
        study_issue, field = form.cleaned_data["issue"], form.cleaned_data["field"]
        try:
            example_choose(access=access, study_issue=study_issue, field=field, user=request.user)
        except ExampleRefused as error:
            refuse(form, error, "issue")
        else:
            issue = study_issue.issue
            reference = isolate(f"{issue.repository.full_name}#{issue.number}")
            messages.success(request, f"{reference} is an example for {isolate(field.label)}.")
            return redirect("agreement:methods", slug=slug)
    return _report_page(request, access, form)


@require_POST
def example_remove(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_choose_examples")
    chosen = request.POST.get("example", "")
    example = get_object_or_404(
        ExampleDisagreement,
        pk=int(chosen) if chosen.isascii() and chosen.isdigit() else 0,
        study_issue__study=access.study,
    )
    example.delete()
    messages.success(request, "The example is no longer shown.")
    return redirect("agreement:methods", slug=slug)
