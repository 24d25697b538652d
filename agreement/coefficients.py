"""Inter-annotator agreement coefficients on plain data: no Django here.

`ratings` is units × coders: one row per unit (issue), one value per coder, None where a coder gave no rating.
Values are hashable codes (str or int), or frozensets of codes for multiple-choice fields. `scale` is the field's
declared list of values, in order, including values nobody used; it defaults to the values used, sorted. A report
that computes many coefficients on the same ratings passes them `coded(ratings)` instead: reading Python values is
most of a coefficient's cost, and then it is paid once.

Every coefficient here is 1 − D_o / D_e, an observed over an expected disagreement: kappa-like coefficients use
D = 1 − agreement, percentages use D_e = 1. Both are built from weighted sums over units, each unit reduced to a
summary (its number of ratings of each value, or the two coders' values). The bootstrap counts units with the same
summary once, with a weight per resample, and so costs little more than one estimate.
"""

import functools
import numbers
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval", "ratio", "masi"]
Weights = Literal["linear", "quadratic"] | Sequence[Sequence[float]] | None

ONLY_ONE_VALUE = "only one value was used: agreement by chance is total"
NO_PAIRS = "no unit has two ratings"
NO_COMMON_UNITS = "no unit was rated by both coders"
UNEQUAL_RATING_COUNTS = "units have different numbers of ratings"


@dataclass(frozen=True)
class Coefficient:
    """A coefficient's value, or None with the reason it is undefined."""

    value: float | None
    reason: str = ""
    # Units compared: those with two or more ratings (with both coders' ratings, for two-coder coefficients).
    n_units: int = 0
    # For kappa-like coefficients value = (observed − expected) / (1 − expected); None for the others.
    observed: float | None = None
    expected: float | None = None


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval, or None bounds with the reason it is undefined."""

    low: float | None
    high: float | None
    confidence: float
    replicates: int  # resamples in which the coefficient was defined
    reason: str = ""


@dataclass(frozen=True)
class Coded:
    """Ratings read once (`coded()`): every function here takes them in place of the rows."""

    codes: np.ndarray  # units × coders; −1 for a missing rating
    labels: list  # the value of each code

    def __len__(self) -> int:
        return len(self.codes)

    def coders(self, *columns: int) -> "Coded":
        """The ratings of the coders in those columns only."""
        return Coded(self.codes[:, list(columns)], self.labels)

    def recoded(self, scale: Sequence | None) -> tuple[np.ndarray, list]:
        """Codes and labels as `_encode` gives them for the same rows and `scale`."""
        used_codes = np.unique(self.codes[self.codes >= 0])
        used = [self.labels[code] for code in used_codes]
        labels = list(scale) if scale is not None else sorted(used, key=_sort_key)
        code_of = {value: code for code, value in enumerate(labels)}
        if unknown := set(used) - code_of.keys():
            raise ValueError(f"values not in the scale: {sorted(map(repr, unknown))}")
        # The last entry maps the missing rating's −1 to itself.
        mapping = np.full(len(self.labels) + 1, -1, dtype=np.int64)
        mapping[used_codes] = [code_of[value] for value in used]
        return mapping[self.codes], labels


Ratings = Sequence[Sequence[Hashable | None]] | Coded


@dataclass(frozen=True)
class ConfusionMatrix:
    """Number of units by the first coder's value (rows) and the second coder's value (columns)."""

    labels: list
    counts: np.ndarray


@dataclass(frozen=True)
class _Sample:
    """One summary row per unit and the statistic that turns weighted rows into D_o and D_e.

    `statistic(rows, weights)` takes weights of shape (resamples, rows), how often each row counts, and returns D_o
    and D_e per resample.
    """

    rows: np.ndarray
    statistic: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    n_units: int
    kappa_like: bool = True


def percent_agreement(ratings: Ratings) -> Coefficient:
    """Share of units with two or more ratings on which all their ratings are equal."""
    return _estimate(_percent_sample(ratings))


def pairwise_agreement(ratings: Ratings) -> Coefficient:
    """Gwet's (2014) percent agreement: mean over units with two or more ratings of the share of agreeing pairs."""
    return _estimate(_pairwise_sample(ratings))


