"""The agreement page: the report in tables, restricted from the URL, downloads, and who may see it."""

import csv
import html
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreement import intervals
from agreement.models import Intervals
from annotator.management.commands.db_worker import fail_abandoned_tasks
from studies.models import Annotation, Assignment, FinalValue
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def url(study, **query) -> str:
    base = reverse("agreement:report", args=[study.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def rows(page: str, field: str) -> dict[str, list[str]]:
    """The rows of a field's tables on the page, by heading (without its explanation): the text of each cell."""
    section = page.split(f'id="agreement-{field}"', 1)[1].split("</section>", 1)[0]
    return {
        text_of(heading).split(" — ")[0]: [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        for heading, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', section, re.S)
    }


def test_owners_see_every_coefficient_with_its_band_and_the_reason_when_undefined(client, study_with_ratings):
    client.force_login(MembershipFactory(study=study_with_ratings, role="owner").user)

    page = client.get(url(study_with_ratings)).text

    assert "Krippendorff&#x27;s α" in page and "Gwet&#x27;s AC1" in page and "Krippendorff&#x27;s α (interval)" in page
    assert "undefined: units have different numbers of ratings" in page  # Fleiss on the impact
    assert "undefined: only one value was used" in page  # everyone chose the same scenario
    assert "ann &amp; bob" in page and "5 items, 3 annotators, 14 ratings" in page
    table = rows(page, "impact")
    coefficient = {heading: (cells[0], cells[-1]) for heading, cells in table.items()}  # value, band
    pair = {heading: (cells[1], cells[-1]) for heading, cells in table.items()}  # n first, then κ; band
    # From IMPACT, by hand. Ordinal α: the coincidence matrix has o12 = o21 = o23 = o32 = 1 and the levels 1-4
    # n = (3, 3, 5, 3), so α = 1 - 13 * (2*9 + 2*16) / 5922 = 0.890. Interval α: 1 - 13 * 4 / 432 = 0.880.
    # AC1: pa = 11/15, pe = (166/225) / 3, so 0.646. Cohen's κ: ann & bob agree on 3 of 5 issues with
    # pe = 5/25, so 0.5; ann & cyd and bob & cyd on 3 of 4 with pe = 5/16, so 0.636.
    assert coefficient["Krippendorff's α"] == ("0.890", "almost perfect")
    assert coefficient["Krippendorff's α (interval)"] == ("0.880", "almost perfect")
    assert coefficient["Gwet's AC1"] == ("0.646", "substantial")
    assert coefficient["Percent agreement"] == ("0.600", "")  # 3 of 5 issues; not chance-corrected: no band
    assert [pair[annotators] for annotators in ("ann & bob", "ann & cyd", "bob & cyd")] == [
        ("0.500", "moderate"),
        ("0.636", "substantial"),
        ("0.636", "substantial"),
    ]


def test_the_json_download_is_the_commands_contract(client, study_with_ratings):
    client.force_login(MembershipFactory(study=study_with_ratings, role="adjudicator").user)
    out = io.StringIO()
    call_command("agreement", "--study", study_with_ratings.slug, "--json", stdout=out)

    downloaded = client.get(url(study_with_ratings, format="json"))
    table = list(csv.DictReader(io.StringIO(client.get(url(study_with_ratings, format="csv")).text)))

    assert json.loads(downloaded.content) == json.loads(out.getvalue())
    alpha = next(r for r in table if r["field"] == "impact" and r["coefficient"] == "krippendorff_alpha")
    assert float(alpha["value"]) == pytest.approx(
        json.loads(out.getvalue())["fields"]["impact"]["krippendorff_alpha"], abs=1e-6
    )


def test_the_report_is_restricted_to_chosen_annotators(client, study_with_ratings):
    client.force_login(MembershipFactory(study=study_with_ratings, role="owner").user)

    pair = json.loads(client.get(url(study_with_ratings, annotator="ann", format="json") + "&annotator=bob").content)

    impact = pair["fields"]["impact"]
    assert impact["annotators"] == 2 and list(impact["cohen_kappa"]) == ["ann|bob"]


def test_annotators_see_it_only_if_the_study_allows(client, study_with_ratings):
    annotator = study_with_ratings.memberships.filter(role="annotator").first().user
    client.force_login(annotator)

    refused = client.get(url(study_with_ratings)).status_code
    study_with_ratings.annotators_see_agreement = True
    study_with_ratings.save()

    assert (refused, client.get(url(study_with_ratings)).status_code) == (404, 200)


def test_where_agreement_comes_from_value_by_value_pair_by_pair_and_against_the_final_values(
    client, study_with_ratings
):
    study = study_with_ratings
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    impact = study.fields.get(key="impact")
    for study_issue in study.study_issues.all():
        FinalValue.objects.create(study_issue=study_issue, field=impact, value=3, set_by=adjudicator)
    client.force_login(adjudicator)

    page = client.get(url(study, stage="labelling")).text

    assert "Agreement value by value" in page and "Each annotator against the final values" in page
    # bob gave 3 on 2 of his 5 issues (the final value is 3 everywhere): 0.400
    assert '<th scope="row">bob</th><td class="number">5</td><td class="number">0.400</td>' in page
    assert page.count('<figure class="heat-map">') == 6  # impact and scenario, three pairs each
    assert 'aria-label="Confusion matrix of ann and bob"' in page and "<title>2 / 3: 1</title>" in page


def test_the_latex_table_for_the_paper(client, study_with_ratings):
    study = study_with_ratings
    study.fields.filter(key="impact").update(label="Impact & threat_level")
    client.force_login(MembershipFactory(study=study, role="owner").user)

    response = client.get(url(study, format="latex"))
    tex = response.content.decode()

    assert response["Content-Disposition"].endswith('-agreement.tex"')
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    row = next(line for line in tex.splitlines() if line.startswith("Impact"))
    assert row.startswith("Impact \\& threat\\_level & ordinal & 5 & 3 & ")
    assert row.split(" & ")[6] == "--"  # Fleiss: different numbers of ratings, explained below the table
    assert "Fleiss' $\\kappa$: units have different numbers of ratings" in tex
    assert "Component" not in tex  # nobody rated it


def test_intervals_are_computed_once_per_state_of_the_annotations(client, study_with_ratings, monkeypatch):
    study = study_with_ratings
    client.force_login(MembershipFactory(study=study, role="owner").user)
    computed, original = [], intervals.compute
    monkeypatch.setattr(intervals, "compute", lambda *args: computed.append(args) or original(*args))

    first = client.get(url(study)).text
    client.get(url(study))
    assignment = Assignment.objects.filter(study=study).first()
    Annotation.objects.filter(assignment=assignment, field__key="impact").update(value=1, updated_at=timezone.now())
    client.get(url(study))

    assert len(computed) == 2  # the first visit, then after the annotation changed; not the second visit
    alpha = json.loads(client.get(url(study, format="json")).content)["fields"]["impact"]["krippendorff_alpha"]
    stored = Intervals.objects.get(study=study).data["impact"]["krippendorff_alpha"]
    assert stored[0] <= alpha <= stored[1]
    assert "95 % CI" in first and "Computing" not in first


def test_a_large_study_gets_its_intervals_from_the_task_worker(client, study_with_ratings, monkeypatch):
    study = study_with_ratings
    monkeypatch.setattr(intervals, "INLINE", 0)
    client.force_login(MembershipFactory(study=study, role="owner").user)

    waiting = client.get(url(study)).text
    task = DBTaskResult.objects.get()
    intervals.compute_intervals.call(*task.args_kwargs["args"])
    ready = client.get(url(study)).text

    assert "Computing the 95 % bootstrap intervals" in waiting and 'hx-trigger="every 2s"' in waiting
    assert "Computing" not in ready and Intervals.objects.get().data["impact"]["gwet_ac1"][0] is not None
    assert DBTaskResult.objects.count() == 1  # the page did not ask twice


def test_intervals_whose_worker_died_are_asked_for_again_on_the_next_visit(client, study_with_ratings, monkeypatch):
    study = study_with_ratings
    monkeypatch.setattr(intervals, "INLINE", 0)
    client.force_login(MembershipFactory(study=study, role="owner").user)
    client.get(url(study))
    DBTaskResult.objects.get().claim("a-worker-that-was-killed")  # RUNNING, and its worker's lock is free

    fail_abandoned_tasks()  # what every db_worker does when it starts and every minute

    assert DBTaskResult.objects.get().status == "FAILED"
    assert "Computing the 95 % bootstrap intervals" in client.get(url(study)).text
    assert DBTaskResult.objects.filter(status="READY").count() == 1, "asked again, not waiting for ever"


def test_annotators_get_agreement_over_revealed_issues_only(client, study_with_ratings):
    study = study_with_ratings
    study.annotators_see_agreement = True
    study.save()
    client.force_login(study.memberships.filter(role="annotator").first().user)

    blind = json.loads(client.get(url(study, format="json")).content)["fields"]["impact"]
    revealed = list(study.study_issues.order_by("id")[:3].values_list("pk", flat=True))
    study.study_issues.filter(pk__in=revealed).update(stage="reconciliation")
    partly = json.loads(client.get(url(study, format="json")).content)["fields"]["impact"]
    page = client.get(url(study)).text

    assert blind["items"] == 0 and partly["items"] == 3  # the owner's report has all 5 (other tests)
    assert "3 items" in page
