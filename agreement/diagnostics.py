"""Agreement diagnostics: why κ can be low when the annotators mostly agree, and when a number is too thin to trust.
Plain data, no Django, as in agreement/coefficients.py.

For two annotators, over the items both rated, with p_ij the share of items the first put in category i and the
second in category j, and k the field's categories (its declared values, and any "Other" text given):

- prevalence index: Byrt, Bishop & Carlin (1993) define it for two categories as (a − d)/n, the difference between
  the shares of items agreed on each category; we give its size, |a − d|/n, as Sim & Wright (2005) do. For k
  categories we compute max_i p_ii − min_i p_ii (the largest difference between the shares of items agreed on two
  categories), which is |a − d|/n when k = 2.
- bias index: Byrt et al.'s |b − c|/n, how differently the two use the categories. For k categories we compute
  ½ Σ_i |p_i· − p_·i| (the share of one annotator's ratings that would have to change for both to use each category
  equally often), which is |b − c|/n when k = 2.
- PABAK, the prevalence- and bias-adjusted κ (Byrt et al. 1993): (k·p_o − 1)/(k − 1).
- κ_max, the largest κ the two annotators' marginals allow (Cohen 1960; Sim & Wright 2005): (p_max − p_e)/(1 − p_e)
  with p_max = Σ_i min(p_i·, p_·i).

For two categories these satisfy Byrt et al.'s identity κ = (PABAK − PI² + BI²)/(1 − PI² + BI²).
"""

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from agreement import coefficients
from annotator.bidi import isolate

# The kappa paradox: agreement this high, one value this common, and κ this far below the agreement.
HIGH_AGREEMENT = 0.80
DOMINANT_SHARE = 0.75
PARADOX_GAP = 0.20
# A value used fewer times than this; fewer items than this behind a coefficient; an interval wider than this.
RARE_USES = 5
FEW_ITEMS = 30
WIDE_INTERVAL = 0.3


@dataclass(frozen=True)
class PairDiagnostics:
    n: int  # items both annotators rated
    categories: int  # k
    observed: float  # p_o
    kappa: float | None
    prevalence_index: float
    bias_index: float
    pabak: float | None  # None with a single category
    kappa_max: float | None  # None when chance agreement is total
    dominant: Hashable  # the value the two used most
    dominant_share: float  # its share of their ratings

    @property
    def paradox(self) -> bool:
        """High observed agreement and low κ because one value dominates."""
        return paradox(self.observed, self.kappa, self.dominant_share)

    def as_dict(self) -> dict:
        keys = ("n", "observed", "kappa", "prevalence_index", "bias_index", "pabak", "kappa_max")
        return {key: getattr(self, key) for key in keys} | {"paradox": self.paradox}


@dataclass(frozen=True)
class FieldWarning:
    kind: str  # kappa_paradox, rare_value, few_items, wide_interval
    message: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


def paradox(observed: float | None, kappa: float | None, dominant_share: float) -> bool:
    return (
        observed is not None
        and kappa is not None
        and observed >= HIGH_AGREEMENT
        and dominant_share >= DOMINANT_SHARE
        and kappa <= observed - PARADOX_GAP
    )


def pair_diagnostics(ratings: coefficients.Ratings, categories: Sequence | None = None) -> PairDiagnostics | None:
    """The diagnostics of two annotators' ratings (units × 2, None where one gave none); None without a common item.

    `categories`: the field's values (also those nobody used), which PABAK's k counts; default: the values used.
    """
    if not len(ratings):
        return None
    matrix = coefficients.confusion_matrix(ratings, categories)
    counts = matrix.counts.astype(float)
    n = int(counts.sum())
    if not n:
        return None
    table = counts / n
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    agreed = np.diag(table)
    k = len(matrix.labels)
    observed = float(agreed.sum())
    by_chance = float(rows @ columns)
    most = int(np.argmax(rows + columns))
    return PairDiagnostics(
        n=n,
        categories=k,
        observed=observed,
        kappa=coefficients.cohen_kappa(ratings, scale=categories).value,
        prevalence_index=float(agreed.max() - agreed.min()),
        bias_index=float(np.abs(rows - columns).sum() / 2),
        pabak=(k * observed - 1) / (k - 1) if k > 1 else None,
        kappa_max=(float(np.minimum(rows, columns).sum()) - by_chance) / (1 - by_chance) if by_chance < 1 else None,
        dominant=matrix.labels[most],
        dominant_share=float((rows + columns)[most] / 2),
    )


def value_uses(rows: coefficients.Ratings) -> Counter:
    """How often each value was given on the items compared (those with two ratings or more); a multiple-choice
    answer counts each of its choices. Values come in the order they are first given (`most_common` breaks ties by
    it)."""
    ratings = coefficients.coded(rows)
    given = ratings.codes >= 0
    compared = ratings.codes[given.sum(axis=1) >= 2]
    compared = compared[compared >= 0]  # row by row, in order
    codes, first = np.unique(compared, return_index=True)
    counts = np.bincount(compared, minlength=len(ratings.labels))
    uses = Counter()
    for code in codes[np.argsort(first)]:
        value = ratings.labels[code]
        for each in value if isinstance(value, frozenset) else [value]:
            uses[each] += int(counts[code])
    return uses


