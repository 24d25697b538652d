"""The methods report: generated from a fixed study and compared with the text stored in tests/data/methods/, its
checklist item by item, who may open it, and the owners' choice of example disagreements (issue 15)."""

import os
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from agreement.methods import methods_report
from agreement.methods import sections as methods_sections
from agreement.methods.report import Section
from agreement.models import PrimaryStatistic
from agreement.primary import primary_declare
from studies.access import StudyAccess
from studies.models import Annotation, Assignment, ExampleDisagreement, FinalValue, GoldItem
from tests.factories import StudyFactory, UserFactory
from tests.helpers import DATA, as_read, methods_study

pytestmark = pytest.mark.django_db

EXPECTED = DATA / "methods"


@pytest.fixture
def fixed():
    return methods_study()


def command(*args: str) -> str:
    out = StringIO()
    call_command("methods_report", *args, stdout=out)
    return out.getvalue()


def checklist(study) -> dict[str, object]:
    report = methods_report(StudyAccess.everything(study), intervals={})
    return {item.text: item for item in report.checklist}


# --- The whole report, against the stored text ---


@pytest.mark.parametrize(("format", "name"), [("markdown", "fixed-study.md"), ("latex", "fixed-study.tex")])
def test_it_regenerates_the_stored_report_of_a_fixed_study(fixed, format, name):
    written = command("--study", "fixed-methods", "--format", format)

    if os.environ.get("METHODS_REPORT_WRITE"):  # to review a deliberate change of wording: write, read, commit
        (EXPECTED / name).write_text(written, encoding="utf-8")
    assert written == (EXPECTED / name).read_text(encoding="utf-8")


def test_it_refuses_a_study_that_does_not_exist(db):
    with pytest.raises(CommandError, match="No study 'nope'"):
        command("--study", "nope")


def test_it_reads_every_number_from_the_study(fixed):
    """Change the data, and the text follows: nothing in it is typed by hand."""
    before = command("--study", "fixed-methods")
    final = FinalValue.objects.get(study_issue=fixed["study_issues"][6], field=fixed["fields"]["cause"])
    final.rationale = ""
    final.save()

    after = command("--study", "fixed-methods")
    assert "3 values adjudicated, 3 of them with a written rationale" in before
    assert "3 values adjudicated, 2 of them with a written rationale" in after


# --- The checklist, item by item ---


def test_it_marks_every_essential_item_missing_on_an_empty_study(db):
    items = checklist(StudyFactory())

    essential = [item for item in items.values() if item.level == "essential"]
    assert essential and not any(item.met for item in essential)
    assert "".join(items["How many raters rated each property and item"].detail) == (
        "No issue was rated by two annotators: assign each issue to at least two."
    )


def test_it_marks_the_essentials_met_from_a_labelled_and_reconciled_study(fixed):
    items = checklist(fixed["study"])

    assert all(item.met for item in items.values() if item.level == "essential")
    assert items["Example disagreements"].met
    assert items["Disagreements resolved by discussion"].met


def test_it_says_which_adjudicated_values_lack_a_rationale(fixed):
    FinalValue.objects.filter(study_issue=fixed["study_issues"][2]).update(rationale="")

    item = checklist(fixed["study"])["Disagreements resolved by discussion"]
    assert not item.met
    assert "".join(item.detail) == "1 adjudicated values have no rationale: write it on the reconciliation page."


def test_it_names_the_fields_without_a_definition(fixed):
    fixed["fields"]["cause"].definition = ""
    fixed["fields"]["cause"].save()

    item = checklist(fixed["study"])["The rating scheme and decision rules"]
    assert not item.met
    assert "".join(item.detail) == "Write a definition for Root cause in the codebook."


def bare(fixed):
    """The fixed study without its primary statistics and its gold issues."""
    PrimaryStatistic.objects.all().delete()
    Assignment.objects.exclude(purpose=Assignment.Purpose.REAL).delete()
    GoldItem.objects.all().delete()
    return fixed["study"]


def test_it_names_what_would_meet_the_items_other_features_record(fixed):
    items = checklist(bare(fixed))

    assert "".join(items["IRR broken down by wave"].detail) == "Run calibration rounds."
    assert "".join(items["A description of rater training"].detail) == "Train annotators on gold items."
    justified = items["A justified statistic with established thresholds"]
    assert not justified.met
    assert as_read("".join(justified.detail)) == (
        "No primary statistic was declared for Root cause, Impact: pre-register one per field."
    )
    favourable = items["Avoided: computing several statistics and reporting the most favourable"]
    assert not favourable.met
    assert "pre-register one per field" in "".join(favourable.detail)


