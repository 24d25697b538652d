"""What a survey asks, page by page: the frozen items and background questions turned into sections of questions.

Pure functions over a survey's frozen data (no queries). A question's id is the key of its answer in
`SurveyResponse.answers` and the name of its input: `bg_<key>` for a background question, `i<n>_<question>` for
question `question` about the survey's item number n.
"""

from dataclasses import dataclass, field

from surveys.models import AGREEMENT, MET, Question


@dataclass
class Asked:
    """One question as a respondent meets it."""

    id: str
    kind: str  # a Question value, or "text", "choice", "choices" for background questions
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Section:
    """One page of the survey: the background questions, or the items of one codebook field."""

    number: int
    title: str
    items: list[dict] = field(default_factory=list)  # each with "asked": [Asked]
    background: list[Asked] = field(default_factory=list)

    @property
    def questions(self) -> list[Asked]:
        return self.background + [asked for item in self.items for asked in item["asked"]]


def background_questions(survey) -> list[Asked]:
    asked = []
    for question in survey.background:
        choices = [(choice, choice) for choice in question.get("choices", [])]
        kind = ("choices" if question.get("multiple") else "choice") if choices else "text"
        asked.append(Asked(f"bg_{question['key']}", kind, question["label"], choices))
    return asked


def item_questions(survey, number: int, item: dict) -> list[Asked]:
    scale = [(level["value"], level["label"]) for level in survey.severity_scale]
    choices = {Question.AGREE: AGREEMENT, Question.MET: MET, Question.SEVERITY: scale, Question.COMMENT: []}
    return [
        Asked(f"i{number}_{question}", question, Question(question).label, list(choices[question]))
        for question in item["questions"]
    ]


def sections(survey) -> list[Section]:
    """The background first (if the survey asks any), then one section per codebook field, in the codebook's order."""
    found = []
    background = background_questions(survey)
    if background:
        found.append(Section(1, "About you", background=background))
    for number, item in enumerate(survey.items):
        if not found or found[-1].background or found[-1].items[0]["field"] != item["field"]:
            found.append(Section(len(found) + 1, item["field_label"]))
        found[-1].items.append({**item, "asked": item_questions(survey, number, item)})
    return found


def columns(survey) -> list[tuple[str, str]]:
    """(question id, column name) for every question, in the order asked: the columns of the responses CSV."""
    named = [(asked.id, asked.id.removeprefix("bg_")) for asked in background_questions(survey)]
    for number, item in enumerate(survey.items):
        what = item["field"] if item["choice"] is None else f"{item['field']}={item['choice']}"
        named += [(asked.id, f"{what}: {asked.kind}") for asked in item_questions(survey, number, item)]
    return named


def cell(value) -> str | int | None:
    """An answer as a CSV cell: a list of choices joined with "; "."""
    return "; ".join(value) if isinstance(value, list) else value
