"""Where an import may also put its issues: a study. The studies app says how (studies/apps.py registers it), so
that issues/ depends on no app built on top of it."""

from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


class StudyDestination(Protocol):
    def choices(self, user) -> list[tuple[str, str]]:
        """(slug, name) of the studies the user may import into."""

    def check(self, slug: str) -> None:
        """LookupError, saying so, if there is no such study."""

    def add(self, slug: str, issue_ids: list[int]) -> None:
        """Add the issues (ids) to the study."""

    def issue_ids(self, slug: str) -> QuerySet:
        """The ids of the study's issues, as a values_list() QuerySet (for a subquery)."""


_registered: StudyDestination | None = None


def register(destination: StudyDestination) -> None:
    global _registered
    _registered = destination


def studies() -> StudyDestination:
    if _registered is None:
        raise ImproperlyConfigured("No app registered a study destination for imports (studies/apps.py does).")
    return _registered