def test_it_meets_an_item_once_its_section_is_recorded(fixed, monkeypatch):
    """The seam for calibration rounds, the primary statistic, diagnostics and training: a section that records
    its data meets the checklist's items."""
    recorded = [
        (lambda facts: Section("rounds", "Calibration rounds")) if build is methods_sections.rounds else build
        for build in methods_sections.SECTIONS
    ]
    monkeypatch.setattr("agreement.methods.SECTIONS", recorded)

    items = checklist(fixed["study"])
    assert items["IRR broken down by wave"].met


def test_it_says_plainly_what_this_study_did_not_record(fixed):
    report = methods_report(StudyAccess.everything(bare(fixed)), intervals={})

    for key in ("primary", "training", "rounds"):
        section = report.section(key)
        assert not section.recorded
        assert section.paragraphs[0][0].startswith("Not recorded in this study: ")


def test_it_reports_nothing_unrecorded_on_an_empty_study(db):
    report = methods_report(StudyAccess.everything(StudyFactory()), intervals={})

    for key in ("primary", "training", "rounds", "diagnostics"):
        assert not report.section(key).recorded


# --- The primary statistic ---


def test_it_states_each_primary_statistic_against_its_declared_threshold(fixed):
    """Root cause's AC1 misses its declared 0.700: never presented as good, and named in the checklist."""
    items = checklist(fixed["study"])
    text = command("--study", "fixed-methods")

    assert "Root cause: Gwet's AC1 = 0.600 is below the declared threshold 0.700: the threshold is not met" in text
    assert "Impact: Krippendorff's α = 0.885 reaches the declared threshold 0.800, but the interval's lower bound" in (
        text
    )
    assert "| Root cause | Gwet's AC1 | 0.700 | Gwet, 2014 | 2026-03-02, before labelling | 0.600" in text
    assert "every other statistic in this report is secondary" in text
    below = items["Avoided: presenting a below-threshold value as good"]
    assert below.met
    assert "".join(below.detail) == (
        "Each primary statistic (or else α) is stated against its threshold (below it: Root cause)."
    )
    assert items["A justified statistic with established thresholds"].met
    assert items["Avoided: computing several statistics and reporting the most favourable"].met


def test_it_falls_back_to_krippendorffs_thresholds_and_says_so(fixed):
    PrimaryStatistic.objects.filter(field=fixed["fields"]["cause"]).delete()

    items = checklist(fixed["study"])
    text = command("--study", "fixed-methods")
    assert (
        "Root cause: α = 0.536 is below 0.667: the data of this property are not reliable enough to draw conclusions "
        "(Krippendorff, 2004; no primary statistic was declared for it)." in text
    )
    assert "No primary statistic was declared for Root cause: their α is held against Krippendorff's thresholds" in (
        text
    )
    assert not items["A justified statistic with established thresholds"].met
    assert "".join(items["Avoided: presenting a below-threshold value as good"].detail).endswith(
        "(below it: Root cause)."
    )


def test_a_statistic_changed_after_labelling_started_is_shown_with_its_reason_and_not_avoided(fixed):
    impact = fixed["fields"]["impact"]
    primary_declare(
        field=impact,
        statistic="gwet_ac1",
        threshold=Decimal("0.7"),
        source="Gwet, 2014",
        reason="AC1 copes with the rare low level",
        user=fixed["people"]["olga"],
        version=impact.primary_statistic.version,
    )

    items = checklist(fixed["study"])
    text = command("--study", "fixed-methods")
    assert "then changed on " in text and ", after labelling started, as Gwet's AC1 ≥ 0.700 (Gwet, 2014)" in text
    assert "because: AC1 copes with the rare low level" in text
    assert "Impact: Gwet's AC1 = 0.786 reaches the declared threshold 0.700" in text
    assert "It was declared after labelling started: it is not pre-registered." in text
    favourable = items["Avoided: computing several statistics and reporting the most favourable"]
    assert not favourable.met
    assert as_read("".join(favourable.detail)) == (
        "The primary statistic of Impact was declared or changed after labelling started (AC1 copes with the rare "
        "low level): chosen knowing the data, it may be the most favourable."
    )
    assert not items["A justified statistic with established thresholds"].met


# --- Diagnostics ---


