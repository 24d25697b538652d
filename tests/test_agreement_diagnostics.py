"""Agreement diagnostics (agreement/diagnostics.py): published worked examples, independent computations, and the
warnings on data built to trigger each."""

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from agreement.coefficients import brennan_prediger, cohen_kappa, fleiss_kappa, pairwise_agreement, percent_agreement
from agreement.diagnostics import field_warnings, interval_warnings, pair_diagnostics, value_uses
from tests.helpers import as_read

PROPERTY = settings(max_examples=200, deadline=None)


def from_table(table: list[list[int]]) -> list[list[int]]:
    """A two-annotator contingency table (first annotator's value by row, second's by column) as items × 2."""
    return [
        [row, column] for row, counts in enumerate(table) for column, count in enumerate(counts) for _ in range(count)
    ]


def kinds(warnings) -> list[str]:
    return [warning.kind for warning in warnings]


def report_numbers(rows, items=None) -> dict:
    return {
        "items": len(rows) if items is None else items,
        "percent_agreement": percent_agreement(rows).value,
        "pairwise_agreement": pairwise_agreement(rows).value,
        "fleiss_kappa": fleiss_kappa(rows).value,
    }


# --- Worked examples from the literature ---
#
# Where each number comes from is said beside it. The papers themselves were out of reach (paywalled, and no stored
# copy of their tables could be found); a number is called published only where a source we could read prints it.
# The others are checked against independent implementations (scikit-learn, statsmodels) and by hand, and say so.
# Byrt, Bishop & Carlin's (1993) own worked example could not be found in any source we could read: it is not here
# (the R package grassr's test fixtures call 118 / 5 / 2 / 0 "Byrt, Bishop & Carlin (1993) example", others call the
# same table Gwet's (2008); with nothing to check either against, it stays "the classic table" below).


@pytest.mark.parametrize(
    ("table", "kappa", "prevalence", "bias"),
    [
        # Feinstein & Cicchetti (1990), "High agreement but low kappa: I. The problems of two paradoxes", J Clin
        # Epidemiol 43(6):543–549: two tables with the same p_o 0.85 and κ 0.70 and 0.32. NOT read in the paper: the
        # cells and the two κ are those other projects' tests transcribe (the second table also transposed, which
        # changes none of these numbers). By hand: p_e = (49·46 + 51·54)/100² = 0.5008, κ = 0.3492/0.4992 = 0.6995;
        # p_e = (90·85 + 10·15)/100² = 0.78, κ = 0.07/0.22 = 0.3182. Prevalence and bias indices as Sim & Wright
        # (2005) give Byrt et al.'s, |a − d|/n and |b − c|/n (so the R function RkappaPB computes them, citing Sim &
        # Wright: rdrr.io/github/EccRiley/Riley/src/R/RkappaPB.R): |40 − 45|/100, |9 − 6|/100 and |80 − 5|/100,
        # |10 − 5|/100.
        ([[40, 9], [6, 45]], 0.70, 0.05, 0.03),
        ([[80, 10], [5, 5]], 0.32, 0.75, 0.05),
    ],
)
def test_it_matches_the_two_tables_of_the_kappa_paradox(table, kappa, prevalence, bias):
    found = pair_diagnostics(from_table(table))

    assert found.observed == pytest.approx(0.85)
    assert round(found.kappa, 2) == kappa
    assert found.kappa == pytest.approx(inter_rater.cohens_kappa(np.array(table)).kappa, abs=1e-12)
    assert found.prevalence_index == pytest.approx(prevalence)
    assert found.bias_index == pytest.approx(bias)
    assert found.pabak == pytest.approx(0.70)  # 2 × 0.85 − 1: the same for both tables, whatever their κ


def test_it_matches_sim_and_wrights_table_1():
    # Sim & Wright (2005), "The kappa statistic in reliability studies", Phys Ther 85(3):257–268, Table 1: two
    # clinicians judge whether a lateral shift is relevant in 39 patients, 22 yes/yes, 2 yes/no, 4 no/yes, 11 no/no,
    # κ 0.67. Cells and κ as the R package irt transcribes them (github.com/egonulates/irt: kappa_coef()'s example
    # "Hypothetical data from Sim and Wright (2005), Table 1" and its tests, which expect 0.67); the paper itself was
    # out of reach. By hand: p_e = (24·26 + 15·13)/39² = 819/1521, κ = (33/39 − 819/1521)/(1 − 819/1521) = 2/3.
    found = pair_diagnostics(from_table([[22, 2], [4, 11]]))

    assert (found.n, round(found.kappa, 2)) == (39, 0.67)
    assert found.kappa == pytest.approx(2 / 3)
    # Not from the paper: by the definitions, from the same cells.
    assert found.observed == pytest.approx(33 / 39)
    assert found.prevalence_index == pytest.approx(11 / 39)  # |22 − 11|/39
    assert found.bias_index == pytest.approx(2 / 39)  # |2 − 4|/39
    assert found.pabak == pytest.approx(2 * 33 / 39 - 1)


