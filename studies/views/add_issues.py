"""Owners add imported issues to their study: pick a repository, filter, preview the count, add.

Only the issues the owner may reach (studies/access.py): admins every imported issue, other owners those an
admin shared and those already in the study.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from annotator.bidi import isolate
from annotator.htmx import render_page
from issues.rendering import render_study_issues
from studies.access import get_access
from studies.forms import AddIssuesForm


@require_http_methods(["GET", "POST"])
def add_issues(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study = access.study
    # The filters; a POST (with them in its URL) adds.
    form = AddIssuesForm(request.GET or None, reachable=access.reachable_issues())
    preview = None
    if form.is_bound and form.is_valid():
        issues = form.issues()
        if request.method == "POST":
            new = issues.exclude(study_issues__study=study).values_list("id", flat=True)
            added = study.add_issues(new.iterator())
            render_study_issues.enqueue()  # their pages are ready before annotators open them
            messages.success(
                request, f"{len(added):,} issue{'s' if len(added) != 1 else ''} added to {isolate(study.name)}."
            )
            return redirect("studies:detail", slug=study.slug)
        preview = {
            "matching": issues.count(),
            "already": issues.filter(study_issues__study=study).count(),
            "sample": list(
                issues.select_related("repository")
                .without_texts()
                .exclude(study_issues__study=study)
                .order_by("number")[:5]
            ),
        }
        preview["new"] = preview["matching"] - preview["already"]
    context = {"study": study, "form": form, "preview": preview}
    refused = request.method == "POST" and form.is_bound  # filters that are wrong: nothing added
    return render_page(request, "studies/add_issues.html", context, partial="preview", status=422 if refused else 200)