def test_it_reports_the_diagnostics_and_explains_the_kappa_paradox(fixed):
    """Root cause made "API misuse" on every issue but one: 6 of 7 agree, yet κ is 0."""
    cause = fixed["fields"]["cause"]
    Annotation.objects.filter(field=cause, assignment__purpose=Assignment.Purpose.REAL).update(value="api")
    Annotation.objects.filter(
        field=cause, assignment__issue=fixed["study_issues"][2].issue, assignment__annotator__username="ben"
    ).update(value="data")

    report = methods_report(StudyAccess.everything(fixed["study"]), intervals={})
    section = report.section("diagnostics")
    text = as_read(" ".join("".join(paragraph) for paragraph in section.paragraphs))
    assert section.recorded
    assert "the kappa paradox" in text and "“API misuse” makes up 93 % of the ratings" in text
    # The pair's items, observed agreement, κ, prevalence and bias indices, PABAK, κ max.
    expected = ["Root cause", "ann & ben", "7", "0.857", "0.000", "0.857", "0.143", "0.786", "0.000"]
    assert section.tables[0].rows[0] == expected
    item = {item.text: item for item in report.checklist}["Analysis of anomalies such as the kappa paradox"]
    assert item.met
    assert as_read("".join(item.detail)) == (
        "Prevalence and bias indices, PABAK and the maximum κ for every nominal property rated twice (1), and the "
        "kappa paradox explained for Root cause."
    )


def test_the_anomalies_item_is_missing_without_a_nominal_property_rated_twice(db):
    item = checklist(StudyFactory())["Analysis of anomalies such as the kappa paradox"]

    assert not item.met
    assert "".join(item.detail) == (
        "No nominal property was rated by two annotators: the diagnostics need two ratings of an issue."
    )


# --- Training and gold ---


def test_it_describes_training_with_each_trainees_accuracy_and_kappa(fixed):
    report = methods_report(StudyAccess.everything(fixed["study"]), intervals={})
    section = report.section("training")
    text = as_read(" ".join("".join(paragraph) for paragraph in section.paragraphs))

    assert "2 issues of the study are gold" in text and "1 promoted from decided issues" in text
    assert "The reference answers were set under codebook version 2." in text
    assert "an accuracy of at least 0.80 on every required field" in text
    assert "ann passed (1 of 1 training issues submitted), tia did not pass (2 of 2" in text
    trainees, checks = section.tables
    assert ["tia", "Root cause", "2", "0.500", "0.000"] in trainees.rows
    assert checks.rows[0] == ["ben", "Root cause", "1", "1.000", "—"]
    assert {item.text: item for item in report.checklist}["A description of rater training"].met


def test_only_owners_read_each_trainees_scores_in_the_report(client, fixed):
    """Adjudicators read the report, but not who was checked on gold or how each trainee scored."""
    client.force_login(fixed["people"]["ada"])

    text = as_read(client.get(url(fixed["study"])).content.decode())
    assert "2 annotators trained on them, 1 passed; 1 annotator had gold checks in their queue." in text
    assert "did not pass" not in text and "Trainees against gold" not in text


def test_it_marks_a_statistic_undefined_when_alpha_cannot_be_computed(fixed):
    # Every answer of the impact made the same: α has no variation to measure.
    Annotation.objects.filter(field=fixed["fields"]["impact"]).update(value=2)
    item = checklist(fixed["study"])["An appropriate statistic for each type"]
    assert not item.met
    assert "".join(item.detail) == "α is undefined for Impact: the agreement page says why."


# --- Who may open it ---


def url(study, name="agreement:methods") -> str:
    return reverse(name, args=[study.slug])


