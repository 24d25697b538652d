import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from agreement.models import PrimaryStatistic
from annotator.demo import DEMO_PASSWORD, DEMO_STUDY_SLUG, FIXTURES, LABELLED, PRIMARY, DemoNotAllowed, demo_load
from issues.models import Issue, IssueComment
from studies.models import (
    ActiveTime,
    Annotation,
    Assignment,
    CodebookField,
    DiscussionComment,
    FinalValue,
    Membership,
    Study,
)
from tests.factories import IssueFactory
from tests.helpers import as_read, page

pytestmark = pytest.mark.django_db


def words(html: str) -> str:
    """A page's text as one line: cells and blocks apart, inline marks (<bdi>, <strong>) dropped."""
    spaced = re.sub(r"</?(td|th|tr|p|li|h\d|div|section|table|thead|tbody|dd|dt)\b[^>]*>", " ", html)
    return " ".join(as_read(re.sub(r"<[^>]+>", "", spaced)).split())


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True


def test_it_loads_the_demo_issues_with_their_comments(demo_mode):
    issue_objects = json.loads((FIXTURES / "issues.json").read_text())

    demo_load()

    assert 25 <= Issue.objects.count() == len(issue_objects) <= 40
    for obj in issue_objects:
        issue = Issue.objects.get(number=obj["number"])
        assert issue.repository.full_name == "deepflow/deepflow"
        assert issue.payload == obj
        assert issue.comments.count() == obj["comments"], f"#{obj['number']}"
    assert IssueComment.objects.exclude(body="").count() == IssueComment.objects.count()


def test_it_builds_the_demo_study_with_three_researchers_and_an_admin(demo_mode):
    demo_load()

    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    assert study.issues.count() == Issue.objects.count()
    researchers = get_user_model().objects.filter(memberships__study=study).distinct()
    assert sorted(user.username for user in researchers) == ["alice", "bruno", "chen"]
    assert Membership.objects.filter(study=study, role=Membership.Role.OWNER).get().user.username == "alice"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert not any(user.is_staff for user in researchers)


def test_the_demo_study_is_ready_to_screen_with_the_silent_bugs_codebook(demo_mode):
    demo_load()

    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    assert "silent_bug" in set(study.fields.values_list("key", flat=True)) and study.screening
    screening = Assignment.objects.filter(study=study, stage="screening")
    assert screening.count() == 3 * study.issues.count()  # the three annotators vote on every issue
    still_to_screen = study.study_issues.filter(stage="screening").count()
    assert still_to_screen == study.issues.count() - len(LABELLED) >= 20
    assert not screening.filter(issue__study_issues__stage="screening").exclude(status="assigned").exists()


def test_a_few_issues_are_labelled_by_two_annotators_one_disagreement_in_reconciliation_one_decided(demo_mode):
    demo_load()

    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    stages = dict(study.study_issues.filter(issue__number__in=LABELLED).values_list("issue__number", "stage"))
    assert sorted(stages.values()) == ["decided", "reconciliation", "reconciliation", "reconciliation"]
    labelling = Assignment.objects.real().filter(study=study, stage="labelling")
    assert sorted(labelling.values_list("annotator__username", flat=True)) == ["bruno"] * len(LABELLED) + [
        "chen"
    ] * len(LABELLED)
    assert set(labelling.values_list("status", flat=True)) == {"submitted"}
    decided = study.study_issues.get(stage="decided")
    assert decided.decision == "include" and decided.decided_by.username == "alice"
    finals = dict(FinalValue.objects.filter(study_issue=decided).values_list("field__key", "value"))
    assert finals == {"scenario": "Wrong shape", "component": ["Layers"], "impact": 3}
    split = study.study_issues.get(issue__number=3274)
    values = Annotation.objects.filter(assignment__issue_id=split.issue_id, field__key="impact")
    assert split.stage == "reconciliation" and len(set(values.values_list("value", flat=True))) == 2
    assert split.comments.get().body.startswith("@bruno @chen")


def test_a_newcomer_finds_numbers_on_the_agreement_page_and_work_to_reconcile(demo_mode, client):
    demo_load()
    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    client.force_login(get_user_model().objects.get(username="alice"))

    agreement = client.get(reverse("agreement:report", args=[study.slug]))
    issues = client.get(reverse("studies:issues", args=[study.slug]), {"status": "reconciliation"})
    split = study.study_issues.select_related("issue__repository").get(issue__number=3274)
    reconcile = client.get(page(split))

    assert "4 items, 2 annotators, 8 ratings" in agreement.text
    assert issues.text.count('href="/studies/deepflow-silent-bugs/deepflow/deepflow/issues/') >= 3
    assert reconcile.status_code == 200 and "Wrong calculation" in reconcile.text and "Wrong shape" in reconcile.text


