"""`manage.py agreement --json`: the stable contract, computed from the study's submitted ratings."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from agreement import coefficients
from tests.helpers import IMPACT

pytestmark = pytest.mark.django_db


def agreement(study, *options) -> dict:
    out = io.StringIO()
    call_command("agreement", "--study", study.slug, "--json", *options, stdout=out)
    return json.loads(out.getvalue())


def test_the_json_contract_for_an_ordinal_field(study_with_ratings):
    report = agreement(study_with_ratings, "--field", "impact")

    assert report["study"] == study_with_ratings.slug and list(report["fields"]) == ["impact"]
    impact = report["fields"]["impact"]
    rows = [list(levels) for levels in IMPACT]
    assert (impact["level"], impact["items"], impact["annotators"], impact["ratings"]) == ("ordinal", 5, 3, 14)
    assert impact["percent_agreement"] == pytest.approx(coefficients.percent_agreement(rows).value, abs=1e-12)
    assert impact["pairwise_agreement"] == pytest.approx(coefficients.pairwise_agreement(rows).value, abs=1e-12)
    assert impact["krippendorff_alpha"] == pytest.approx(
        coefficients.krippendorff_alpha(rows, "ordinal", [1, 2, 3, 4]).value, abs=1e-12
    )
    assert impact["gwet_ac1"] == pytest.approx(coefficients.gwet_ac1(rows, [1, 2, 3, 4]).value, abs=1e-12)
    assert impact["fleiss_kappa"] is None and impact["undefined"]["fleiss_kappa"] == coefficients.UNEQUAL_RATING_COUNTS
    assert list(impact["cohen_kappa"]) == ["ann|bob", "ann|cyd", "bob|cyd"]
    ann_bob = impact["cohen_kappa"]["ann|bob"]
    pairs = [[a, b] for a, b, _ in IMPACT]
    assert ann_bob["n"] == 5
    assert ann_bob["linear"] == pytest.approx(coefficients.cohen_kappa(pairs, "linear", [1, 2, 3, 4]).value)
    assert ann_bob["quadratic"] == pytest.approx(coefficients.cohen_kappa(pairs, "quadratic", [1, 2, 3, 4]).value)
    assert impact["cohen_kappa"]["ann|cyd"]["n"] == 4  # cyd skipped one issue
    assert "ci95" not in impact


def test_a_field_with_one_value_is_undefined_with_the_reason_never_zero_or_one(study_with_ratings):
    scenario = agreement(study_with_ratings, "--field", "scenario")["fields"]["scenario"]

    assert scenario["level"] == "nominal" and scenario["percent_agreement"] == 1.0
    assert scenario["krippendorff_alpha"] is None
    assert scenario["undefined"]["krippendorff_alpha"] == coefficients.ONLY_ONE_VALUE
    assert "linear" not in scenario["cohen_kappa"]["ann|bob"]  # weights only for ordinal fields


def test_bootstrap_intervals_are_reproducible_with_the_seed(study_with_ratings):
    first = agreement(study_with_ratings, "--field", "impact", "--bootstrap", "200", "--seed", "7")
    again = agreement(study_with_ratings, "--field", "impact", "--bootstrap", "200", "--seed", "7")

    interval = first["fields"]["impact"]["ci95"]["krippendorff_alpha"]
    assert first == again
    assert interval[0] <= first["fields"]["impact"]["krippendorff_alpha"] <= interval[1]
    assert set(first["fields"]["impact"]["ci95"]) == {"krippendorff_alpha", "gwet_ac1", "fleiss_kappa"}


def test_every_field_with_choices_levels_or_votes_by_default(study_with_ratings):
    report = agreement(study_with_ratings)

    assert {"impact", "scenario", "component", "root_cause"} <= set(report["fields"])
    assert "fixed_version" not in report["fields"]  # free text has no agreement
    assert report["fields"]["component"]["items"] == 0  # nobody rated it


def test_an_unknown_study_or_field_is_a_clear_error(study_with_ratings):
    with pytest.raises(CommandError, match="No study 'nope'"):
        call_command("agreement", "--study", "nope", "--json")
    with pytest.raises(CommandError, match="has no field 'fixed_version' with agreement"):
        call_command("agreement", "--study", study_with_ratings.slug, "--field", "fixed_version")


def test_the_readable_summary(study_with_ratings):
    out = io.StringIO()
    call_command("agreement", "--study", study_with_ratings.slug, "--field", "impact", stdout=out)

    assert "impact (ordinal): 5 items, 3 annotators, 14 ratings" in out.getvalue()
    assert "fleiss kappa: undefined (units have different numbers of ratings)" in out.getvalue()
