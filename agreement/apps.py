from django.apps import AppConfig


class AgreementConfig(AppConfig):
    name = "agreement"

    def ready(self) -> None:
        from agreement import intervals  # noqa: F401  (its receiver retries intervals whose task failed)
        from agreement.models import PrimaryStatisticEvent
        from studies.history import STUDY_EVENTS_OF_OTHER_APPS

        STUDY_EVENTS_OF_OTHER_APPS.append(PrimaryStatisticEvent)  # declarations and changes, in the study's Activity
