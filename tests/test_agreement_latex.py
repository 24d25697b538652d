"""The LaTeX download for a paper: minus signs as minus signs, the intervals the page shows, Cohen's κ pair by
pair, and text that compiles whatever the study's names hold."""

import re
from datetime import date

import pytest
from django.urls import reverse

from agreement.latex import latex_table, number
from tests.factories import MembershipFactory

DAY = date(2026, 12, 6)


def report(**fields) -> dict:
    return {"study": "s", "fields": fields}


def numbers(**overrides) -> dict:
    base = {
        "level": "nominal",
        "items": 12,
        "annotators": 2,
        "ratings": 24,
        "percent_agreement": 0.5,
        "pairwise_agreement": 0.5,
        "cohen_kappa": {"ann_1|bob": {"kappa": -0.0667, "n": 12}},
        "fleiss_kappa": -0.0667,
        "krippendorff_alpha": -0.04,
        "gwet_ac1": 0.1,
        "undefined": {},
    }
    return {**base, **overrides}


def balanced(tex: str) -> bool:
    depth = 0
    for character in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def rows_of(tex: str, starting: str) -> list[list[str]]:
    return [line.removesuffix(r" \\").split(" & ") for line in tex.splitlines() if line.startswith(starting)]


def test_negative_numbers_are_set_with_a_math_minus():
    tex = latex_table("S", {"scenario": "Scenario"}, report(scenario=numbers()), None, DAY)

    [row] = rows_of(tex, "Scenario & nominal")
    assert row[6:8] == ["$-0.067$", "$-0.040$"]
    assert not re.search(r"(?<!\$)-0\.\d", tex)  # no bare hyphen before a number anywhere


def test_it_shows_the_intervals_of_the_page_beside_each_coefficient():
    intervals = {"scenario": {"fleiss_kappa": [-0.31, 0.2], "krippendorff_alpha": [-0.3, 0.21], "gwet_ac1": [0, 1]}}

    tex = latex_table("S", {"scenario": "Scenario"}, report(scenario=numbers()), intervals, DAY)

    [row] = rows_of(tex, "Scenario & nominal")
    assert row[6] == r"$-0.067$ {\footnotesize[$-0.310$, 0.200]}"
    assert row[8] == r"0.100 {\footnotesize[0.000, 1.000]}"
    assert "95\\,\\% bootstrap intervals in brackets" in tex


def test_it_says_when_the_intervals_were_not_ready():
    tex = latex_table("S", {"scenario": "Scenario"}, report(scenario=numbers()), None, DAY)

    assert "bootstrap intervals were still being computed" in tex
    assert "{\\footnotesize[" not in tex


def test_it_lists_cohens_kappa_for_each_pair_with_the_weighted_ones_of_ordinal_fields():
    impact = numbers(
        level="ordinal",
        cohen_kappa={"ann_1|bob": {"kappa": 0.5, "n": 5, "linear": 0.61, "quadratic": None}},
        undefined={"cohen_kappa ann_1|bob quadratic": "only one value was used"},
    )

    tex = latex_table(
        "S", {"impact": "Impact", "scenario": "Scenario"}, report(impact=impact, scenario=numbers()), {}, DAY
    )

    assert rows_of(tex, "Impact & ann") == [["Impact", r"ann\_1 \& bob", "5", "0.500", "0.610", "--"]]
    assert rows_of(tex, "Scenario & ann") == [["Scenario", r"ann\_1 \& bob", "12", "$-0.067$", "", ""]]
    assert r"Impact, ann\_1 \& bob, quadratic $\kappa_w$: only one value was used" in tex


def test_whatever_the_names_hold_it_stays_valid_latex():
    name = "Bugs_2026 & more: 100% #1 {draft}\n\\end{table}"
    label = "Impact & threat_level ~ ^ $"

    tex = latex_table(
        name,
        {"scenario": label},
        report(scenario=numbers(percent_agreement=None, undefined={"percent_agreement": "50% & _less_"})),
        {},
        DAY,
    )

    assert balanced(tex)
    assert tex.splitlines()[0] == (
        r"% Inter-annotator agreement, Bugs\_2026 \& more: 100\% \#1 \{draft\} \textbackslash{}end\{table\}; "
        "exported by annotator on 2026-12-06."
    )
    assert r"Impact \& threat\_level \textasciitilde{} \textasciicircum{} \$ & nominal" in tex
    assert r"\% agr.: 50\% \& \_less\_" in tex
    assert tex.count(r"\begin{table}") == tex.count(r"\end{table}") == 2
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 2


@pytest.mark.django_db
def test_the_download_has_the_pairs_and_the_intervals_the_page_shows(client, study_with_ratings):
    study = study_with_ratings
    client.force_login(MembershipFactory(study=study, role="owner").user)
    url = reverse("agreement:report", args=[study.slug])

    page = client.get(url).text
    tex = client.get(url + "?format=latex").content.decode()

    section = page.split('id="agreement-impact"', 1)[1].split("</section>", 1)[0]
    alpha = re.search(
        r"Krippendorff&#x27;s α <span[^>]*>[^<]*</span></th>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>\[([^\]]*)\]</td>",
        section,
    )
    low, high = (number(float(bound)) for bound in alpha.group(2).split(", "))  # as the page rounds them
    [impact] = rows_of(tex, "Impact & ordinal")
    assert impact[7] == f"{alpha.group(1)} {{\\footnotesize[{low}, {high}]}}"
    assert balanced(tex)
    pairs = rows_of(tex, "Impact & ")[1:]
    assert [row[1:4] for row in pairs] == [
        [r"ann \& bob", "5", "0.500"],
        [r"ann \& cyd", "4", "0.636"],
        [r"bob \& cyd", "4", "0.636"],
    ]