def test_kappa_max_of_sim_and_wrights_table_1_is_cohens():
    # κ_max, the largest κ the marginals allow (Cohen 1960): p_max = Σ min(row, column share). Sim & Wright (2005)
    # give κ_max for their example, but no source we could read prints their value: checked against statsmodels'
    # own kappa_max (inter_rater.cohens_kappa) and by hand: marginals 24/15 and 26/13, p_max = (24 + 13)/39 =
    # 1443/1521, κ_max = (1443 − 819)/(1521 − 819) = 624/702 = 8/9 ≈ 0.89.
    table = [[22, 2], [4, 11]]

    found = pair_diagnostics(from_table(table))

    assert found.kappa_max == pytest.approx(8 / 9)
    assert found.kappa_max == pytest.approx(inter_rater.cohens_kappa(np.array(table)).kappa_max, abs=1e-12)


@pytest.mark.parametrize(
    ("table", "kappa", "linear", "quadratic"),
    [
        # Sim & Wright (2005), Table 2: pain (none, mild, moderate, severe) rated twice in 100 patients; κ 0.55,
        # linearly weighted 0.61, quadratically weighted 0.67. Cells and values as the R package irt's tests transcribe
        # them (see above). By hand: p_o = 66/100, p_e = (20·24 + 27·28 + 29·24 + 24·24)/100² = 0.2508,
        # κ = 0.4092/0.7492 = 0.546.
        ([[15, 3, 1, 1], [4, 18, 3, 2], [4, 5, 16, 4], [1, 2, 4, 17]], 0.55, 0.61, 0.67),
        # Table 3: three syndromes of spinal pain in 102 patients, κ 0.46 (same transcription; weighted κ not
        # given there). By hand: p_o = 66/102, p_e = (34·30 + 44·42 + 24·30)/102² = 3588/10404, κ = 0.461.
        ([[22, 10, 2], [6, 27, 11], [2, 5, 17]], 0.46, None, None),
    ],
)
def test_it_matches_sim_and_wrights_tables_with_more_categories(table, kappa, linear, quadratic):
    ratings = from_table(table)
    levels = list(range(len(table)))

    found = pair_diagnostics(ratings, levels)

    assert round(found.kappa, 2) == kappa
    # κ_max for k categories, against statsmodels (not published for these tables in any source we could read).
    assert found.kappa_max == pytest.approx(inter_rater.cohens_kappa(np.array(table)).kappa_max, abs=1e-12)
    if linear is not None:
        assert round(cohen_kappa(ratings, "linear", levels).value, 2) == linear
        assert round(cohen_kappa(ratings, "quadratic", levels).value, 2) == quadratic


def test_the_papers_screening_is_a_kappa_paradox():
    # Tambon et al. (2023), Silent bugs in deep learning frameworks: three reviewers voted on 1,168 issues; 57 got
    # three yes votes, 38 two, 41 one, 1,032 none (the counts as ../shared/codebooks/silent-bugs.md gives them from the
    # paper). So 1,089 (93 %) were unanimous and most votes were no; Fleiss' κ 0.70 is computed from those counts
    # (not a published value), checked against statsmodels.
    rows = [["yes"] * 3] * 57 + [["yes", "yes", "no"]] * 38 + [["yes", "no", "no"]] * 41 + [["no"] * 3] * 1032
    numbers = report_numbers(rows)
    assert (round(numbers["percent_agreement"], 2), round(numbers["fleiss_kappa"], 2)) == (0.93, 0.70)
    votes = np.array([[3, 0]] * 57 + [[2, 1]] * 38 + [[1, 2]] * 41 + [[0, 3]] * 1032)
    assert numbers["fleiss_kappa"] == pytest.approx(inter_rater.fleiss_kappa(votes), abs=1e-12)

    [warning] = field_warnings(rows=rows, numbers=numbers, pairs={}, kappa_name="fleiss_kappa")

    assert warning.kind == "kappa_paradox"
    assert "all annotators agree on 93 % of the items" in warning.message
    assert "Fleiss' κ is 0.70" in warning.message
    assert "because “no” makes up 92 % of the ratings" in as_read(warning.message)
    assert "agreement by chance is high (here 0.85)" in warning.message