def field_warnings(
    *,
    rows: coefficients.Ratings,
    numbers: dict,
    pairs: dict[str, PairDiagnostics],
    kappa_name: str | None,
    labels: dict | None = None,
) -> list[FieldWarning]:
    """Plain-language warnings about one field's report (agreement/report.py's `numbers`).

    `kappa_name`: the field's chance-corrected coefficient to test for the kappa paradox (None: not applicable);
    `labels`: {value: how people read it}.
    """
    labels = labels or {}
    warnings = []
    uses = value_uses(rows)
    total = sum(uses.values())
    if kappa_name and total:
        dominant, count = uses.most_common(1)[0]
        observed, kappa = numbers["pairwise_agreement"], numbers[kappa_name]
        unanimous = numbers["percent_agreement"]
        if paradox(observed, kappa, count / total):
            # Fleiss' κ is (p_a − p_e)/(1 − p_e) over this very p_a: its chance agreement follows.
            chance = (observed - kappa) / (1 - kappa) if kappa_name == "fleiss_kappa" else None
            here = f" (here {chance:.2f})" if chance is not None else ""
            name = COEFFICIENT_NAMES[kappa_name]
            warnings.append(
                FieldWarning(
                    "kappa_paradox",
                    f"High agreement, low κ (the kappa paradox): all annotators agree on {unanimous * 100:.0f} % of "
                    f"the items ({observed * 100:.0f} % of pairs of ratings agree), yet {name} is {_number(kappa)}, "
                    f"because “{_label(dominant, labels)}” makes up {count / total * 100:.0f} % of the ratings. When "
                    f"one value dominates, agreement by chance is high{here} and κ is pulled down however well "
                    "the annotators agree. Report κ with PABAK, the prevalence and bias indices and Gwet's AC1.",
                )
            )
    flagged = [name.replace("|", " & ") for name, pair in pairs.items() if pair.paradox]
    if flagged and not any(w.kind == "kappa_paradox" for w in warnings):
        warnings.append(
            FieldWarning(
                "kappa_paradox",
                f"High agreement, low Cohen's κ because one value dominates (the kappa paradox), for "
                f"{', '.join(flagged)}: read their κ with PABAK and the prevalence index below.",
            )
        )
    rare = sorted((value for value, count in uses.items() if count < RARE_USES), key=lambda v: (uses[v], str(v)))
    if rare:
        listed = ", ".join(f"“{_label(value, labels)}” ({uses[value]}×)" for value in rare)
        warnings.append(
            FieldWarning(
                "rare_value",
                f"Used fewer than {RARE_USES} times: {listed}. A value this rare gives the coefficients little to go "
                "on: one more or one fewer agreement on it moves κ and α a lot, and its agreement says little.",
            )
        )
    items = numbers["items"]
    if 0 < items < FEW_ITEMS:
        warnings.append(
            FieldWarning(
                "few_items",
                f"Only {items} item{'s' if items != 1 else ''} rated by two or more annotators: with fewer than "
                f"{FEW_ITEMS} items behind it a coefficient is unstable and its interval wide; label more before "
                "drawing a conclusion.",
            )
        )
    elif items:
        thin = [f"{name.replace('|', ' & ')} ({pair.n})" for name, pair in pairs.items() if pair.n < FEW_ITEMS]
        if thin:
            warnings.append(
                FieldWarning(
                    "few_items",
                    f"Fewer than {FEW_ITEMS} items in common behind these pairs' Cohen's κ: {', '.join(thin)}.",
                )
            )
    return warnings + interval_warnings(numbers.get("ci95") or {})


def interval_warnings(intervals: dict) -> list[FieldWarning]:
    """{coefficient: [low, high]} → a warning for each 95 % interval wider than WIDE_INTERVAL."""
    warnings = []
    for name, bounds in intervals.items():
        if not bounds or None in bounds or bounds[1] - bounds[0] <= WIDE_INTERVAL:
            continue
        low, high = bounds
        warnings.append(
            FieldWarning(
                "wide_interval",
                f"The 95 % interval of {COEFFICIENT_NAMES.get(name, name)} is [{_number(low)}, {_number(high)}], "
                f"{high - low:.2f} wide (more than {WIDE_INTERVAL}): the data cannot yet tell "
                f"{coefficients.landis_koch(low)} from {coefficients.landis_koch(high)} agreement.",
            )
        )
    return warnings


COEFFICIENT_NAMES = {
    "percent_agreement": "percent agreement",
    "pairwise_agreement": "pairwise agreement",
    "fleiss_kappa": "Fleiss' κ",
    "krippendorff_alpha": "Krippendorff's α",
    "gwet_ac1": "Gwet's AC1",
}


def _number(value: float) -> str:
    """Two decimals, negative ones with a real minus sign (which LaTeX sets as one too)."""
    return f"{value:.2f}".replace("-", "−")


def _label(value, labels: dict) -> str:
    """Isolated: the warnings quote it in a sentence (annotator/bidi.py)."""
    return isolate(labels.get(value, value))
