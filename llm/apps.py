from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "Language models as raters"

    def ready(self) -> None:
        from llm import tasks  # noqa: F401  (its receiver stops the runs of killed workers)
        from llm.agreement import reconciliation_suggestions
        from studies.suggestions import SUGGESTION_PROVIDERS

        SUGGESTION_PROVIDERS.append(reconciliation_suggestions)  # model values, where an issue is reconciled

        from agreement.methods.sections import SECTIONS
        from llm.methods import model_raters

        SECTIONS.append(model_raters)  # the methods report's section on the study's models

        from llm.models import ModelGateEvent
        from studies.history import STUDY_EVENTS_OF_OTHER_APPS

        STUDY_EVENTS_OF_OTHER_APPS.append(ModelGateEvent)  # gates set and changed, in the study's Activity