def test_loading_twice_changes_nothing(demo_mode):
    demo_load()
    counts = (
        Issue.objects.count(),
        IssueComment.objects.count(),
        Membership.objects.count(),
        Assignment.objects.count(),
        CodebookField.objects.count(),
        Annotation.objects.count(),
        FinalValue.objects.count(),
        DiscussionComment.objects.count(),
        sorted(Study.objects.get().study_issues.values_list("stage", "version")),
    )

    demo_load()

    assert (
        Issue.objects.count(),
        IssueComment.objects.count(),
        Membership.objects.count(),
        Assignment.objects.count(),
        CodebookField.objects.count(),
        Annotation.objects.count(),
        FinalValue.objects.count(),
        DiscussionComment.objects.count(),
        sorted(Study.objects.get().study_issues.values_list("stage", "version")),
    ) == counts


def test_it_refuses_demo_accounts_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(DemoNotAllowed):
        demo_load()
    with pytest.raises(CommandError, match="ANNOTATOR_DEMO=1"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()


def test_the_command_leaves_a_database_with_data_alone(demo_mode, capsys):
    IssueFactory()

    call_command("load_demo")

    assert "already has data" in capsys.readouterr().out
    assert not Study.objects.exists()


def test_the_demo_has_realistic_bug_reports():
    issues = json.loads((FIXTURES / "issues.json").read_text())
    bodies = [issue["body"] or "" for issue in issues]

    assert sum("```python" in body for body in bodies) >= 20, "reproduction code in fenced blocks"
    assert any("Traceback (most recent call last)" in body for body in bodies)
    assert any("\r\n" in body for body in bodies), "CRLF line ends, as real dumps have"
    assert any(body == "" for body in bodies), "a null body, as real dumps have"
    assert len({issue["user"]["login"] for issue in issues}) >= 10


def test_the_demo_declares_a_primary_statistic_per_field_before_its_labels(demo_mode, client):
    demo_load()
    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    client.force_login(get_user_model().objects.get(username="alice"))

    declared = PrimaryStatistic.objects.filter(study=study)
    assert sorted(declared.values_list("field__key", flat=True)) == sorted(PRIMARY)
    assert not declared.filter(after_labelling_started=True).exists()
    text = words(client.get(reverse("agreement:report", args=[study.slug])).text)
    assert "Primary statistic: Krippendorff's α ≥ 0.800 (Krippendorff, 2004)" in text
    assert "primary: not met (threshold 0.800)" in text and "secondary" in text


def test_the_demo_methods_report_shows_its_statistic_diagnostics_training_and_effort(demo_mode, client):
    demo_load()
    client.force_login(get_user_model().objects.get(username="alice"))

    text = words(client.get(reverse("agreement:methods", args=[DEMO_STUDY_SLUG])).text)
    assert (
        "Scenario: Krippendorff's α = 0.6667 is below the declared threshold 0.667: the threshold is not met" in text
    )
    assert "Prevalence index" in text and "bruno & chen" in text
    assert "2 issues of the study are gold" in text and "bruno passed (2 of 2 training issues submitted)" in text
    assert "Not recorded in this study: no primary statistic" not in text
    assert "No active time was measured." not in text


def test_the_demo_time_on_task_page_shows_pace_and_a_projection(demo_mode, client):
    demo_load()
    client.force_login(get_user_model().objects.get(username="alice"))

    text = words(client.get(reverse("studies:effort", args=[DEMO_STUDY_SLUG])).text)
    assert "everyone screening 12 12 9 min 55 s 50 s 72.6" in text
    assert "bruno 26 8 2.7" in text and "chen 26 8 2.7" in text  # issues a day, over the last three days
    assert "bruno Training 2 2 6 min 47 s" in text  # apart from his pace
    assert ActiveTime.objects.filter(assignment__study__slug=DEMO_STUDY_SLUG).count() == 22


def test_the_labelling_is_a_closed_calibration_round_shown_on_the_rounds_page_and_its_report(demo_mode, client):
    demo_load()
    study = Study.objects.get(slug=DEMO_STUDY_SLUG)
    client.force_login(get_user_model().objects.get(username="alice"))

    round_1 = study.rounds.get()
    rounds = words(client.get(reverse("agreement:rounds", args=[study.slug])).text)
    report = words(client.get(reverse("agreement:round", args=[study.slug, 1])).text)

    assert round_1.number == 1 and not round_1.is_open
    assert sorted(round_1.issues.values_list("issue__number", flat=True)) == sorted(LABELLED)
    assert sorted(round_1.annotators.values_list("username", flat=True)) == ["bruno", "chen"]
    assert "Round 1 v1 → v1 4 Krippendorff's α ≥ 0.8 on the point estimate Scenario 0.667 [-0.400, 1.000] 4" in rounds
    assert "Impact 0.790 [-0.254, 1.000] 4 not met" in rounds
    assert "4 issues (random, seed 0), labelled by bruno, chen." in report
    assert "judged on the point estimate: not met" in report
    assert "deepflow/deepflow#3274" in report and "bruno Wrong shape chen Wrong calculation" in report
