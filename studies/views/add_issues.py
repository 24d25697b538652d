"""Owners add imported issues to their study: pick a repository, filter, preview the count, add.

Only the issues the owner may reach (studies/access.py): admins every imported issue, other owners those an
admin shared and those already in the study.
"""

from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from annotator.htmx import render_page
from issues.models import Repository
from issues.rendering import render_study_issues
from issues.search import search
from studies.access import get_access


class AddIssuesForm(forms.Form):
    repository = forms.ModelChoiceField(queryset=Repository.objects.none())
    labels = forms.CharField(required=False, help_text="Comma-separated; every one must be on the issue.")
    state = forms.ChoiceField(choices=[("all", "all"), ("open", "open"), ("closed", "closed")], initial="closed")
    since = forms.DateField(
        required=False, label="Created on or after", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Created on or before", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(required=False, label="Text", help_text="Words in the title, body or comments.")
    include_prs = forms.BooleanField(required=False, label="Include pull requests")

    def __init__(self, *args, reachable, **kwargs):
        super().__init__(*args, **kwargs)
        self.reachable = reachable
        self.fields["repository"].queryset = Repository.objects.filter(
            Exists(reachable.filter(repository=OuterRef("pk")))
        ).order_by("owner", "name")

    def issues(self):
        data = self.cleaned_data
        issues = self.reachable.filter(repository=data["repository"])
        if not data["include_prs"]:
            issues = issues.filter(is_pull_request=False)
        labels = [label.strip() for label in data["labels"].split(",") if label.strip()]
        if labels:
            issues = issues.filter(labels__contains=labels)
        if data["state"] != "all":
            issues = issues.filter(state=data["state"])
        if data["since"]:
            issues = issues.filter(created_at__date__gte=data["since"])
        if data["until"]:
            issues = issues.filter(created_at__date__lte=data["until"])
        if data["q"]:
            issues = search(issues, data["q"])
        return issues


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
            messages.success(request, f"{len(added):,} issue{'s' if len(added) != 1 else ''} added to {study.name}.")
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
    return render_page(request, "studies/add_issues.html", context, partial="preview")
