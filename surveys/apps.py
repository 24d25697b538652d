from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from agreement.methods.sections import SECTIONS
        from surveys.methods import surveys_section

        SECTIONS.append(surveys_section)  # the methods report's section on the study's surveys
