from django.contrib import admin

from .models import Issue, IssueComment, Repository


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["owner", "name"]
    search_fields = ["owner", "name"]


class IssueCommentInline(admin.StackedInline):
    model = IssueComment
    extra = 0
    fields = ["github_id", "author_login", "created_at", "body"]
    readonly_fields = fields


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["number", "repository", "title", "state", "created_at", "is_pull_request"]
    list_filter = ["state", "is_pull_request", "repository"]
    list_select_related = ["repository"]
    search_fields = ["title", "=number"]
    inlines = [IssueCommentInline]


@admin.register(IssueComment)
class IssueCommentAdmin(admin.ModelAdmin):
    list_display = ["github_id", "issue", "author_login", "created_at"]
    list_select_related = ["issue__repository"]
    raw_id_fields = ["issue"]
