from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from agreement.methods.sections import SECTIONS
        from studies.transfer import STUDY_ROWS_OF_OTHER_APPS, RowsOfOtherApp
        from surveys.methods import surveys_section
        from surveys.models import Survey, SurveyResponse
        from surveys.transfer import surveys_on_import

        SECTIONS.append(surveys_section)  # the methods report's section on the study's surveys
        # Surveys and their responses travel in the study's export, to another instance.
        STUDY_ROWS_OF_OTHER_APPS.append(RowsOfOtherApp(Survey, on_import=surveys_on_import))
        STUDY_ROWS_OF_OTHER_APPS.append(RowsOfOtherApp(SurveyResponse, to_study="survey__study"))