def test_the_classic_high_agreement_low_kappa_table_is_flagged():
    # ../shared/agreement-reference "kappa-paradox": 118 / 5 / 2 / 0, with no published value there; κ −0.023392 is
    # what its independent libraries all compute (to 1e-6), and statsmodels here.
    table = [[118, 5], [2, 0]]
    found = pair_diagnostics(from_table(table))

    assert found.kappa == pytest.approx(-0.023392, abs=1e-6)
    assert found.kappa == pytest.approx(inter_rater.cohens_kappa(np.array(table)).kappa, abs=1e-12)
    assert found.paradox
    assert found.prevalence_index == pytest.approx(118 / 125)


# --- Independent computations ---


def kappa_max_by_search(table: list[list[int]]) -> float:
    """The largest κ over every table with the same row and column totals, found by trying them all."""
    rows, columns = [sum(r) for r in table], [sum(c) for c in zip(*table, strict=True)]
    n, k = sum(rows), len(rows)
    chance = sum(r * c for r, c in zip(rows, columns, strict=True)) / n**2
    best = -1.0

    def fill(cell: int, left_rows: list[int], left_columns: list[int], agreed: int) -> None:
        nonlocal best
        if cell == k * k:
            if not any(left_rows) and not any(left_columns):
                best = max(best, (agreed / n - chance) / (1 - chance))
            return
        row, column = divmod(cell, k)
        for count in range(min(left_rows[row], left_columns[column]) + 1):
            left_rows[row] -= count
            left_columns[column] -= count
            fill(cell + 1, left_rows, left_columns, agreed + (count if row == column else 0))
            left_rows[row] += count
            left_columns[column] += count

    fill(0, list(rows), list(columns), 0)
    return best


tables = st.integers(2, 3).flatmap(
    lambda k: st.lists(st.lists(st.integers(0, 3), min_size=k, max_size=k), min_size=k, max_size=k)
)


@settings(max_examples=60, deadline=None)  # trying every table is slow
@given(tables)
def test_kappa_max_is_the_largest_kappa_the_marginals_allow(table):
    found = pair_diagnostics(from_table(table), categories=list(range(len(table))))
    if found is None or found.kappa_max is None:
        return  # no item, or one value only: nothing to maximise

    assert found.kappa_max == pytest.approx(kappa_max_by_search(table), abs=1e-9)
    assert found.kappa is None or found.kappa <= found.kappa_max + 1e-9


@PROPERTY
@given(st.lists(st.lists(st.integers(0, 30), min_size=2, max_size=2), min_size=2, max_size=2))
def test_byrts_identity_holds_for_two_categories(table):
    # Byrt, Bishop & Carlin (1993): κ = (PABAK − PI² + BI²) / (1 − PI² + BI²).
    found = pair_diagnostics(from_table(table), categories=[0, 1])
    if found is None or found.kappa is None:
        return
    pi, bi = found.prevalence_index, found.bias_index

    assert found.kappa == pytest.approx((found.pabak - pi**2 + bi**2) / (1 - pi**2 + bi**2), abs=1e-9)


@PROPERTY
@given(
    st.integers(2, 5).flatmap(lambda k: st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1))
)
def test_pabak_and_kappa_match_independent_implementations(pairs):
    categories = list(range(max(max(pair) for pair in pairs) + 1))
    if len(categories) < 2:
        categories = [0, 1]
    ratings = [list(pair) for pair in pairs]

    found = pair_diagnostics(ratings, categories)

    # PABAK is Brennan & Prediger's (1981) κ with the field's k categories: chance 1/k.
    assert found.pabak == pytest.approx(brennan_prediger(ratings, categories).value, abs=1e-9)
    if found.kappa is not None and len({value for pair in pairs for value in pair}) > 1:
        first, second = zip(*pairs, strict=True)
        assert found.kappa == pytest.approx(cohen_kappa_score(first, second), abs=1e-9)


def test_for_more_than_two_categories_it_computes_what_the_module_says():
    # a: 5 items agreed on x, 1 on y, none on z; the first annotator gave x 6, y 2, z 1; the second x 7, y 1, z 1.
    ratings = [["x", "x"]] * 5 + [["y", "y"], ["y", "x"], ["z", "x"], ["x", "z"]]

    found = pair_diagnostics(ratings, ["x", "y", "z"])

    assert found.prevalence_index == pytest.approx(5 / 9 - 0)  # largest minus smallest share agreed on a value
    assert found.bias_index == pytest.approx((abs(6 - 7) + abs(2 - 1) + abs(1 - 1)) / 2 / 9)
    assert found.pabak == pytest.approx((3 * 6 / 9 - 1) / 2)
    p_e = (6 * 7 + 2 * 1 + 1 * 1) / 81
    assert found.kappa_max == pytest.approx(((6 + 1 + 1) / 9 - p_e) / (1 - p_e))


