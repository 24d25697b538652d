from django.apps import AppConfig


class AgreementConfig(AppConfig):
    name = "agreement"

    def ready(self) -> None:
        from agreement import intervals  # noqa: F401  (its receiver retries intervals whose task failed)