def krippendorff_observed_agreement(ratings: Ratings) -> Coefficient:
    """Observed agreement of nominal alpha in Gwet's (2014) kappa form: (1 − 1/n)(1 − D_o) + 1/n, n pairable values.

    1 − D_o alone is Krippendorff's share of agreeing pairings; Gwet's form makes alpha (p_a − p_e) / (1 − p_e).
    """
    return _estimate(_krippendorff_observed_sample(ratings))


def cohen_kappa(ratings: Ratings, weights: Weights = None, scale: Sequence | None = None) -> Coefficient:
    """Cohen's kappa (1960) for two coders, or weighted kappa (Cohen 1968); units missing a rating are dropped.

    `weights` is "linear" or "quadratic" (on positions in `scale`, so unused values of the scale count), or a
    matrix of disagreement weights between the scale's values.
    """
    return _estimate(_cohen_sample(ratings, weights, scale))


def scott_pi(ratings: Ratings) -> Coefficient:
    """Scott's pi (1955) for two coders, chance from the pooled shares of values; units missing a rating dropped."""
    return _estimate(_scott_sample(ratings))


def fleiss_kappa(ratings: Ratings) -> Coefficient:
    """Fleiss' kappa (1971); undefined unless every rated unit has the same number of ratings."""
    return _estimate(_fleiss_sample(ratings))


def fleiss_kappa_generalised(ratings: Ratings) -> Coefficient:
    """Fleiss' kappa generalised by Gwet (2014) to units with different numbers of ratings."""
    return _estimate(_fleiss_generalised_sample(ratings))


def gwet_ac1(ratings: Ratings, scale: Sequence | None = None) -> Coefficient:
    """Gwet's AC1 (Gwet 2014) for any number of coders, missing ratings allowed; chance uses the scale's size."""
    return _estimate(_ac1_sample(ratings, scale))


def brennan_prediger(ratings: Ratings, scale: Sequence | None = None) -> Coefficient:
    """Brennan–Prediger (1981) kappa, chance 1/q for q values in the scale; Randolph's free-marginal kappa."""
    return _estimate(_brennan_prediger_sample(ratings, scale))


def krippendorff_alpha(ratings: Ratings, level: Level = "nominal", scale: Sequence | None = None) -> Coefficient:
    """Krippendorff's alpha (Krippendorff 2011, coincidence matrices), missing ratings allowed.

    Levels: nominal; ordinal (Krippendorff's rank distance from the frequencies of the scale's values); interval
    and ratio (on the numeric values); masi (frozenset values, masi_distance).
    """
    return _estimate(_alpha_sample(ratings, level, scale))


def masi_distance(a: frozenset, b: frozenset) -> float:
    """MASI distance (Passonneau 2006) as nltk computes it: 1 − Jaccard × M, M = 1, 0.67, 0.33 or 0."""
    if a == b:
        return 0.0  # also for two empty sets, whose Jaccard index is 0/0
    shared = len(a & b)
    # nltk rounds Passonneau's 2/3 and 1/3; we match nltk's values.
    if shared == min(len(a), len(b)):
        monotonicity = 0.67  # one set contains the other
    elif shared:
        monotonicity = 0.33
    else:
        monotonicity = 0.0
    return 1 - shared / len(a | b) * monotonicity


def category_agreement(ratings: Ratings, scale: Sequence | None = None) -> dict[Hashable, Coefficient]:
    """Specific agreement per value (Uebersax 1982): 2 × agreeing pairs on it / pairs involving it."""
    codes, labels = _encode(ratings, scale)
    counts = _counts(codes, labels)
    per_unit = counts.sum(axis=1)
    counts, per_unit = counts[per_unit >= 2], per_unit[per_unit >= 2]
    # Ordered pairs: a unit with n_k ratings of k out of m has n_k(n_k − 1) agreeing on k, n_k(m − 1) involving k.
    agreeing = (counts * (counts - 1)).sum(axis=0)
    involving = (counts * (per_unit[:, None] - 1)).sum(axis=0)
    units_using = (counts > 0).sum(axis=0)
    return {
        label: Coefficient(float(agree / involve), n_units=int(units))
        if involve
        else Coefficient(None, "not used in any unit with two ratings")
        for label, agree, involve, units in zip(labels, agreeing, involving, units_using, strict=True)
    }


