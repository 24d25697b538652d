from django.apps import AppConfig


class AgreementConfig(AppConfig):
    name = "agreement"

    def ready(self) -> None:
        from agreement import intervals  # noqa: F401  (its receiver retries intervals whose task failed)
        from agreement.models import PrimaryStatistic, PrimaryStatisticEvent
        from studies.history import STUDY_EVENTS_OF_OTHER_APPS
        from studies.transfer import STUDY_ROWS_OF_OTHER_APPS, RowsOfOtherApp

        STUDY_EVENTS_OF_OTHER_APPS.append(PrimaryStatisticEvent)  # declarations and changes, in the study's Activity
        STUDY_ROWS_OF_OTHER_APPS.append(RowsOfOtherApp(PrimaryStatistic))  # and in its export, to another instance
