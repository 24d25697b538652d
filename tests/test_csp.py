"""A strict Content-Security-Policy on every page: nothing inline, nothing foreign."""

import pytest
from django.contrib import admin
from django.urls import reverse

from studies.codebook import codebook_load, preset
from studies.models import IssueStage, Stage
from tests.factories import AssignmentFactory, ImportRunFactory, StudyIssueFactory

pytestmark = pytest.mark.django_db


def with_annotation_work(study, annotator):
    """The silent-bugs codebook; the first issue is assigned to the annotator; a second one is in reconciliation."""
    codebook_load(study, preset("silent-bugs"))
    AssignmentFactory(study=study, issue=study.issues.first(), annotator=annotator, stage=Stage.LABELLING)
    StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)


def app_pages(study, import_run) -> list[str]:
    """Every page of the app an admin can open, the Django admin included."""
    issue = study.issues.select_related("repository").first()
    on_issue = [study.slug, issue.repository.owner, issue.repository.name, issue.number]
    reconciled = study.study_issues.filter(stage=IssueStage.RECONCILIATION).select_related("issue__repository").get()
    repository = reconciled.issue.repository
    pages = [
        reverse("studies:list"),
        reverse("studies:detail", args=[study.slug]),
        reverse("studies:annotate", args=on_issue),
        reverse("studies:issue_history", args=on_issue),
        reverse("studies:issue_assignments", args=on_issue),
        reverse("studies:reconcile", args=[study.slug, repository.owner, repository.name, reconciled.issue.number]),
        reverse("studies:activity", args=[study.slug]),
        reverse("agreement:report", args=[study.slug]),
        reverse("studies:notifications"),
        reverse("studies:issues", args=[study.slug]),
        reverse("studies:add_issues", args=[study.slug]),
        reverse("studies:codebook", args=[study.slug]),
        reverse("studies:manage", args=[study.slug]),
        reverse("studies:create"),
        reverse("issues:import_list"),
        reverse("issues:import_detail", args=[import_run.pk]),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("admin:index"),
    ]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if meta.app_label in {"issues", "studies", "auth"}:  # task results are read-only
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return pages


def test_it_sends_a_strict_policy_on_every_page(client, admin_user, study):
    StudyIssueFactory(study=study)
    with_annotation_work(study, admin_user)
    import_run = ImportRunFactory()
    client.force_login(admin_user)

    for url in app_pages(study, import_run):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy, url
        assert "script-src 'self' 'nonce-" in policy, url
        assert "object-src 'none'" in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert "unsafe-eval" not in policy, url


def test_it_sends_the_policy_on_the_login_page_to_anonymous_users(client):
    policy = client.get(reverse("login")).headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
