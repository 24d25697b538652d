"""A survey's results, question by question, over its submitted responses (or those whose background answers
match a filter): the distribution of the answers, the median and interquartile range of a scale, the share
agreeing (4 or 5 on the 1–5 agreement scale) or having met the item, with a 95 % percentile bootstrap interval
over respondents, and the comments. Pure functions over the responses' answers; one query for the responses."""

from dataclasses import dataclass, field

import numpy as np

from agreement.latex import tex
from surveys.models import Question, Survey
from surveys.questions import Asked, background_questions, sections

REPLICATES = 1000
SEED = 0
AGREEING = {"4", "5"}


@dataclass
class Share:
    count: int
    of: int
    low: float | None = None
    high: float | None = None

    @property
    def value(self) -> float | None:
        return self.count / self.of if self.of else None


@dataclass
class Distribution:
    asked: Asked
    item: str  # what is asked about: "Scenario: Wrong shape"
    levels: list[tuple[str, str]]  # (value, label), in the scale's order
    counts: dict[str, int]
    answered: int
    median: float | None = None
    quartiles: tuple[float, float] | None = None
    share: Share | None = None  # agreeing (agreement scale) or having met it (yes/no)

    def percent(self, value: str) -> float:
        return 100 * self.counts.get(value, 0) / self.answered if self.answered else 0.0

    @property
    def rows(self) -> list[tuple[str, str, int, float]]:
        """(value, label, count, percent) of each level, in the scale's order."""
        return [(value, label, self.counts.get(value, 0), self.percent(value)) for value, label in self.levels]

    @property
    def spoken(self) -> str:
        """The bar in words, for those who do not see it."""
        return ", ".join(f"{label}: {count}" for _, label, count, _ in self.rows)

    @property
    def bars(self) -> list[dict]:
        """The diverging stacked bar of the agreement scale: each level's segment in percent of the answers, placed
        so that the middle level (or the boundary between the two middle levels) sits at 50."""
        if not self.answered or self.asked.kind != Question.AGREE:
            return []  # a diverging bar is for the agreement scale: disagreeing to the left, agreeing to the right
        shares = [self.percent(value) for value, _ in self.levels]
        middle = len(shares) / 2
        below = sum(shares[: int(middle)]) + (shares[int(middle)] / 2 if len(shares) % 2 else 0)
        start, segments = 50 - below, []
        for index, ((value, label), share) in enumerate(zip(self.levels, shares, strict=True)):
            segments.append({"value": value, "label": label, "x": start, "width": share, "level": index})
            start += share
        return segments


@dataclass
class Comment:
    item: str
    text: str


@dataclass
class Results:
    survey: Survey
    responses: int  # submitted, matching the filters
    submitted: int  # submitted in all
    in_progress: int
    distributions: list[Distribution] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)


def _matches(answers: dict, filters: dict[str, str]) -> bool:
    for key, wanted in filters.items():
        given = answers.get(key)
        if given != wanted and not (isinstance(given, list) and wanted in given):
            return False
    return True


def survey_results(survey: Survey, *, filters: dict[str, str] | None = None, search: str = "") -> Results:
    """`filters`: {background question id: answer}; `search`: only the comments holding it (any case)."""
    filters = {key: value for key, value in (filters or {}).items() if value}
    rows = list(survey.responses.values_list("answers", "submitted_at"))
    submitted = [answers for answers, at in rows if at is not None]
    chosen = [answers for answers in submitted if _matches(answers, filters)]
    results = Results(survey, len(chosen), len(submitted), len(rows) - len(submitted), filters=filters)
    rng = np.random.default_rng(SEED)
    for section in sections(survey):
        for item in section.items:
            what = item["field_label"] if item["choice"] is None else f"{item['field_label']}: {item['label']}"
            for asked in item["asked"]:
                if asked.kind == Question.COMMENT:
                    for answers in chosen:
                        text = (answers.get(asked.id) or "").strip()
                        if text and search.casefold() in text.casefold():
                            results.comments.append(Comment(what, text))
                    continue
                results.distributions.append(_distribution(asked, what, [a.get(asked.id) for a in chosen], rng))
    return results