def confusion_matrix(ratings: Ratings, scale: Sequence | None = None) -> ConfusionMatrix:
    """Units counted by the two coders' values; units missing a rating are left out."""
    codes, labels = _encode(ratings, scale)
    pairs = _complete_pairs(codes)
    size = len(labels)
    counts = np.bincount(pairs[:, 0] * size + pairs[:, 1], minlength=size * size).reshape(size, size)
    return ConfusionMatrix(labels, counts)


def bootstrap_interval(
    coefficient: Callable[..., Coefficient],
    ratings: Ratings,
    *,
    reps: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    **options,
) -> Interval:
    """Percentile bootstrap interval of `coefficient(ratings, **options)`, resampling units with replacement."""
    sample = _SAMPLERS[coefficient](ratings, **options)
    if isinstance(sample, Coefficient):
        return Interval(None, None, confidence, 0, sample.reason)
    rng = np.random.default_rng(seed)
    distinct, multiplicity = np.unique(sample.rows, axis=0, return_counts=True)
    # Drawing n units with replacement draws each distinct unit summary a multinomial number of times.
    weights = rng.multinomial(len(sample.rows), multiplicity / len(sample.rows), size=reps)
    # A resample can lack pairable units or use one value only: 0/0, left out below.
    with np.errstate(divide="ignore", invalid="ignore"):
        observed, expected = sample.statistic(distinct, weights)
        values = 1 - observed / expected
    values = values[np.isfinite(values)]
    if not len(values):
        return Interval(None, None, confidence, 0, "undefined in every resample")
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(float(low), float(high), confidence, len(values))


def paired_bootstrap_difference(
    coefficient: Callable[..., Coefficient],
    first: Ratings,
    second: Ratings,
    *,
    reps: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    **options,
) -> Interval:
    """Percentile bootstrap interval of coefficient(second) − coefficient(first) over the same units (row i of
    both is unit i), each resample drawing the same units for both: the paired bootstrap of a swap test. For the
    coefficients that count ratings per unit (α, Fleiss' κ, AC1, percentages), not the two-coder ones."""
    if len(first) != len(second):
        raise ValueError("the two ratings must have the same units, row for row")
    samples = [_SAMPLERS[coefficient](ratings, **options) for ratings in (first, second)]
    for sample in samples:
        if isinstance(sample, Coefficient):
            return Interval(None, None, confidence, 0, sample.reason)
    rng = np.random.default_rng(seed)
    units = len(first)
    weights = rng.multinomial(units, np.full(units, 1 / units), size=reps)
    values = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for ratings, sample in zip((first, second), samples, strict=True):
            # The sample left out the units nobody rated: their weights go with them.
            rated = (_encode(ratings)[0] >= 0).any(axis=1)
            observed, expected = sample.statistic(sample.rows, weights[:, rated])
            values.append(1 - observed / expected)
    differences = values[1] - values[0]
    differences = differences[np.isfinite(differences)]
    if not len(differences):
        return Interval(None, None, confidence, 0, "undefined in every resample")
    low, high = np.quantile(differences, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(float(low), float(high), confidence, len(differences))


def coded(ratings: Ratings, scale: Sequence | None = None) -> Coded:
    """The ratings read once, for many coefficients; `scale` as the coefficients take it (their own `scale` still
    decides each one's values)."""
    return Coded(*_encode(ratings, scale))


def landis_koch(value: float) -> str:
    """Landis & Koch (1977) band: poor < 0 ≤ slight ≤ .20 < fair ≤ .40 < moderate ≤ .60 < substantial ≤ .80."""
    if value < 0:
        return "poor"
    for upper, band in ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if value <= upper:
            return band
    return "almost perfect"


# Samplers: each coefficient's data as one summary row per unit, or a Coefficient when it is undefined up front.


def _percent_sample(ratings: Ratings) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings)), _percent_disagreements, kappa_like=False)


def _pairwise_sample(ratings: Ratings) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings)), _pairwise_disagreements, kappa_like=False)


def _krippendorff_observed_sample(ratings: Ratings) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings)), _krippendorff_observed_disagreements, kappa_like=False)


