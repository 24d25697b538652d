from django.contrib import admin

from .models import Issue, IssueComment, Repository


@admin.action(description="Share with every study (owners may add them to theirs)")
def share(modeladmin, request, queryset) -> None:
    _shared(modeladmin, request, queryset, True)


@admin.action(description="Stop sharing (studies that hold them keep them)")
def unshare(modeladmin, request, queryset) -> None:
    _shared(modeladmin, request, queryset, False)


def _shared(modeladmin, request, queryset, shared: bool) -> None:
    issues = queryset if queryset.model is Issue else Issue.objects.filter(repository__in=queryset)
    changed = issues.exclude(shared=shared).update(shared=shared)
    modeladmin.message_user(
        request, f"{changed} issue{'s' if changed != 1 else ''} {'' if shared else 'no longer '}shared."
    )


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["owner", "name"]
    search_fields = ["owner", "name"]
    actions = [share, unshare]


class IssueCommentInline(admin.StackedInline):
    model = IssueComment
    extra = 0
    fields = ["github_id", "author_login", "created_at", "body"]
    readonly_fields = fields


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["number", "repository", "title", "state", "created_at", "is_pull_request", "shared"]
    list_filter = ["state", "is_pull_request", "shared", "repository"]
    actions = [share, unshare]
    list_select_related = ["repository"]
    search_fields = ["title", "=number"]
    inlines = [IssueCommentInline]


@admin.register(IssueComment)
class IssueCommentAdmin(admin.ModelAdmin):
    list_display = ["github_id", "issue", "author_login", "created_at"]
    list_select_related = ["issue__repository"]
    raw_id_fields = ["issue"]