def _distribution(asked: Asked, item: str, given: list, rng) -> Distribution:
    answers = [value for value in given if value not in (None, "")]
    levels = list(asked.choices)
    counts = {value: answers.count(value) for value, _ in levels}
    found = Distribution(asked, item, levels, counts, len(answers))
    if asked.kind in (Question.AGREE, Question.SEVERITY) and answers and all(str(a).isdigit() for a in answers):
        numbers = np.array([int(a) for a in answers], dtype=float)
        found.median = float(np.median(numbers))
        q1, q3 = np.quantile(numbers, [0.25, 0.75])
        found.quartiles = (float(q1), float(q3))
    if asked.kind == Question.AGREE:
        found.share = _share([value in AGREEING for value in answers], rng)
    elif asked.kind == Question.MET:
        found.share = _share([value == "yes" for value in answers], rng)
    return found


def _share(hits: list[bool], rng) -> Share:
    """The count and share of hits, with a 95 % percentile bootstrap interval over the respondents."""
    share = Share(sum(hits), len(hits))
    if hits:
        draws = rng.binomial(len(hits), share.count / len(hits), size=REPLICATES) / len(hits)
        share.low, share.high = (float(bound) for bound in np.quantile(draws, [0.025, 0.975]))
    return share


def background_filters(survey: Survey) -> list[Asked]:
    """The background questions with choices: the results can be filtered by their answers."""
    return [asked for asked in background_questions(survey) if asked.choices]


SUMMARY_COLUMNS = ["item", "question", "answered", "answers", "median", "q1", "q3", "share", "share_low", "share_high"]


def summary_rows(results: Results) -> list[list]:
    """One row per question: the counts of its answers as "value: n" joined, and the figures above."""
    rows = []
    for each in results.distributions:
        share = each.share
        rows.append(
            [
                each.item,
                each.asked.label,
                each.answered,
                "; ".join(f"{value}: {each.counts.get(value, 0)}" for value, _ in each.levels),
                _round(each.median),
                _round(each.quartiles[0]) if each.quartiles else None,
                _round(each.quartiles[1]) if each.quartiles else None,
                _round(share.value) if share else None,
                _round(share.low) if share else None,
                _round(share.high) if share else None,
            ]
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def summary_latex(results: Results) -> str:
    """A booktabs table of the summary: item, question, n, median [IQR], the share with its interval."""
    lines = [
        r"% " + tex(f"Survey “{results.survey.title}”: {results.responses} submitted responses."),
        r"\begin{tabular}{llrll}",
        r"\toprule",
        r"Item & Question & $n$ & Median [IQR] & Share [95\% CI] \\",
        r"\midrule",
    ]
    for each in results.distributions:
        median = "" if each.median is None else f"{each.median:g} [{each.quartiles[0]:g}, {each.quartiles[1]:g}]"
        share = each.share
        shown = ""
        if share and share.value is not None:
            shown = rf"{100 * share.value:.0f}\% [{100 * share.low:.0f}, {100 * share.high:.0f}]"
        lines.append(rf"{tex(each.item)} & {tex(each.asked.label)} & {each.answered} & {median} & {shown} \\")
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def methods_paragraph(results: Results) -> str:
    """What the survey found, in words and numbers read from it, for a methods or validation section."""
    survey = results.survey
    agree = [d for d in results.distributions if d.asked.kind == Question.AGREE and d.share and d.share.of]
    met = [d for d in results.distributions if d.asked.kind == Question.MET and d.share and d.share.of]
    parts = [
        f"To validate the codebook with practitioners, we surveyed them on {len(survey.items)} of its items, as "
        f"codebook version {survey.codebook_version} defines them; {results.responses} respondents submitted "
        f"answers."
    ]
    if agree:
        low, high = min(agree, key=lambda d: d.share.value), max(agree, key=lambda d: d.share.value)
        parts.append(
            f" The share agreeing with an item's definition (4 or 5 of 5) ranged from {low.share.value:.0%} "
            f"({low.item}) to {high.share.value:.0%} ({high.item})."
        )
    if met:
        most = max(met, key=lambda d: d.share.value)
        parts.append(f" The item met most often was {most.item} ({most.share.count} of {most.share.of}).")
    return "".join(parts)
