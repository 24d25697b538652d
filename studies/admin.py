from django.contrib import admin

from .codebook_versions import codebook_changed
from .models import Assignment, Choice, CodebookField, Membership, Study, StudyIssue


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(StudyIssue)
class StudyIssueAdmin(admin.ModelAdmin):
    list_display = ["study", "issue", "added_at"]
    list_filter = ["study"]
    list_select_related = ["study", "issue__repository"]
    raw_id_fields = ["issue"]


class ChoiceInline(admin.TabularInline):
    """Labels and definitions only: values are what annotations hold (add and delete on the codebook page)."""

    model = Choice
    extra = 0
    readonly_fields = ["value"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CodebookField)
class CodebookFieldAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "kind", "stage", "required", "study"]
    list_filter = ["study", "kind", "stage"]
    inlines = [ChoiceInline]

    def get_readonly_fields(self, request, obj=None):
        return ["study", "key", "kind", "stage"] if obj else []

    def save_related(self, request, form, formsets, change) -> None:
        """After the field and its choices: a change here is a codebook version like any other."""
        super().save_related(request, form, formsets, change)
        codebook_changed(form.instance.study, user=request.user, summary="Edited in the admin")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["study", "stage", "issue", "annotator", "status", "assigned_at"]
    list_filter = ["study", "stage", "status"]
    list_select_related = ["study", "issue__repository", "annotator"]
    raw_id_fields = ["issue"]
