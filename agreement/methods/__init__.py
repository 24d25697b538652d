"""The methods section of a study, generated from its own data: a list of sections, each built by one small function
(sections.py), a checklist from the ACM SIGSOFT Empirical Standards' supplement on inter-rater reliability and
agreement (checklist.py), and its renderings as Markdown and LaTeX (render.py); the page shows the same as HTML.

No number in it is typed by hand: every figure is read from the study when the report is built.
"""

from agreement.methods.checklist import checklist
from agreement.methods.report import Facts, Report, report_intervals
from agreement.methods.sections import SECTIONS
from studies.access import StudyAccess

__all__ = ["methods_report", "report_intervals"]


def methods_report(access: StudyAccess, *, intervals: dict | None) -> Report:
    """`intervals`: {field key: {coefficient: [low, high]}}, or None while they are being computed."""
    facts = Facts(access, intervals)
    sections = [section for build in SECTIONS if (section := build(facts)) is not None]
    return Report(study=access.study, sections=sections, checklist=checklist(facts, sections))
