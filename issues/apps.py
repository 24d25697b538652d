from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = "GitHub issues"

    def ready(self) -> None:
        from issues import tasks  # noqa: F401  (its receiver closes the import runs of killed workers)
