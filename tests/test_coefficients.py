"""Agreement coefficients: published worked examples, independent libraries, and small hand-checked cases."""

import json
from decimal import Decimal

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from agreement.coefficients import (
    NO_COMMON_UNITS,
    NO_PAIRS,
    ONLY_ONE_VALUE,
    UNEQUAL_RATING_COUNTS,
    bootstrap_interval,
    brennan_prediger,
    category_agreement,
    coded,
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_generalised,
    gwet_ac1,
    krippendorff_alpha,
    krippendorff_observed_agreement,
    landis_koch,
    masi_distance,
    pairwise_agreement,
    percent_agreement,
    scott_pi,
)
from tests.helpers import DATA, SHARED

# Published worked examples, each with its source, transcribed into the project (tests/data/README.md).
EXAMPLES = json.loads((DATA / "agreement-examples.json").read_text(encoding="utf-8"))["examples"]

# No deadline: the first examples pay for imports and timing varies on shared machines.
PROPERTY = settings(max_examples=200, deadline=None)


def example_ratings(example: dict) -> list[list]:
    """The example's data as units × coders, None for a missing rating; categories of tables numbered from 1."""
    layout, data = example["layout"], example["data"]
    if layout == "coders x units":
        return [list(unit) for unit in zip(*data, strict=True)]
    if layout == "units x raters":
        return data
    if layout == "two rating vectors":
        return [list(unit) for unit in zip(*data.values(), strict=True)]
    if layout == "2-rater contingency table":
        return [
            [first, second]
            for first, row in enumerate(data, start=1)
            for second, count in enumerate(row, start=1)
            for _ in range(count)
        ]
    if layout == "subjects x category counts":
        units = [[value for value, count in enumerate(row, start=1) for _ in range(count)] for row in data]
        raters = max(map(len, units))
        return [unit + [None] * (raters - len(unit)) for unit in units]
    raise AssertionError(f"unknown layout {layout!r}")


def example_scale(example: dict) -> list | None:
    """The declared values: the example's domain, or a table's categories; rating vectors use the levels present."""
    if "domain" in example:
        return example["domain"]
    if example["layout"] in ("2-rater contingency table", "subjects x category counts"):
        return list(range(1, len(example["data"][0]) + 1))
    return None


# Every key of every example's `computed` values, and how we compute it. All keys are covered; a new key would fail
# its test with a KeyError rather than be skipped.
COMPUTED = {
    "percent_agreement": lambda example, ratings, scale: percent_agreement(ratings).value,
    "percent_agreement_gwet": lambda example, ratings, scale: pairwise_agreement(ratings).value,
    "observed_agreement_krippendorff": lambda example, ratings, scale: krippendorff_observed_agreement(ratings).value,
    "alpha_nominal": lambda example, ratings, scale: krippendorff_alpha(ratings, "nominal", scale).value,
    "alpha_ordinal": lambda example, ratings, scale: krippendorff_alpha(ratings, "ordinal", scale).value,
    "alpha_interval": lambda example, ratings, scale: krippendorff_alpha(ratings, "interval", scale).value,
    "alpha_ratio": lambda example, ratings, scale: krippendorff_alpha(ratings, "ratio", scale).value,
    "gwet_ac1": lambda example, ratings, scale: gwet_ac1(ratings, scale).value,
    "fleiss_kappa": lambda example, ratings, scale: fleiss_kappa(ratings).value,
    "p_bar": lambda example, ratings, scale: fleiss_kappa(ratings).observed,
    "pe_bar": lambda example, ratings, scale: fleiss_kappa(ratings).expected,
    "fleiss_kappa_gwet_generalised": lambda example, ratings, scale: fleiss_kappa_generalised(ratings).value,
    "brennan_prediger": lambda example, ratings, scale: brennan_prediger(ratings, scale).value,
    # Randolph's free-marginal multirater kappa is Brennan–Prediger's.
    "randolph_kappa": lambda example, ratings, scale: brennan_prediger(ratings, scale).value,
    "scott_pi": lambda example, ratings, scale: scott_pi(ratings).value,
    "cohen_kappa": lambda example, ratings, scale: cohen_kappa(ratings).value,
    "weighted_kappa_linear": lambda example, ratings, scale: cohen_kappa(ratings, "linear", scale).value,
    "weighted_kappa_quadratic": lambda example, ratings, scale: cohen_kappa(ratings, "quadratic", scale).value,
    "weighted_kappa_linear_full_scale_1_6": lambda example, ratings, scale: (
        cohen_kappa(ratings, "linear", range(1, 7)).value
    ),
    "weighted_kappa_quadratic_full_scale_1_6": lambda example, ratings, scale: (
        cohen_kappa(ratings, "quadratic", range(1, 7)).value
    ),
    "weighted_kappa_custom": lambda example, ratings, scale: (
        cohen_kappa(ratings, example["disagreement_weights"], scale).value
    ),
}


