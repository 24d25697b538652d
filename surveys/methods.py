"""The methods report's section on the study's practitioner surveys (agreement/methods/): what each asked and what
it found, in the words of `methods_paragraph`. A study without a survey has no such section."""

from agreement.methods.report import Facts, Quote, Section
from surveys.results import methods_paragraph, survey_results


def surveys_section(facts: Facts) -> Section | None:
    surveys = list(facts.study.surveys.order_by("created_at", "id"))
    if not surveys:
        return None
    paragraphs = [
        ["Survey “", Quote(survey.title), "”: ", methods_paragraph(survey_results(survey))] for survey in surveys
    ]
    return Section("surveys", "Validation with practitioners", paragraphs)