def _cohen_sample(ratings: Ratings, weights: Weights = None, scale: Sequence | None = None) -> _Sample | Coefficient:
    codes, labels = _encode(ratings, scale)
    pairs = _complete_pairs(codes)
    if not len(pairs):
        return Coefficient(None, NO_COMMON_UNITS)
    if len(labels) < 2:
        return Coefficient(None, ONLY_ONE_VALUE, len(pairs))
    disagreement = _disagreement_weights(weights, len(labels))
    size = len(labels)

    def statistic(rows: np.ndarray, unit_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cells = rows[:, 0] * size + rows[:, 1]
        table = np.stack([np.bincount(cells, weights=each, minlength=size * size) for each in unit_weights])
        table = (table / unit_weights.sum(axis=1, keepdims=True)).reshape(-1, size, size)
        by_chance = table.sum(axis=2)[:, :, None] * table.sum(axis=1)[:, None, :]
        return (table * disagreement).sum(axis=(1, 2)), (by_chance * disagreement).sum(axis=(1, 2))

    return _Sample(pairs, statistic, len(pairs))


def _scott_sample(ratings: Ratings) -> _Sample | Coefficient:
    codes, labels = _encode(ratings)
    pairs = _complete_pairs(codes)
    if not len(pairs):
        return Coefficient(None, NO_COMMON_UNITS)
    # Scott's pi is Fleiss' kappa on two ratings per unit.
    return _count_sample(_counts(pairs, labels), _fleiss_disagreements)


def _fleiss_sample(ratings: Ratings) -> _Sample | Coefficient:
    counts = _counts(*_encode(ratings))
    if len(set(counts.sum(axis=1).tolist()) - {0}) > 1:
        return Coefficient(None, UNEQUAL_RATING_COUNTS)
    # With equal numbers of ratings Gwet's generalisation is Fleiss' kappa itself.
    return _count_sample(counts, _fleiss_disagreements)


def _fleiss_generalised_sample(ratings: Ratings) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings)), _fleiss_disagreements)


def _ac1_sample(ratings: Ratings, scale: Sequence | None = None) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings, scale)), _ac1_disagreements)


def _brennan_prediger_sample(ratings: Ratings, scale: Sequence | None = None) -> _Sample | Coefficient:
    return _count_sample(_counts(*_encode(ratings, scale)), _brennan_prediger_disagreements)


def _alpha_sample(ratings: Ratings, level: Level = "nominal", scale: Sequence | None = None) -> _Sample | Coefficient:
    codes, labels = _encode(ratings, scale)
    if level == "ordinal":
        statistic = _ordinal_alpha_disagreements
    else:
        statistic = functools.partial(_alpha_disagreements, distance=_distance_matrix(level, labels))
    return _count_sample(_counts(codes, labels), statistic, kappa_like=False)


_SAMPLERS: dict[Callable[..., Coefficient], Callable[..., _Sample | Coefficient]] = {
    percent_agreement: _percent_sample,
    pairwise_agreement: _pairwise_sample,
    krippendorff_observed_agreement: _krippendorff_observed_sample,
    cohen_kappa: _cohen_sample,
    scott_pi: _scott_sample,
    fleiss_kappa: _fleiss_sample,
    fleiss_kappa_generalised: _fleiss_generalised_sample,
    gwet_ac1: _ac1_sample,
    brennan_prediger: _brennan_prediger_sample,
    krippendorff_alpha: _alpha_sample,
}


def _estimate(sample: _Sample | Coefficient) -> Coefficient:
    """The coefficient on the units as they are: every unit weighted 1."""
    if isinstance(sample, Coefficient):
        return sample
    observed, expected = (float(d[0]) for d in sample.statistic(sample.rows, np.ones((1, len(sample.rows)))))
    if expected <= 0:
        return Coefficient(None, ONLY_ONE_VALUE, sample.n_units)
    value = 1 - observed / expected
    if sample.kappa_like:
        return Coefficient(value, n_units=sample.n_units, observed=1 - observed, expected=1 - expected)
    return Coefficient(value, n_units=sample.n_units)