@pytest.mark.parametrize(
    ("example", "key"),
    [pytest.param(example, key, id=f"{example['id']}:{key}") for example in EXAMPLES for key in example["computed"]],
)
def test_published_example(example, key):
    value = COMPUTED[key](example, example_ratings(example), example_scale(example))
    assert value == pytest.approx(example["computed"][key], abs=1e-6)


@pytest.mark.parametrize(
    ("example", "key"),
    [pytest.param(example, key, id=f"{example['id']}:{key}") for example in EXAMPLES for key in example["published"]],
)
def test_published_example_at_the_precision_its_source_printed(example, key):
    published = Decimal(str(example["published"][key]))
    value = COMPUTED[key](example, example_ratings(example), example_scale(example))
    # 0.743 printed means [0.7425, 0.7435]: half a unit of the last printed digit either way.
    assert abs(Decimal(value) - published) <= Decimal(5).scaleb(published.as_tuple().exponent - 1)


@pytest.mark.shared
def test_the_transcribed_examples_are_those_of_the_reference_in_shared():
    reference = json.loads((SHARED / "agreement-reference" / "examples.json").read_text(encoding="utf-8"))

    assert reference["examples"] == EXAMPLES


def test_cohen_kappa_reports_the_units_compared():
    example = next(example for example in EXAMPLES if example["id"] == "r-irr-anxiety-r2r3")
    ratings = example_ratings(example) + [[3, None], [None, None]]
    assert cohen_kappa(ratings).n_units == 20


# Property-based checks against independent implementations.


@st.composite
def rating_tables(draw, min_coders=2, max_coders=5, missing=True):
    """Units × coders ratings on the scale 1..q (q from 2 to 6), with or without missing ratings."""
    scale = list(range(1, draw(st.integers(2, 6)) + 1))
    value = st.sampled_from([None, *scale]) if missing else st.sampled_from(scale)
    width = draw(st.integers(min_coders, max_coders))
    ratings = draw(st.lists(st.lists(value, min_size=width, max_size=width), min_size=1, max_size=40))
    return ratings, scale


def pairable_values(ratings: list[list]) -> set:
    """The values rated in units with two or more ratings."""
    return {value for row in ratings if sum(value is not None for value in row) >= 2 for value in row} - {None}


