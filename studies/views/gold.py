"""The Gold page: an owner's gold issues, the training and check settings, and how each annotator scores against
gold (studies/gold.py). Owners only: everyone else gets 404, trainees included (studies/access.py)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studies import gold
from studies.access import StudyAccess, get_access
from studies.forms import GoldItemForm, TrainingForm, failed_or, refuse
from studies.models import GoldItem, IssueStage, StudyIssue
from studies.views.annotate import issue_pane
from studies.workflow import display_value

REFUSED = 422


def _gold_page(request: HttpRequest, access: StudyAccess, failed: BaseForm | None = None) -> HttpResponse:
    study = access.study
    items = list(study.gold_items.select_related("issue__repository").prefetch_related("answers__field__choices"))
    for answer in (answer for item in items for answer in item.answers.all()):
        answer.shown = display_value(answer.value, answer.field)
    context = {
        "study": study,
        "access": access,
        "form": failed_or(TrainingForm(instance=study), failed),
        "items": items,
    }
    return render(request, "studies/gold.html", context, status=REFUSED if failed else 200)


@require_GET
def gold_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _gold_page(request, get_access(request.user, slug, require="may_manage"))


@require_POST
def training_settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    form = TrainingForm(request.POST, instance=access.study)
    if not form.is_valid():
        return _gold_page(request, access, form)
    form.save()
    messages.success(request, "Training and checks saved.")
    return redirect("studies:gold", slug=slug)


@require_POST
def training_retake(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    annotator = get_object_or_404(get_user_model(), username=request.POST.get("username", ""))
    cleared = gold.training_retake(access.study, annotator)
    messages.success(
        request, f"{annotator.username} trains again: {cleared} training issue{pluralize(cleared)} cleared."
    )
    return redirect("studies:gold", slug=slug)


def _gold_item_page(request, access, study_issue, form, status=200) -> HttpResponse:
    context = {
        **issue_pane(request, access, study_issue),
        "form": form,
        "item": GoldItem.objects.filter(study=access.study, issue=study_issue.issue).first(),
        "may_promote": study_issue.stage == IssueStage.DECIDED and study_issue.decision == StudyIssue.Decision.INCLUDE,
    }
    return render(request, "studies/gold_item.html", context, status=status)


@require_http_methods(["GET", "POST"])
def gold_item(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """Mark the issue as gold, or change its reference answers."""
    access = get_access(request.user, slug, require="may_manage")
    study_issue = access.get_study_issue(owner, repo, number)
    item = GoldItem.objects.filter(study=access.study, issue=study_issue.issue).first()
    answers = {answer.field_id: answer for answer in item.answers.all()} if item else {}
    fields = gold.gold_fields(access.study)
    if request.method == "GET":
        return _gold_item_page(request, access, study_issue, GoldItemForm(fields=fields, answers=answers))
    form = GoldItemForm(request.POST, fields=fields, answers=answers)
    if form.is_valid():
        try:
            gold.gold_item_save(study=access.study, issue=study_issue.issue, user=request.user, answers=form.answers())
        except ValidationError as error:
            for key, reasons in error.message_dict.items():
                refuse(form, ValueError("\n".join(reasons)), field=key)
    if not form.is_valid():
        return _gold_item_page(request, access, study_issue, form, status=REFUSED)
    messages.success(request, f"{study_issue.issue.repository.full_name}#{number} is gold.")
    return redirect("studies:gold", slug=slug)


@require_POST
def gold_promote(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    """The decided issue becomes gold, its final values the reference answers."""
    access = get_access(request.user, slug, require="may_manage")
    study_issue = access.get_study_issue(owner, repo, number)
    try:
        gold.gold_item_promote(study_issue=study_issue, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("studies:gold_item", slug, owner, repo, number)
    messages.success(
        request, f"{study_issue.issue.repository.full_name}#{number} is gold: its final values are the reference."
    )
    return redirect("studies:gold", slug=slug)


@require_POST
def gold_remove(request: HttpRequest, slug: str, owner: str, repo: str, number: int) -> HttpResponse:
    access = get_access(request.user, slug, require="may_manage")
    study_issue = access.get_study_issue(owner, repo, number)
    gold.gold_item_remove(get_object_or_404(GoldItem, study=access.study, issue=study_issue.issue))
    messages.success(request, f"{study_issue.issue.repository.full_name}#{number} is no longer gold.")
    return redirect("studies:gold", slug=slug)
