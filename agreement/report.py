"""A study's agreement, field by field, in the shape of the `manage.py agreement --json` contract.

Scripts and other tools read that JSON: keep its keys stable (README, "Agreement").
"""

from itertools import combinations

from agreement import coefficients as c
from agreement import diagnostics
from agreement.primary import meets, primary_reports
from agreement.ratings import LEVELS, FieldRatings, field_ratings, issue_ids
from studies.models import CodebookField, Study


def study_ratings(
    study: Study, *, field: str | None = None, stage: str | None = None, **restrictions
) -> dict[str, FieldRatings]:
    """{key: ratings} of the fields that have agreement; `restrictions`: field_ratings()'s keyword arguments, but
    `issues` as StudyIssues (e.g. those revealed to the reader), read once here."""
    fields = study.fields.filter(kind__in=list(LEVELS)).order_by("position", "id")
    if restrictions.get("issues") is not None:
        restrictions["issues"] = issue_ids(restrictions["issues"])
    if field:
        fields = fields.filter(key=field)
    if stage:
        fields = fields.filter(stage=stage)
    return {f.key: field_ratings(study, f, **restrictions) for f in fields}


def study_report(study: Study, *, bootstrap: int = 0, seed: int = 0, **selection) -> dict:
    """`selection`: study_ratings()'s keyword arguments."""
    return report_of(study, study_ratings(study, **selection), bootstrap=bootstrap, seed=seed)


def report_of(study: Study, ratings: dict[str, FieldRatings], *, bootstrap: int = 0, seed: int = 0) -> dict:
    fields = {key: field_report(each, bootstrap=bootstrap, seed=seed) for key, each in ratings.items()}
    for key, primary in primary_reports(study).items():
        if key in fields:
            value = fields[key][primary["statistic"]]
            fields[key]["primary"] = {**primary, "value": value, "met": meets(value, primary["threshold"])}
    return {"study": study.slug, "fields": fields}


def field_report(ratings: FieldRatings, *, bootstrap: int = 0, seed: int = 0) -> dict:
    """Every coefficient of one field; `bootstrap` > 0 adds 95 % intervals from that many resamples."""
    # Read once for every coefficient below.
    rows, scale, ordinal = c.coded(ratings.rows), ratings.scale, ratings.level == "ordinal"
    alpha_level = "masi" if ratings.field.kind == CodebookField.Kind.MULTIPLE else ratings.level
    undefined: dict[str, str] = {}

    def value(name: str, coefficient: c.Coefficient) -> float | None:
        if coefficient.value is None:
            undefined[name] = coefficient.reason
        return coefficient.value

    report = {
        "level": ratings.level,
        "items": len(ratings.units),
        "annotators": len(ratings.coders),
        "ratings": ratings.ratings,
        "percent_agreement": value("percent_agreement", c.percent_agreement(rows)),
        "pairwise_agreement": value("pairwise_agreement", c.pairwise_agreement(rows)),
        "cohen_kappa": {},
    }
    for first, second in combinations(range(len(ratings.coders)), 2):  # coders are sorted: keys are too
        pair = rows.coders(first, second)
        name = f"{ratings.coders[first]}|{ratings.coders[second]}"
        kappa = c.cohen_kappa(pair)
        entry = {"kappa": value(f"cohen_kappa {name}", kappa), "n": kappa.n_units}
        if ordinal:
            entry["linear"] = value(f"cohen_kappa {name} linear", c.cohen_kappa(pair, "linear", scale))
            entry["quadratic"] = value(f"cohen_kappa {name} quadratic", c.cohen_kappa(pair, "quadratic", scale))
        report["cohen_kappa"][name] = entry
    report["fleiss_kappa"] = value("fleiss_kappa", c.fleiss_kappa(rows))
    report["krippendorff_alpha"] = value("krippendorff_alpha", c.krippendorff_alpha(rows, alpha_level, scale))
    report["gwet_ac1"] = value("gwet_ac1", c.gwet_ac1(rows, scale))
    if bootstrap:
        options = {"reps": bootstrap, "seed": seed}
        intervals = {
            "krippendorff_alpha": c.bootstrap_interval(
                c.krippendorff_alpha, rows, level=alpha_level, scale=scale, **options
            ),
            "gwet_ac1": c.bootstrap_interval(c.gwet_ac1, rows, scale=scale, **options),
            "fleiss_kappa": c.bootstrap_interval(c.fleiss_kappa, rows, **options),
        }
        report["ci95"] = {name: [interval.low, interval.high] for name, interval in intervals.items()}
    report["undefined"] = undefined
    pairs = {}
    if ratings.categories is not None:  # not for sets of choices
        for first, second in combinations(range(len(ratings.coders)), 2):
            found = diagnostics.pair_diagnostics(rows.coders(first, second), ratings.categories)
            if found is not None:
                pairs[f"{ratings.coders[first]}|{ratings.coders[second]}"] = found
    report["diagnostics"] = {name: pair.as_dict() for name, pair in pairs.items()}
    report["warnings"] = [
        warning.as_dict()
        for warning in diagnostics.field_warnings(
            rows=rows,
            numbers=report,
            pairs=pairs,
            kappa_name=_paradox_kappa(ratings, report),
            labels=ratings.labels,
        )
    ]
    return report


def _paradox_kappa(ratings: FieldRatings, report: dict) -> str | None:
    """The nominal κ to hold against the observed agreement: Fleiss' κ, or α where items have different numbers
    of ratings; none for ordinal levels and sets of choices, whose α weighs disagreements."""
    if ratings.level != "nominal" or ratings.categories is None:
        return None
    return "fleiss_kappa" if report["fleiss_kappa"] is not None else "krippendorff_alpha"