@PROPERTY
@given(table=rating_tables(), level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_the_krippendorff_package(table, level):
    ratings, scale = table
    ours = krippendorff_alpha(ratings, level, scale)
    if not pairable_values(ratings):
        assert (ours.value, ours.reason) == (None, NO_PAIRS)
    elif len(pairable_values(ratings)) == 1:
        assert (ours.value, ours.reason) == (None, ONLY_ONE_VALUE)
    else:
        coders_by_units = np.array([[np.nan if value is None else value for value in row] for row in ratings]).T
        theirs = krippendorff.alpha(coders_by_units, value_domain=scale, level_of_measurement=level)
        assert ours.value == pytest.approx(theirs, abs=1e-9)


@PROPERTY
@given(table=rating_tables(max_coders=2), weights=st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_matches_scikit_learn(table, weights):
    ratings, scale = table
    pairs = [row for row in ratings if None not in row]
    ours = cohen_kappa(ratings, weights, scale)
    if not pairs:
        assert (ours.value, ours.reason) == (None, NO_COMMON_UNITS)
    elif len({value for pair in pairs for value in pair}) == 1:
        assert (ours.value, ours.reason) == (None, ONLY_ONE_VALUE)
    else:
        first, second = zip(*pairs, strict=True)
        assert ours.value == pytest.approx(cohen_kappa_score(first, second, labels=scale, weights=weights), abs=1e-9)
        assert ours.n_units == len(pairs)


@PROPERTY
@given(table=rating_tables(missing=False))
def test_fleiss_kappa_matches_statsmodels(table):
    ratings, _ = table
    ours = fleiss_kappa(ratings)
    if len({value for row in ratings for value in row}) == 1:
        assert (ours.value, ours.reason) == (None, ONLY_ONE_VALUE)
    else:
        counts, _ = inter_rater.aggregate_raters(np.array(ratings))
        assert ours.value == pytest.approx(inter_rater.fleiss_kappa(counts, method="fleiss"), abs=1e-9)
        # Without missing ratings Gwet's generalisation is Fleiss' kappa; for two coders so is Scott's pi.
        assert fleiss_kappa_generalised(ratings).value == pytest.approx(ours.value, abs=1e-12)
        if len(ratings[0]) == 2:
            assert scott_pi(ratings).value == pytest.approx(ours.value, abs=1e-12)


# Undefined coefficients.


def test_one_value_used_leaves_chance_corrected_coefficients_undefined():
    ratings = [["bug", "bug"], ["bug", "bug"], ["bug", None]]
    for result in [
        cohen_kappa(ratings),
        scott_pi(ratings),
        fleiss_kappa(ratings[:2]),
        fleiss_kappa_generalised(ratings),
        gwet_ac1(ratings),
        brennan_prediger(ratings),
        *(krippendorff_alpha(ratings, level) for level in ("nominal", "ordinal")),
    ]:
        assert (result.value, result.reason) == (None, ONLY_ONE_VALUE)
    assert percent_agreement(ratings).value == 1


def test_ac1_with_a_declared_scale_counts_unused_values():
    # Gwet's chance agreement spreads over the scale's q values, so one value used out of two is agreement, not chance.
    assert gwet_ac1([["bug", "bug"], ["bug", "bug"]], scale=["bug", "feature"]).value == 1


def test_fleiss_kappa_is_undefined_when_units_have_different_numbers_of_ratings():
    ratings = [[1, 1, 2], [1, 2, None], [2, 2, 2]]
    result = fleiss_kappa(ratings)
    assert (result.value, result.reason) == (None, UNEQUAL_RATING_COUNTS)
    assert fleiss_kappa_generalised(ratings).value is not None


def test_no_unit_with_two_ratings():
    ratings = [[1, None], [None, 2]]
    assert krippendorff_alpha(ratings).reason == NO_PAIRS
    assert percent_agreement(ratings).reason == NO_PAIRS
    assert cohen_kappa(ratings).reason == NO_COMMON_UNITS


def test_values_outside_the_scale_are_refused():
    with pytest.raises(ValueError, match="not in the scale"):
        krippendorff_alpha([[1, 7]], "ordinal", scale=[1, 2, 3])
    with pytest.raises(ValueError, match="not in the scale"):
        krippendorff_alpha(coded([[1, 7]]), "ordinal", scale=[1, 2, 3])


@PROPERTY
@given(table=rating_tables(), read_with_scale=st.booleans())
def test_ratings_read_once_give_every_coefficient_and_interval_as_the_rows_do(table, read_with_scale):
    # The report reads a field's ratings once (coded) and hands them to every coefficient, with its own scale.
    ratings, scale = table
    once = coded(ratings, scale if read_with_scale else None)
    for coefficient, options in [
        (percent_agreement, {}),
        (pairwise_agreement, {}),
        (fleiss_kappa, {}),
        (gwet_ac1, {"scale": scale}),
        (brennan_prediger, {"scale": scale}),
        (krippendorff_alpha, {"level": "ordinal", "scale": scale}),
        (krippendorff_alpha, {"level": "nominal"}),
    ]:
        assert coefficient(once, **options) == coefficient(ratings, **options)
        assert bootstrap_interval(coefficient, once, reps=20, **options) == bootstrap_interval(
            coefficient, ratings, reps=20, **options
        )
    pair = [row[:2] for row in ratings]
    assert cohen_kappa(once.coders(0, 1), "linear", scale) == cohen_kappa(pair, "linear", scale)
    assert cohen_kappa(once.coders(0, 1)) == cohen_kappa(pair)
    assert confusion_matrix(once.coders(0, 1)).labels == confusion_matrix(pair).labels
    assert (confusion_matrix(once.coders(0, 1)).counts == confusion_matrix(pair).counts).all()


# Hand-checked small cases.


def test_percent_and_pairwise_agreement_differ():
    ratings = [[1, 1, 2], [3, 3, 3]]
    assert percent_agreement(ratings).value == 0.5  # one unit of two is unanimous
    assert pairwise_agreement(ratings).value == pytest.approx((1 / 3 + 1) / 2)  # 1 agreeing pair of 3, then 3 of 3


def test_confusion_matrix_and_category_agreement():
    ratings = [["bug", "bug"], ["bug", "feature"], ["feature", "feature"], ["question", "bug"], ["bug", None]]
    matrix = confusion_matrix(ratings)
    assert matrix.labels == ["bug", "feature", "question"]
    assert matrix.counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
    specific = category_agreement(ratings, scale=["bug", "feature", "question", "docs"])
    # 2a / (2a + b + c): "bug" agreed on once and rated alone twice, "feature" once and once, "question" 0 and once.
    assert specific["bug"].value == pytest.approx(2 / 4)
    assert specific["feature"].value == pytest.approx(2 / 3)
    assert specific["question"].value == 0
    assert specific["docs"].value is None


def test_masi_distance_matches_nltk():
    assert masi_distance(frozenset({1, 2}), frozenset({1, 2, 3, 4})) == pytest.approx(0.665)  # nltk's doctest
    assert masi_distance(frozenset("ab"), frozenset("ac")) == pytest.approx(1 - 1 / 3 * 0.33)
    assert masi_distance(frozenset("ab"), frozenset("cd")) == 1
    assert masi_distance(frozenset("ab"), frozenset("ba")) == 0
    assert masi_distance(frozenset(), frozenset()) == 0


def test_alpha_with_masi_distance_by_hand():
    a, ab, b = frozenset("a"), frozenset("ab"), frozenset("b")
    ratings = [[a, a], [ab, a], [b, a], [ab, ab]]
    # Coincidences: (a,a) 2, (ab,a) 1 + 1, (b,a) 1 + 1, (ab,ab) 2; value counts a 4, ab 3, b 1, n = 8.
    # δ(a,ab) = δ(ab,b) = 1 − ½ × 0.67 = 0.665, δ(a,b) = 1.
    observed = (2 * 0.665 + 2 * 1) / 8
    expected = (2 * 4 * 3 * 0.665 + 2 * 4 * 1 * 1 + 2 * 3 * 1 * 0.665) / (8 * 7)
    assert krippendorff_alpha(ratings, "masi").value == pytest.approx(1 - observed / expected, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_landis_koch_bands(value, band):
    assert landis_koch(value) == band


# Bootstrap.


def noisy_ratings(units: int = 300, coders: int = 3, seed: int = 1) -> list[list]:
    """Coders who agree with a true value 70 % of the time and otherwise guess; 10 % of ratings missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 5, size=units)
    guesses = rng.integers(1, 5, size=(units, coders))
    values = np.where(rng.random((units, coders)) < 0.7, truth[:, None], guesses)
    return [
        [None if missing else int(value) for value, missing in zip(row, gaps, strict=True)]
        for row, gaps in zip(values, rng.random((units, coders)) < 0.1, strict=True)
    ]


@pytest.mark.parametrize(
    ("coefficient", "options", "coders"),
    [
        (krippendorff_alpha, {"level": "ordinal", "scale": [1, 2, 3, 4]}, 3),
        (gwet_ac1, {}, 3),
        (fleiss_kappa_generalised, {}, 3),
        (cohen_kappa, {"weights": "linear", "scale": [1, 2, 3, 4]}, 2),
    ],
)
def test_bootstrap_interval_is_repeatable_and_contains_the_estimate(coefficient, options, coders):
    ratings = noisy_ratings(coders=coders)
    interval = bootstrap_interval(coefficient, ratings, seed=7, **options)
    assert interval == bootstrap_interval(coefficient, ratings, seed=7, **options)
    assert interval != bootstrap_interval(coefficient, ratings, seed=8, **options)
    assert interval.low < coefficient(ratings, **options).value < interval.high
    assert interval.replicates == 1000


def test_bootstrap_interval_of_an_undefined_coefficient():
    interval = bootstrap_interval(fleiss_kappa, [[1, 1, 2], [1, 2, None]])
    assert (interval.low, interval.high, interval.reason) == (None, None, UNEQUAL_RATING_COUNTS)


def test_bootstrap_leaves_out_resamples_where_the_coefficient_is_undefined():
    # A resample holding only the three units rated 1 uses one value: alpha is undefined there.
    ratings = [[1, 1], [1, 1], [1, 1], [2, 2]]
    interval = bootstrap_interval(krippendorff_alpha, ratings, reps=200)
    assert 0 < interval.replicates < 200
    assert interval.low is not None and interval.high is not None