def _count_sample(
    counts: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    kappa_like: bool = True,
) -> _Sample | Coefficient:
    """A sample of the units' rating counts per value; units nobody rated carry no information and are left out."""
    per_unit = counts.sum(axis=1)
    n_pairable = int((per_unit >= 2).sum())
    if not n_pairable:
        return Coefficient(None, NO_PAIRS)
    if kappa_like and counts.shape[1] < 2:
        # With one value chance agreement is total (and AC1's would divide by q − 1 = 0).
        return Coefficient(None, ONLY_ONE_VALUE, n_pairable)
    return _Sample(counts[per_unit > 0], statistic, n_pairable, kappa_like)


# Statistics: (count rows, weights) → (D_o, D_e) per row of weights.


def _percent_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    per_unit = rows.sum(axis=1)
    pairable = per_unit >= 2
    unanimous = pairable & (rows.max(axis=1) == per_unit)
    return 1 - (weights @ unanimous) / (weights @ pairable), np.ones(len(weights))


def _pairwise_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    agreement, _ = _agreement_and_shares(rows, weights)
    return 1 - agreement, np.ones(len(weights))


def _krippendorff_observed_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    per_unit = rows.sum(axis=1)
    agreeing = (rows * (rows - 1)).sum(axis=1) * _pair_weight(per_unit)
    pairable_values = weights @ (per_unit * (per_unit >= 2))
    return (1 - 1 / pairable_values) * (1 - (weights @ agreeing) / pairable_values), np.ones(len(weights))


def _fleiss_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    agreement, shares = _agreement_and_shares(rows, weights)
    return 1 - agreement, 1 - (shares**2).sum(axis=1)


def _ac1_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    agreement, shares = _agreement_and_shares(rows, weights)
    return 1 - agreement, 1 - (shares * (1 - shares)).sum(axis=1) / (rows.shape[1] - 1)


def _brennan_prediger_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    agreement, _ = _agreement_and_shares(rows, weights)
    return 1 - agreement, np.full(len(weights), 1 - 1 / rows.shape[1])


