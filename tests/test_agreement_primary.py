"""The pre-registered primary statistic (agreement/primary.py) and the diagnostics' warnings on the agreement page."""

import csv
import html
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agreement.models import PrimaryStatistic, PrimaryStatisticEvent
from studies.access import StudyAccess
from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.history import study_activity
from studies.models import Annotation, Assignment, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import as_read

pytestmark = pytest.mark.django_db

DECLARATION = {
    "statistic": "krippendorff_alpha",
    "threshold": "0.800",
    "source": "Krippendorff (2004): α ≥ 0.800",
    "reason": "",
    "version": "0",
}


def primary_url(study, key="impact") -> str:
    return reverse("agreement:primary", args=[study.slug, key])


def report_url(study, **query) -> str:
    base = reverse("agreement:report", args=[study.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def section(page: str, key: str) -> str:
    return page.split(f'id="agreement-{key}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def codebook(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    return study


@pytest.fixture
def owner(codebook):
    return MembershipFactory(study=codebook, role="owner").user


def rate(study, levels: list[tuple[int, int]], names=("ann", "bob")) -> None:
    """Two annotators' submitted impact levels, one pair an issue."""
    people = [MembershipFactory(study=study, role="annotator", user__username=name).user for name in names]
    impact = study.fields.get(key="impact")
    for pair in levels:
        issue = StudyIssueFactory(study=study).issue
        for person, level in zip(people, pair, strict=True):
            assignment = AssignmentFactory(study=study, issue=issue, annotator=person, stage=Stage.LABELLING)
            annotation_save(assignment=assignment, field=impact, value=str(level))
    Assignment.objects.update(status=Assignment.Status.SUBMITTED, submitted_at=timezone.now())


# Ordinal α −0.486 over six issues: far below 0.8.
DISAGREEING = [(1, 4), (2, 3), (3, 1), (4, 2), (2, 2), (3, 3)]


def test_it_declares_before_labelling_and_the_page_shows_it_first(client, codebook, owner):
    client.force_login(owner)

    response = client.post(primary_url(codebook), DECLARATION)

    assert response.status_code == 302 and response["Location"].endswith("#agreement-impact")
    declared = PrimaryStatistic.objects.get(field__key="impact")
    assert (declared.statistic, str(declared.threshold), declared.after_labelling_started) == (
        "krippendorff_alpha",
        "0.800",
        False,
    )
    rate(codebook, DISAGREEING)
    impact = section(client.get(report_url(codebook)).text, "impact")
    assert "Primary statistic: Krippendorff's α ≥ 0.800 (Krippendorff (2004): α ≥ 0.800) — not met" in text(impact)
    assert "before labelling started" in text(impact)
    first_row = re.search(r"<tbody>\s*<tr([^>]*)><th scope=\"row\">(.*?)</th>", impact, re.S)
    assert 'class="primary-line"' in first_row.group(1) and "Krippendorff" in html.unescape(first_row.group(2))
    assert "primary: not met (threshold 0.800)" in text(impact)
    assert text(impact).count("secondary") >= 4  # every other coefficient
    assert "almost perfect" not in text(impact.split("Pairwise agreement")[0])


def test_a_value_below_the_threshold_is_never_shown_as_good(client, codebook, owner):
    """Ordinal α here is 0.68: "substantial" by Landis & Koch, but below the declared 0.8: not met, no band."""
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    rate(codebook, [(1, 1), (2, 2), (3, 3), (4, 4), (1, 2), (2, 3), (3, 4), (4, 3), (2, 1), (3, 2)])

    row = text(section(client.get(report_url(codebook)).text, "impact")).split(
        "Krippendorff's α — at the field's level"
    )[1]

    value = float(row.split()[0])
    assert value < 0.8
    assert row.split("(threshold 0.800)")[0].strip().endswith("primary: not met")
    assert "substantial" not in row.split("(threshold 0.800)")[0]


def test_it_is_met_only_at_or_above_the_threshold(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION | {"statistic": "percent_agreement", "threshold": "0.5"})
    rate(codebook, [(1, 1), (2, 2), (3, 4), (4, 3)])  # percent agreement exactly 0.5

    page = client.get(report_url(codebook, format="json"))

    primary = page.json()["fields"]["impact"]["primary"]
    assert (primary["value"], primary["threshold"], primary["met"]) == (0.5, 0.5, True)


def test_after_labelling_started_a_change_without_a_reason_is_refused_and_nothing_changes(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    rate(codebook, DISAGREEING)

    response = client.post(primary_url(codebook), DECLARATION | {"threshold": "0.667", "version": "1"})

    assert response.status_code == 422
    errors = re.search(r'id="primary-impact-reason_error"[^>]*>(.*?)</', response.text, re.S)
    page = text(response.text)
    assert "Impact already has answers: a statistic changed now is not pre-registered. Say why" in page
    assert errors is not None or "Say why" in page
    assert 'value="0.667"' in response.text  # what was typed stays
    declared = PrimaryStatistic.objects.get(field__key="impact")
    assert (str(declared.threshold), declared.version) == ("0.800", 1)


def test_after_labelling_started_a_change_with_a_reason_is_recorded_and_shown(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    rate(codebook, DISAGREEING)

    client.post(
        primary_url(codebook),
        DECLARATION | {"threshold": "0.667", "version": "1", "reason": "Tentative conclusions are enough here."},
    )

    declared = PrimaryStatistic.objects.get(field__key="impact")
    assert (str(declared.threshold), declared.after_labelling_started) == ("0.667", True)
    events = PrimaryStatisticEvent.objects.filter(field_id=declared.field_id).order_by("pgh_id")
    assert [(e.pgh_label, str(e.threshold), e.after_labelling_started) for e in events] == [
        ("insert", "0.800", False),
        ("update", "0.667", True),
    ]
    page = text(section(client.get(report_url(codebook)).text, "impact"))
    assert "Declared or changed after labelling started: not pre-registered as it stands." in page
    assert re.search(r"0\.667 \(.*?\) — after labelling started ?: “Tentative conclusions are enough here\.”", page)
    assert "Krippendorff's α ≥ 0.800" in page  # the first declaration stays listed
    report = client.get(report_url(codebook, format="json")).json()["fields"]["impact"]["primary"]
    assert report["after_labelling_started"] and [d["threshold"] for d in report["declarations"]] == [0.8, 0.667]
    changes = [c for c in study_activity(StudyAccess(codebook, owner)) if c.what == "primary statistic"]
    assert [c.action for c in changes] == ["changed", "created"] and changes[0].object == "Impact"
    everything = study_activity(StudyAccess(codebook, owner), limit=None)  # what the history CSV holds
    assert [c.action for c in everything if c.what == "primary statistic"] == ["changed", "created"]
    assert ("threshold", "0.8", "0.667") in [(f, str(b), str(a)) for f, b, a in changes[0].changes]


def test_posting_the_same_declaration_again_changes_nothing(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    rate(codebook, DISAGREEING)

    response = client.post(primary_url(codebook), DECLARATION | {"version": "1"})

    assert response.status_code == 302
    assert PrimaryStatisticEvent.objects.count() == 1


def test_a_declaration_from_an_older_page_answers_409(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    other = MembershipFactory(study=codebook, role="owner").user
    client.force_login(other)
    client.post(primary_url(codebook), DECLARATION | {"threshold": "0.9", "version": "1"})
    client.force_login(owner)

    response = client.post(primary_url(codebook), DECLARATION | {"threshold": "0.7", "version": "1"})

    assert response.status_code == 409
    assert "Krippendorff's α ≥ 0.900. Reload to see it." in html.unescape(response.text)
    assert str(PrimaryStatistic.objects.get().threshold) == "0.900"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"threshold": "1.5"}, "threshold", "less than or equal to 1"),
        ({"threshold": "-0.2"}, "threshold", "greater than or equal to 0"),
        ({"statistic": "cohen_kappa_max"}, "statistic", "Select a valid choice"),
        ({"source": ""}, "source", "This field is required"),
    ],
)
def test_bad_input_is_refused_at_its_field(client, codebook, owner, data, field, message):
    client.force_login(owner)

    response = client.post(primary_url(codebook), DECLARATION | data)

    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert f'id="primary-impact-{field}"' in response.text
    assert not PrimaryStatistic.objects.exists()


@pytest.mark.parametrize("role", ["annotator", "adjudicator"])
def test_members_who_do_not_own_the_study_cannot_declare(client, codebook, role):
    codebook.annotators_see_agreement = True
    codebook.save()
    client.force_login(MembershipFactory(study=codebook, role=role).user)

    assert client.post(primary_url(codebook), DECLARATION).status_code == 404
    assert 'action="/studies/' not in client.get(report_url(codebook)).text.split("Download:")[1]
    assert not PrimaryStatistic.objects.exists()


def test_outsiders_get_404_anonymous_the_login_page_and_get_405(client, codebook, owner):
    assert client.post(primary_url(codebook), DECLARATION)["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.post(primary_url(codebook), DECLARATION).status_code == 404
    client.force_login(owner)
    assert client.get(primary_url(codebook)).status_code == 405
    assert client.post(primary_url(codebook, "no_such_field"), DECLARATION).status_code == 404
    assert not PrimaryStatistic.objects.exists()


def test_the_form_needs_the_csrf_token(codebook, owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.post(primary_url(codebook), DECLARATION).status_code == 403


# --- The warnings, on the page and in the downloads ---


@pytest.fixture
def screened(study):
    """The paper's screening votes: three reviewers, 1,168 issues; 57 got three yes votes, 38 two, 41 one, the rest
    none (shared/codebooks/silent-bugs.md)."""
    codebook_load(study, preset("silent-bugs"), screening=True)
    vote = study.fields.get(key="silent_bug")
    people = [MembershipFactory(study=study, role="annotator", user__username=n).user for n in ("ann", "bob", "cyd")]
    issues = [StudyIssueFactory(study=study).issue for _ in range(1168)]
    yes_votes = [3] * 57 + [2] * 38 + [1] * 41 + [0] * 1032
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        Assignment(
            study=study,
            issue=issue,
            annotator=person,
            stage=Stage.SCREENING,
            status=Assignment.Status.SUBMITTED,
            submitted_at=now,
        )
        for issue in issues
        for person in people
    )
    Annotation.objects.bulk_create(
        Annotation(assignment=assignment, field=vote, value={"vote": index % 3 < yes_votes[index // 3], "comment": ""})
        for index, assignment in enumerate(assignments)
    )
    return study


def test_the_papers_screening_shows_the_kappa_paradox_on_the_page_and_in_the_downloads(client, screened):
    client.force_login(MembershipFactory(study=screened, role="owner").user)

    page = text(section(client.get(report_url(screened)).text, "silent_bug"))
    downloaded = client.get(report_url(screened, format="json")).json()["fields"]["silent_bug"]
    table = list(csv.DictReader(io.StringIO(client.get(report_url(screened, format="csv")).text)))
    latex = client.get(report_url(screened, format="latex")).text

    assert "High agreement, low κ (the kappa paradox): all annotators agree on 93 % of the items" in page
    assert "Fleiss' κ is 0.70, because “no” makes up 92 % of the ratings" in as_read(page)
    assert [w["kind"] for w in downloaded["warnings"]] == ["kappa_paradox"]
    pair = downloaded["diagnostics"]["ann|bob"]
    assert pair["pabak"] == pytest.approx(2 * pair["observed"] - 1) and pair["n"] == 1168
    assert any(r["field"] == "silent_bug" and r["coefficient"] == "warning kappa_paradox" for r in table)
    assert "kappa paradox" in latex and r"$\kappa$" in latex


def test_few_items_rare_values_and_wide_intervals_are_warned_on_the_page(client, codebook, owner):
    client.force_login(owner)
    rate(codebook, DISAGREEING)

    warnings = re.findall(
        r'<li class="notice" data-kind="(\w+)">', section(client.get(report_url(codebook)).text, "impact")
    )

    assert warnings == ["rare_value", "few_items", "wide_interval", "wide_interval", "wide_interval"]
    assert json.loads(client.get(report_url(codebook, format="json")).content)["fields"]["impact"]["warnings"][1][
        "message"
    ].startswith("Only 6 items rated by two or more annotators")


def test_the_command_marks_the_primary_statistic_and_prints_the_warnings(client, codebook, owner):
    client.force_login(owner)
    client.post(primary_url(codebook), DECLARATION)
    rate(codebook, DISAGREEING)
    out = io.StringIO()

    call_command("agreement", "--study", codebook.slug, "--field", "impact", stdout=out)

    lines = out.getvalue().splitlines()
    alpha = next(line for line in lines if line.startswith("  krippendorff alpha:"))
    assert alpha.endswith("PRIMARY, threshold 0.800 (Krippendorff (2004): α ≥ 0.800): not met")
    assert next(line for line in lines if line.startswith("  gwet ac1:")).endswith("(secondary)")
    assert any(line.startswith("  warning (few items): Only 6 items") for line in lines)


def test_declaring_takes_a_few_queries_and_the_page_no_more_for_more_declarations(
    client, codebook, owner, django_assert_max_num_queries
):
    client.force_login(owner)
    rate(codebook, DISAGREEING)
    client.get(report_url(codebook))  # the bootstrap intervals, computed once
    with django_assert_max_num_queries(11):
        client.post(primary_url(codebook), DECLARATION | {"reason": "Declared late, on purpose."})
    with django_assert_max_num_queries(100) as one_declared:
        client.get(report_url(codebook))
    queries = len(one_declared)  # read now: the next request empties the query log
    for key in ("scenario", "root_cause"):
        client.post(primary_url(codebook, key), DECLARATION | {"reason": "Declared late, on purpose."})

    with django_assert_max_num_queries(queries):
        client.get(report_url(codebook))
