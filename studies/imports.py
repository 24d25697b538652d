"""Imports that also add their issues to a study (issues/importers/destinations.py asks this)."""

from django.db.models import QuerySet

from studies.models import Study, StudyIssue


class ImportIntoStudy:
    def choices(self, user) -> list[tuple[str, str]]:
        return list(Study.objects.visible_to(user).values_list("slug", "name"))

    def check(self, slug: str) -> None:
        if not Study.objects.filter(slug=slug).exists():
            raise LookupError(f"No study {slug!r}.")

    def add(self, slug: str, issue_ids: list[int]) -> None:
        Study.objects.get(slug=slug).add_issues(issue_ids)

    def issue_ids(self, slug: str) -> QuerySet:
        return StudyIssue.objects.filter(study__slug=slug).values_list("issue_id", flat=True)