def _agreement_and_shares(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gwet's (2014) observed agreement and the mean share of each value among a unit's ratings."""
    per_unit = rows.sum(axis=1)
    # Units with one rating have no pairs: their numerator is 0, the maximum only avoids 0/0.
    agreeing_share = (rows * (rows - 1)).sum(axis=1) / np.maximum(per_unit * (per_unit - 1), 1)
    agreement = (weights @ agreeing_share) / (weights @ (per_unit >= 2))
    shares = (weights @ (rows / per_unit[:, None])) / weights.sum(axis=1, keepdims=True)
    return agreement, shares


def _alpha_disagreements(rows: np.ndarray, weights: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Krippendorff's D_o and D_e for a fixed distance between values."""
    per_unit = rows.sum(axis=1)
    # δ(c, c) = 0, so n_c² on the diagonal gives the same sum as the coincidence matrix's n_c(n_c − 1).
    unit_disagreement = ((rows @ distance) * rows).sum(axis=1) * _pair_weight(per_unit)
    value_counts = weights @ (rows * (per_unit >= 2)[:, None])
    total = value_counts.sum(axis=1)
    observed = (weights @ unit_disagreement) / total
    expected = ((value_counts @ distance) * value_counts).sum(axis=1) / (total * (total - 1))
    return observed, expected


def _ordinal_alpha_disagreements(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Krippendorff's D_o and D_e at the ordinal level, whose distances depend on the frequencies of values."""
    per_unit = rows.sum(axis=1)
    value_counts = weights @ (rows * (per_unit >= 2)[:, None])
    total = value_counts.sum(axis=1)
    # (Σ_{g=c..k} n_g − (n_c + n_k)/2)² is the squared difference of c's and k's mid-ranks.
    midranks = value_counts.cumsum(axis=1) - value_counts / 2
    distance = (midranks[:, :, None] - midranks[:, None, :]) ** 2
    unit_pairs = rows[:, :, None] * rows[:, None, :] * _pair_weight(per_unit)[:, None, None]
    coincidences = (weights @ unit_pairs.reshape(len(rows), -1)).reshape(distance.shape)
    observed = (coincidences * distance).sum(axis=(1, 2)) / total
    expected = np.einsum("rc,rck,rk->r", value_counts, distance, value_counts) / (total * (total - 1))
    return observed, expected


def _pair_weight(per_unit: np.ndarray) -> np.ndarray:
    """Krippendorff's 1/(m − 1) for each pair of a unit's m ratings; 0 for units with one rating."""
    return (per_unit >= 2) / np.maximum(per_unit - 1, 1)


def _distance_matrix(level: Level, labels: list) -> np.ndarray:
    """Krippendorff's distance between every two values, for the levels whose distances are fixed."""
    if level == "nominal":
        return 1 - np.eye(len(labels))
    if level == "masi":
        if not all(isinstance(label, frozenset) for label in labels):
            raise ValueError("the masi level needs frozenset values")
        distances = [[masi_distance(a, b) for b in labels] for a in labels]
        return np.array(distances, dtype=float).reshape(len(labels), len(labels))  # (0, 0) when no value was used
    if level not in ("interval", "ratio"):
        raise ValueError(f"unknown level of measurement: {level!r}")
    if not all(isinstance(label, numbers.Real) for label in labels):
        raise ValueError(f"the {level} level needs numeric values")
    values = np.array(labels, dtype=float)
    difference = values[:, None] - values[None, :]
    if level == "interval":
        return difference**2
    total = values[:, None] + values[None, :]
    return np.divide(difference, total, out=np.zeros_like(difference), where=total != 0) ** 2


def _disagreement_weights(weights: Weights, size: int) -> np.ndarray:
    """Cohen's disagreement weights between scale positions, scaled to at most 1 (kappa does not change)."""
    positions = np.arange(size)
    gap = np.abs(positions[:, None] - positions[None, :])
    if weights is None:
        matrix = gap > 0
    elif isinstance(weights, str):
        if weights not in ("linear", "quadratic"):
            raise ValueError(f"unknown weights: {weights!r}")
        matrix = gap if weights == "linear" else gap**2
    else:
        matrix = np.array(weights, dtype=float)
        if matrix.shape != (size, size) or matrix.max() <= 0:
            raise ValueError(f"weights must be a {size} × {size} matrix with a positive entry, one row per value")
    return matrix / matrix.max()


def _complete_pairs(codes: np.ndarray) -> np.ndarray:
    """The units that both of exactly two coders rated."""
    if codes.shape[1] != 2:
        raise ValueError(f"this coefficient needs exactly two coders, not {codes.shape[1]}")
    return codes[(codes >= 0).all(axis=1)]


def _counts(codes: np.ndarray, labels: list) -> np.ndarray:
    """How many ratings each unit got of each value (units × values)."""
    size = len(labels)
    units = np.broadcast_to(np.arange(len(codes))[:, None], codes.shape)
    rated = codes >= 0
    return np.bincount(units[rated] * size + codes[rated], minlength=len(codes) * size).reshape(len(codes), size)


def _encode(ratings: Ratings, scale: Sequence | None = None) -> tuple[np.ndarray, list]:
    """Codes (units × coders; −1 for a missing rating) and the value of each code."""
    if isinstance(ratings, Coded):
        return ratings.recoded(scale)
    rows = [list(row) for row in ratings]
    coders = len(rows[0]) if rows else 0
    if any(len(row) != coders for row in rows):
        raise ValueError("every unit needs one entry per coder (None where a rating is missing)")
    used = {value for row in rows for value in row if value is not None}
    labels = list(scale) if scale is not None else sorted(used, key=_sort_key)
    code_of = {value: code for code, value in enumerate(labels)}
    if unknown := used - code_of.keys():
        raise ValueError(f"values not in the scale: {sorted(map(repr, unknown))}")
    codes = [-1 if value is None else code_of[value] for row in rows for value in row]
    return np.array(codes, dtype=np.int64).reshape(len(rows), coders), labels


def _sort_key(value: Hashable) -> tuple:
    """Numbers by value, other codes by type and value, sets by their sorted members: a stable order for labels."""
    if isinstance(value, frozenset):
        return (2, "", sorted(map(repr, value)))
    if isinstance(value, numbers.Real):
        return (0, "", value)
    return (1, type(value).__name__, value)