VALUES_OR_CHOICES = st.sampled_from([None, "a", "b", "c", frozenset("ab"), frozenset("c")])


@PROPERTY
@given(st.lists(st.lists(VALUES_OR_CHOICES, min_size=3, max_size=3)))
def test_value_uses_counts_each_value_and_choice_in_the_order_first_given(rows):
    expected = Counter()
    for row in rows:
        given = [value for value in row if value is not None]
        if len(given) >= 2:
            for value in given:
                expected.update(value if isinstance(value, frozenset) else [value])

    found = value_uses(rows)

    # Same counts, in the same order: the kappa-paradox warning names the first of equally common values.
    assert list(found.items()) == list(expected.items())


# --- Warnings, each on data built to trigger it, and not on data that should not ---


def test_a_value_used_fewer_than_five_times_is_named():
    rows = [["bug", "bug"]] * 20 + [["feature", "feature"]] * 15 + [["docs", "feature"]] * 2

    warnings = field_warnings(
        rows=rows, numbers=report_numbers(rows), pairs={}, kappa_name="fleiss_kappa", labels={"docs": "Docs"}
    )

    [rare] = [warning for warning in warnings if warning.kind == "rare_value"]
    assert "“Docs” (2×)" in as_read(rare.message) and "feature" not in rare.message


def test_fewer_than_30_items_are_flagged_and_30_are_not():
    few = [["a", "a"], ["b", "b"]] * 14 + [["a", "b"]]
    enough = few + [["b", "a"]]

    assert "few_items" in kinds(field_warnings(rows=few, numbers=report_numbers(few), pairs={}, kappa_name=None))
    assert "few_items" not in kinds(
        field_warnings(rows=enough, numbers=report_numbers(enough), pairs={}, kappa_name=None)
    )


def test_a_pair_with_few_items_in_common_is_named_when_the_field_has_enough():
    rows = [["a", "a", None], ["b", "b", None]] * 20 + [["a", None, "a"]] * 5
    pairs = {
        "ann|bob": pair_diagnostics([row[:2] for row in rows]),
        "ann|cyd": pair_diagnostics([[r[0], r[2]] for r in rows]),
    }

    [thin] = [
        w
        for w in field_warnings(rows=rows, numbers=report_numbers(rows), pairs=pairs, kappa_name=None)
        if w.kind == "few_items"
    ]

    assert thin.message.endswith("ann & cyd (5).")


def test_an_interval_wider_than_0_3_is_flagged():
    warnings = interval_warnings(
        {"krippendorff_alpha": [0.41, 0.86], "gwet_ac1": [0.7, 0.95], "fleiss_kappa": [None, None]}
    )

    assert [w.message for w in warnings] == [
        "The 95 % interval of Krippendorff's α is [0.41, 0.86], 0.45 wide (more than 0.3): the data cannot yet "
        "tell moderate from almost perfect agreement."
    ]


def test_balanced_high_agreement_raises_no_paradox():
    rows = from_table([[40, 9], [6, 45]])  # Feinstein & Cicchetti's first table: κ 0.70 is no paradox

    assert "kappa_paradox" not in kinds(
        field_warnings(
            rows=rows, numbers=report_numbers(rows), pairs={"a|b": pair_diagnostics(rows)}, kappa_name="fleiss_kappa"
        )
    )


def test_a_pair_in_the_paradox_is_named_when_the_field_as_a_whole_is_not():
    skewed = from_table([[80, 10], [5, 5]])
    rows = [[first, second, None] for first, second in skewed] + [
        [None, v, v] for v in itertools.islice(itertools.cycle([0, 1]), 60)
    ]
    pairs = {"ann|bob": pair_diagnostics([row[:2] for row in rows])}

    warnings = field_warnings(
        rows=rows, numbers=report_numbers(rows) | {"fleiss_kappa": None}, pairs=pairs, kappa_name=None
    )

    assert [w.message for w in warnings if w.kind == "kappa_paradox"] == [
        "High agreement, low Cohen's κ because one value dominates (the kappa paradox), for ann & bob: read their κ "
        "with PABAK and the prevalence index below."
    ]
