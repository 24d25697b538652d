from django.urls import path

from agreement import views as agreement

from .views import add_issues, annotate, codebook, history, issue_list, manage, pages, reconcile

app_name = "studies"
ISSUE = "studies/<slug:slug>/<str:owner>/<str:repo>/issues/<int:number>/"
urlpatterns = [
    path("", pages.study_list, name="list"),
    path("studies/new/", manage.study_create, name="create"),
    path("studies/<slug:slug>/", pages.study_detail, name="detail"),
    path("studies/<slug:slug>/manage/", manage.manage, name="manage"),
    path("studies/<slug:slug>/manage/settings/", manage.settings, name="settings"),
    path("studies/<slug:slug>/manage/members/", manage.member_add, name="member_add"),
    path("studies/<slug:slug>/manage/members/<int:pk>/remove/", manage.member_remove, name="member_remove"),
    path("studies/<slug:slug>/manage/assign/", manage.assign, name="assign"),
    path("studies/<slug:slug>/manage/unassign/", manage.unassign, name="unassign"),
    path("studies/<slug:slug>/manage/annotations/", manage.annotations_upload, name="annotations_upload"),
    path("studies/<slug:slug>/issues/", issue_list.issue_list, name="issues"),
    path("studies/<slug:slug>/issues/add/", add_issues.add_issues, name="add_issues"),
    path("studies/<slug:slug>/next/", annotate.next_issue, name="next"),
    path("studies/<slug:slug>/activity/", history.activity, name="activity"),
    path("studies/<slug:slug>/history.csv", history.history_export, name="history_export"),
    path("studies/<slug:slug>/labels/", pages.export, name="export"),
    path("studies/<slug:slug>/agreement/", agreement.agreement, name="agreement"),
    path("notifications/", pages.notifications, name="notifications"),
    path("notifications/read/", pages.notifications_read, name="notifications_read"),
    path("studies/<slug:slug>/codebook/", codebook.codebook, name="codebook"),
    path("studies/<slug:slug>/codebook/promote/", codebook.promote, name="codebook_promote"),
    path("studies/<slug:slug>/codebook/merge/", codebook.merge, name="codebook_merge"),
    path("studies/<slug:slug>/codebook/export.json", codebook.export, name="codebook_export"),
    path("studies/<slug:slug>/codebook/load/", codebook.load, name="codebook_load"),
    path("studies/<slug:slug>/codebook/copy/", codebook.copy, name="codebook_copy"),
    path("studies/<slug:slug>/codebook/add-field/", codebook.field_new, name="field_new"),
    path("studies/<slug:slug>/codebook/fields/<str:key>/", codebook.field_edit, name="field_edit"),
    path("studies/<slug:slug>/codebook/fields/<str:key>/delete/", codebook.field_remove, name="field_remove"),
    path("studies/<slug:slug>/codebook/fields/<str:key>/choices/add/", codebook.choice_new, name="choice_new"),
    path("studies/<slug:slug>/codebook/fields/<str:key>/choices/<int:pk>/", codebook.choice_edit, name="choice_edit"),
    path(
        "studies/<slug:slug>/codebook/fields/<str:key>/choices/<int:pk>/delete/",
        codebook.choice_remove,
        name="choice_remove",
    ),
    path(ISSUE, annotate.annotate, name="annotate"),
    path(ISSUE + "fields/<str:key>/", annotate.save_field, name="save_field"),
    path(ISSUE + "submit/", annotate.submit, name="submit"),
    path(ISSUE + "reconcile/", reconcile.reconcile, name="reconcile"),
    path(ISSUE + "reconcile/fields/<str:key>/", reconcile.final_value, name="final_value"),
    path(ISSUE + "reconcile/decision/", reconcile.decision, name="decision"),
    path(ISSUE + "reconcile/reopen/", reconcile.reopen_issue, name="reopen"),
    path(ISSUE + "reconcile/comments/", reconcile.comment, name="discussion_comment"),
    path(ISSUE + "history/", history.issue_history_page, name="issue_history"),
    path(ISSUE + "assignments/", manage.issue_assignments, name="issue_assignments"),
    path(ISSUE + "assignments/change/", manage.issue_assignment_change, name="issue_assignment_change"),
]
