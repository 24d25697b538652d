from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"

    def ready(self) -> None:
        from issues.importers import destinations
        from studies.imports import ImportIntoStudy

        destinations.register(ImportIntoStudy())