def test_it_sends_the_anonymous_to_log_in(client, fixed):
    response = client.get(url(fixed["study"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["outsider", "ann"])
def test_it_is_not_found_for_outsiders_and_annotators(client, fixed, who):
    """Annotators never see the time on task the report holds, even where they may read the agreement."""
    fixed["study"].annotators_see_agreement = True
    fixed["study"].save()
    client.force_login(UserFactory(username="outsider") if who == "outsider" else fixed["people"][who])

    assert client.get(url(fixed["study"])).status_code == 404
    assert client.get(url(fixed["study"]) + "?format=markdown").status_code == 404


@pytest.mark.parametrize("who", ["olga", "ada"])
def test_it_shows_owners_and_adjudicators_the_report_beside_its_checklist(client, fixed, who):
    client.force_login(fixed["people"][who])

    response = client.get(url(fixed["study"]))
    text = as_read(response.content.decode())
    assert response.status_code == 200
    assert "Disagreements were resolved by discussion" in text
    assert "IRR broken down by wave" in text and "Run calibration rounds." in text
    assert ("Show as an example" in text) == (who == "olga")  # owners choose the examples


def test_it_rejects_post_on_the_page(client, fixed):
    client.force_login(fixed["people"]["olga"])
    assert client.post(url(fixed["study"])).status_code == 405


@pytest.mark.parametrize(
    ("format", "extension", "start"),
    [("markdown", "md", "# Methods: Silent bugs, fixed"), ("latex", "tex", "% Methods section of")],
)
def test_it_downloads_the_report(client, fixed, format, extension, start):
    client.force_login(fixed["people"]["ada"])

    response = client.get(url(fixed["study"]) + f"?format={format}")
    assert response["Content-Disposition"] == f'attachment; filename="fixed-methods-methods.{extension}"'
    assert response.content.decode().startswith(start)


def test_it_reads_the_page_in_few_queries(client, fixed, django_assert_max_num_queries):
    client.force_login(fixed["people"]["olga"])
    client.get(url(fixed["study"]))  # the intervals, computed and stored once

    # Each section the apps built on agreement add (language models, surveys) asks once whether the study has any.
    with django_assert_max_num_queries(76):
        assert client.get(url(fixed["study"])).status_code == 200


# --- Choosing example disagreements ---


def choose(client, study, issue: str, field: str):
    return client.post(url(study, "agreement:methods_example_add"), {"issue": issue, "field": field})


def test_it_shows_the_example_an_owner_chose(client, fixed):
    client.force_login(fixed["people"]["olga"])

    response = choose(client, fixed["study"], "acme/widgets#4", "impact")
    assert response.status_code == 302
    text = command("--study", "fixed-methods")
    assert "1 example, chosen by the study's owners." in text
    assert "acme/widgets#4, Impact: ann gave 2 — medium; ben gave 3 — high." in text
    assert "Rationale: Wrong results \\| no crash: medium." in text


def test_it_refuses_an_undecided_issue_as_an_example_and_says_why(client, fixed):
    """Its values are still blind to its annotators until the decision: the report must not show them."""
    client.force_login(fixed["people"]["olga"])

    response = choose(client, fixed["study"], "acme/widgets#8", "cause")
    assert response.status_code == 422
    assert "acme/widgets#8 is in labelling, not decided: only a decided issue can be an example" in as_read(
        response.content.decode()
    )
    assert not ExampleDisagreement.objects.exists()


def test_it_refuses_a_field_the_annotators_agreed_on(client, fixed):
    client.force_login(fixed["people"]["olga"])

    response = choose(client, fixed["study"], "acme/widgets#1", "cause")
    assert response.status_code == 422
    assert "The annotators of acme/widgets#1 did not differ on Root cause" in as_read(response.content.decode())
    assert not ExampleDisagreement.objects.exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("widgets 4", "Write the issue as owner/repo#number"),
        ("acme/widgets#99", "This study has no issue acme/widgets#99."),
    ],
)
def test_it_refuses_an_issue_it_cannot_find(client, fixed, typed, error):
    client.force_login(fixed["people"]["olga"])

    response = choose(client, fixed["study"], typed, "cause")
    assert response.status_code == 422
    page = as_read(response.content.decode())
    assert error in page
    assert f'value="{typed}"' in page  # what was typed stays


def test_it_lets_only_owners_choose_examples(client, fixed):
    client.force_login(fixed["people"]["ada"])

    assert choose(client, fixed["study"], "acme/widgets#4", "impact").status_code == 404
    assert not ExampleDisagreement.objects.exists()


def test_it_needs_the_csrf_token_to_choose(fixed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(fixed["people"]["olga"])

    assert choose(client, fixed["study"], "acme/widgets#4", "impact").status_code == 403


def test_it_removes_an_example(client, fixed):
    client.force_login(fixed["people"]["olga"])
    choose(client, fixed["study"], "acme/widgets#4", "impact")
    example = ExampleDisagreement.objects.get()

    response = client.post(url(fixed["study"], "agreement:methods_example_remove"), {"example": example.pk})
    assert response.status_code == 302
    assert not ExampleDisagreement.objects.exists()


def test_it_draws_examples_only_from_decided_issues(fixed):
    """Issue 7 is in reconciliation with a disagreement planted on it: a random draw never shows it."""
    Annotation.objects.filter(
        assignment__issue=fixed["study_issues"][7].issue, assignment__annotator__username="ben", field__key="cause"
    ).update(value="config", note="planted 7")
    text = command("--study", "fixed-methods")

    assert "drawn at random (seed 0) from the 3 decided disagreements" in text
    assert "acme/widgets#7" not in text and "planted 7" not in text
