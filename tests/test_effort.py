"""Time on task: what a report of the annotation page is credited, who may report, and the figures owners see."""

import re
from datetime import datetime, timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studies import effort
from studies.assignment import assignment_move
from studies.effort import (
    LATE_REPORT,
    SLACK_SECONDS,
    active_time_report,
    credited_seconds,
    duration,
    effort_summary,
    reconciliation_time_report,
    report_token,
)
from studies.models import ActiveTime, Assignment, IssueStage, ReconciliationTime, Stage, StudyIssue
from studies.transfer import export_study, import_study
from tests.factories import AssignmentFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.helpers import as_read

pytestmark = pytest.mark.django_db

# The pages read the clock: the figures are built around it.
NOW = timezone.now().replace(microsecond=0)


# --- What a report is credited ---


def test_it_credits_a_report_within_the_wall_time_since_the_last():
    assert credited_seconds(50, since=NOW - timedelta(seconds=60), now=NOW) == 50


def test_it_cuts_a_report_to_the_wall_time_since_the_last_plus_the_slack():
    assert credited_seconds(3600, since=NOW - timedelta(seconds=30), now=NOW) == 30 + SLACK_SECONDS


def test_it_credits_nothing_after_the_submission():
    submitted = NOW - timedelta(seconds=10)
    since = NOW - timedelta(seconds=40)

    assert credited_seconds(40, since=since, now=NOW, ended_at=submitted) == 30 + SLACK_SECONDS
    late = submitted + LATE_REPORT + timedelta(seconds=1)
    assert credited_seconds(5, since=since, now=late, ended_at=submitted) == 0


@pytest.fixture
def assignment(study):
    study_issue = StudyIssueFactory(study=study)
    annotator = MembershipFactory(study=study, role="annotator").user
    return AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)


def at(monkeypatch, when: datetime) -> None:
    monkeypatch.setattr(effort.timezone, "now", lambda: when)


def test_reports_never_add_up_to_more_than_the_time_that_passed_however_often_they_come(assignment, monkeypatch):
    opened = NOW - timedelta(seconds=10)
    credited = 0
    for second in range(20):  # a report a second, each claiming 6 s
        at(monkeypatch, NOW + timedelta(seconds=second))
        credited += active_time_report(assignment=assignment, seconds=6, opened=opened)

    wall = 10 + 19
    assert credited == pytest.approx(wall + SLACK_SECONDS)
    assert ActiveTime.objects.get(assignment=assignment).seconds == pytest.approx(wall + SLACK_SECONDS)


def test_reports_of_two_tabs_share_the_bound_and_a_pause_can_be_claimed_later(assignment, monkeypatch):
    opened = NOW - timedelta(minutes=5)
    at(monkeypatch, NOW)
    assert active_time_report(assignment=assignment, seconds=200, opened=opened) == 200
    at(monkeypatch, NOW + timedelta(seconds=20))

    # The other tab, opened at the same time, claims its own 200 s: only the 120 s left of the 320 s count.
    assert active_time_report(assignment=assignment, seconds=200, opened=opened) == 120 + SLACK_SECONDS
    assert ActiveTime.objects.get(assignment=assignment).seconds == 320 + SLACK_SECONDS


def test_a_moved_assignment_leaves_its_time_behind(assignment):
    active_time_report(assignment=assignment, seconds=1, opened=timezone.now() - timedelta(seconds=10))
    other = MembershipFactory(study=assignment.study, role="annotator").user

    assignment_move(assignment, username=other.username)

    assert not ActiveTime.objects.filter(assignment=assignment).exists()


def test_a_study_moved_to_another_instance_keeps_its_times(assignment, tmp_path):
    active_time_report(assignment=assignment, seconds=42, opened=timezone.now() - timedelta(minutes=1))
    reconciled = StudyIssueFactory(study=assignment.study, stage=IssueStage.DECIDED)
    ReconciliationTime.objects.create(
        study_issue=reconciled, user=assignment.annotator, stage="reconciliation", seconds=7, credited_until=NOW
    )
    file = tmp_path / "study.json.gz"
    with file.open("wb") as out:
        export_study(assignment.study, out)

    moved = import_study(file, slug="moved").study

    time = ActiveTime.objects.get(assignment__study=moved)
    assert (time.seconds, time.assignment.annotator, time.assignment.issue) == (
        42,
        assignment.annotator,
        assignment.issue,
    )


# --- The report endpoint ---


def url(assignment: Assignment, name="studies:active_time") -> str:
    repository = assignment.issue.repository
    return reverse(name, args=[assignment.study.slug, repository.owner, repository.name, assignment.issue.number])


def page_token(client, assignment) -> str:
    """The token the annotation page gives the annotator."""
    return re.search(r'name="token" value="([^"]+)"', client.get(url(assignment, "studies:annotate")).text)[1]


def test_it_records_the_annotators_report(client, assignment):
    client.force_login(assignment.annotator)
    token = page_token(client, assignment)

    response = client.post(url(assignment), {"seconds": "0.5", "token": token})

    assert response.status_code == 204
    assert ActiveTime.objects.get(assignment=assignment).seconds == 0.5


@pytest.mark.parametrize("seconds", ["-1", "NaN", "inf", "1e9", "ten", ""])
def test_it_refuses_a_report_that_is_no_time(client, assignment, seconds):
    client.force_login(assignment.annotator)
    token = page_token(client, assignment)

    response = client.post(url(assignment), {"seconds": seconds, "token": token})

    assert response.status_code == 400
    assert "seconds" in response.text
    assert not ActiveTime.objects.exists()


def test_it_refuses_a_token_the_server_did_not_sign(client, assignment):
    client.force_login(assignment.annotator)
    forged = signing.dumps({"assignment": assignment.pk, "opened": 0}, salt="another salt")

    response = client.post(url(assignment), {"seconds": "1", "token": forged})

    assert response.status_code == 400
    assert "not the token of an annotation or reconciliation page" in response.text
    assert not ActiveTime.objects.exists()


def test_another_annotator_of_the_issue_cannot_report_for_the_first(client, assignment):
    token = Client()
    token.force_login(assignment.annotator)
    stolen = page_token(token, assignment)
    other = AssignmentFactory(
        study=assignment.study,
        issue=assignment.issue,
        annotator=MembershipFactory(study=assignment.study, role="annotator").user,
    )
    client.force_login(other.annotator)

    assert client.post(url(assignment), {"seconds": "1", "token": stolen}).status_code == 404
    assert not ActiveTime.objects.exists()


@pytest.mark.parametrize("role", ["owner", "annotator", None])
def test_a_member_without_the_assignment_or_a_stranger_gets_404(client, assignment, role):
    user = MembershipFactory(study=assignment.study, role=role).user if role else UserFactory()
    client.force_login(user)

    assert client.post(url(assignment), {"seconds": "1", "token": "x"}).status_code == 404


def test_it_needs_the_csrf_token(assignment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(assignment.annotator)
    token = page_token(client, assignment)

    assert client.post(url(assignment), {"seconds": "1", "token": token}).status_code == 403
    csrf = client.cookies["csrftoken"].value
    # As the page's beacon sends it: the CSRF token in the form body.
    response = client.post(url(assignment), {"seconds": "1", "token": token, "csrfmiddlewaretoken": csrf})
    assert response.status_code == 204


def test_it_rejects_get_and_anonymous_users(client, assignment):
    assert client.post(url(assignment), {"seconds": "1"}).status_code == 302
    client.force_login(assignment.annotator)
    assert client.get(url(assignment)).status_code == 405


def test_a_submitted_issue_gives_no_token(client, assignment):
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.SUBMITTED, submitted_at=timezone.now())
    client.force_login(assignment.annotator)

    assert "data-active-time" not in client.get(url(assignment, "studies:annotate")).text


# --- The figures ---


def submitted(
    study, annotator, *, seconds: float | None, when: datetime, stage=Stage.LABELLING, purpose=Assignment.Purpose.REAL
) -> Assignment:
    study_issue = StudyIssueFactory(study=study)
    assignment = AssignmentFactory(
        study=study,
        issue=study_issue.issue,
        annotator=annotator,
        stage=stage,
        purpose=purpose,
        status=Assignment.Status.SUBMITTED,
        submitted_at=when,
    )
    if seconds is not None:
        ActiveTime.objects.create(assignment=assignment, seconds=seconds, credited_until=when)
    return assignment


def to_do(study, annotator, count: int) -> None:
    for _ in range(count):
        AssignmentFactory(study=study, issue=StudyIssueFactory(study=study).issue, annotator=annotator)


@pytest.fixture
def team_at_work(study):
    """ana: 6 issues in 3 days (one imported, without a time), 4 to go; ben: 2 in the last 3 days, 3 to go."""
    ana, ben = (MembershipFactory(study=study, role="annotator", user__username=name).user for name in ("ana", "ben"))
    for days, seconds in zip([3, 2.5, 2, 1.5, 1, 0.5], [60, 120, 180, 600, None, 240], strict=True):
        submitted(study, ana, seconds=seconds, when=NOW - timedelta(days=days))
    to_do(study, ana, 4)
    submitted(study, ben, seconds=300, when=NOW - timedelta(days=3))
    submitted(study, ben, seconds=100, when=NOW - timedelta(days=1))
    to_do(study, ben, 3)
    return study


def test_the_figures_per_annotator_and_stage(team_at_work):
    summary = effort_summary(team_at_work, now=NOW)

    ana = next(pace for pace in summary.rows if pace.member == "ana")
    assert (ana.stage, ana.submitted, ana.measured, ana.remaining) == ("labelling", 6, 5, 4)
    assert ana.median_seconds == 180
    assert ana.issues_per_hour == pytest.approx(5 / (1200 / 3600))  # 15 an hour
    assert ana.seconds_left == 4 * 180
    everyone = summary.stages[0]
    assert (everyone.member, everyone.submitted, everyone.measured) == ("", 8, 7)
    assert everyone.median_seconds == 180


def test_the_projection_waits_for_enough_data_and_says_whose(team_at_work):
    summary = effort_summary(team_at_work, now=NOW)

    ana = next(projection for projection in summary.projections if projection.annotator == "ana")
    assert ana.per_day == pytest.approx(2)  # 6 issues in 3 days
    assert ana.done_at == NOW + timedelta(days=2)
    assert summary.done_at is None
    assert summary.no_projection == (
        "Too little data to project: ben submitted fewer than 5 issues in the last 14 days."
    )


def test_the_projection_is_when_the_slowest_annotator_is_done(team_at_work):
    ben = team_at_work.assignments.filter(annotator__username="ben").first().annotator
    for hours in range(1, 4):
        submitted(team_at_work, ben, seconds=100, when=NOW - timedelta(hours=hours))

    summary = effort_summary(team_at_work, now=NOW)

    # ben: 5 issues in 3 days, 3 to go: 1.8 days; ana: 2 days.
    assert summary.done_at == NOW + timedelta(days=2)
    assert summary.no_projection == ""


@pytest.fixture
def with_training_and_checks(team_at_work):
    """tess, a trainee: two slow training issues; ana: one gold check submitted (long), one still in her queue."""
    tess = MembershipFactory(study=team_at_work, role="annotator", user__username="tess").user
    ana = team_at_work.assignments.filter(annotator__username="ana").first().annotator
    for hours in (5, 4):
        submitted(team_at_work, tess, seconds=1500, when=NOW - timedelta(hours=hours), purpose="training")
    submitted(team_at_work, ana, seconds=3000, when=NOW - timedelta(hours=2), purpose="check")
    AssignmentFactory(
        study=team_at_work, issue=StudyIssueFactory(study=team_at_work).issue, annotator=ana, purpose="check"
    )
    return team_at_work


def test_training_and_gold_checks_are_rows_of_their_own_outside_the_pace(with_training_and_checks):
    summary = effort_summary(with_training_and_checks, now=NOW)

    rows = {(pace.member, pace.stage): pace for pace in summary.rows}
    ana = rows["ana", "labelling"]
    assert (ana.submitted, ana.measured, ana.remaining, ana.median_seconds) == (6, 5, 4, 180)
    assert ana.issues_per_hour == pytest.approx(15)
    checks = rows["ana", "Gold checks"]
    assert (checks.submitted, checks.remaining, checks.active_seconds) == (1, 1, 3000)
    training = rows["tess", "Training"]
    assert (training.submitted, training.median_seconds) == (2, 1500)
    assert ("tess", "labelling") not in rows
    totals = {pace.stage: pace for pace in summary.stages}
    assert list(totals) == ["labelling", "Training", "Gold checks"]
    assert (totals["labelling"].submitted, totals["labelling"].median_seconds) == (8, 180)
    assert (totals["Training"].submitted, totals["Gold checks"].submitted) == (2, 1)


def test_training_and_gold_checks_do_not_move_the_projection(with_training_and_checks):
    summary = effort_summary(with_training_and_checks, now=NOW)

    projections = {projection.annotator: projection for projection in summary.projections}
    assert sorted(projections) == ["ana", "ben"]  # tess has no issue of the study's own to label
    assert (projections["ana"].remaining, projections["ana"].recent) == (4, 6)
    assert projections["ana"].done_at == NOW + timedelta(days=2)
    assert summary.remaining == 7


def test_the_page_shows_training_and_checks_apart(client, with_training_and_checks):
    client.force_login(MembershipFactory(study=with_training_and_checks, role="owner").user)

    response = client.get(reverse("studies:effort", args=[with_training_and_checks.slug]))

    text = " ".join(as_read(re.sub(r"<[^>]+>", " ", response.text)).split())
    assert "tess Training 2 2 50 min 25 min 2.4 0" in text
    assert "ana Gold checks 1 1 50 min 50 min 1.2 1" in text
    assert "ana labelling 6 5 20 min 3 min 15.0 4" in text
    assert "the labelling figures and the projection leave them out" in text


def test_the_owner_sees_the_figures_and_the_annotator_does_not(client, team_at_work):
    owner = MembershipFactory(study=team_at_work, role="owner").user
    client.force_login(owner)

    detail = client.get(reverse("studies:detail", args=[team_at_work.slug]))
    response = client.get(reverse("studies:effort", args=[team_at_work.slug]))

    assert reverse("studies:effort", args=[team_at_work.slug]) in detail.text
    assert response.status_code == 200
    assert "Too little data to project: ben" in response.text
    assert '<td class="number">3 min</td>' in response.text  # ana's median
    annotator = team_at_work.assignments.first().annotator
    client.force_login(annotator)
    assert client.get(reverse("studies:effort", args=[team_at_work.slug])).status_code == 404
    assert client.get(reverse("studies:effort_export", args=[team_at_work.slug])).status_code == 404
    assert reverse("studies:effort", args=[team_at_work.slug]) not in client.get(detail.request["PATH_INFO"]).text


def test_an_adjudicator_downloads_the_figures(client, team_at_work, django_assert_max_num_queries):
    client.force_login(MembershipFactory(study=team_at_work, role="adjudicator").user)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("studies:effort_export", args=[team_at_work.slug]))
        lines = b"".join(response.streaming_content).decode().splitlines()

    assert lines[0] == (
        "member,stage,assignments,submitted,remaining,measured,active_seconds,median_seconds,issues_per_hour,"
        "active_seconds_left"
    )
    assert "ana,labelling,10,6,4,5,1200,180,15.00,720" in lines
    assert "all,labelling,15,8,7,7,1600,180,15.75,1260" in lines


def test_every_assignments_time_in_the_download(client, team_at_work):
    client.force_login(MembershipFactory(study=team_at_work, role="owner").user)

    response = client.get(reverse("studies:effort_export", args=[team_at_work.slug]) + "?layout=assignments")
    lines = b"".join(response.streaming_content).decode().splitlines()

    assert lines[0] == "issue,annotator,stage,status,assigned_at,started_at,submitted_at,active_seconds"
    ana = [line.split(",") for line in lines[1:] if ",ana," in line]
    assert sorted(row[7] for row in ana) == ["", "", "", "", "", "120", "180", "240", "60", "600"]


# --- Reconciliation: no assignments, timed per issue and member ---


@pytest.fixture
def in_reconciliation(study):
    study_issue = StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)
    adjudicator = MembershipFactory(study=study, role="adjudicator", user__username="dora").user
    return study_issue, adjudicator


def reconcile_url(study_issue, name="studies:reconciliation_time") -> str:
    issue = study_issue.issue
    return reverse(name, args=[study_issue.study.slug, issue.repository.owner, issue.repository.name, issue.number])


def test_the_adjudicator_reports_time_on_the_reconciliation_page(client, in_reconciliation):
    study_issue, adjudicator = in_reconciliation
    client.force_login(adjudicator)
    html = client.get(reconcile_url(study_issue, "studies:reconcile")).text
    token = re.search(r'name="token" value="([^"]+)"', html)[1]

    assert client.post(reconcile_url(study_issue), {"seconds": "2", "token": token}).status_code == 204
    time = ReconciliationTime.objects.get()
    assert (time.study_issue, time.user, time.stage, time.seconds) == (study_issue, adjudicator, "reconciliation", 2)


def test_an_annotation_pages_token_or_another_issues_is_refused_there(client, in_reconciliation, assignment):
    study_issue, adjudicator = in_reconciliation
    other_issue = StudyIssueFactory(study=study_issue.study, stage=IssueStage.RECONCILIATION)
    client.force_login(adjudicator)

    for token in (
        report_token(assignment=assignment.pk),
        report_token(study_issue=other_issue.pk, stage="reconciliation"),
    ):
        assert client.post(reconcile_url(study_issue), {"seconds": "1", "token": token}).status_code == 404
    assert not ReconciliationTime.objects.exists()


def test_an_annotator_who_may_not_reconcile_gets_no_token_and_404(client, in_reconciliation):
    study_issue, _ = in_reconciliation
    annotator = MembershipFactory(study=study_issue.study, role="annotator").user
    AssignmentFactory(study=study_issue.study, issue=study_issue.issue, annotator=annotator)
    client.force_login(annotator)

    assert "data-active-time" not in client.get(reconcile_url(study_issue, "studies:reconcile")).text
    token = report_token(study_issue=study_issue.pk, stage="reconciliation")
    assert client.post(reconcile_url(study_issue), {"seconds": "1", "token": token}).status_code == 404


def test_time_after_the_decision_counts_up_to_it_and_not_at_all_once_moved_on_without_one(
    in_reconciliation, monkeypatch
):
    study_issue, adjudicator = in_reconciliation
    opened = NOW - timedelta(minutes=5)
    StudyIssue.objects.filter(pk=study_issue.pk).update(
        stage=IssueStage.DECIDED, decided_at=NOW - timedelta(seconds=20)
    )
    at(monkeypatch, NOW)

    credited = reconciliation_time_report(
        study_issue=study_issue, user=adjudicator, stage="reconciliation", seconds=600, opened=opened
    )

    assert credited == 280 + SLACK_SECONDS  # from the opening to the decision
    StudyIssue.objects.filter(pk=study_issue.pk).update(stage=IssueStage.LABELLING, decided_at=None)  # re-opened
    assert not reconciliation_time_report(
        study_issue=study_issue, user=adjudicator, stage="reconciliation", seconds=1, opened=opened
    )


def test_the_figures_of_reconciliation(in_reconciliation):
    study_issue, adjudicator = in_reconciliation
    study = study_issue.study
    for seconds in (100, 300):
        decided = StudyIssueFactory(study=study, stage=IssueStage.DECIDED)
        ReconciliationTime.objects.create(
            study_issue=decided, user=adjudicator, stage="reconciliation", seconds=seconds, credited_until=NOW
        )
    ReconciliationTime.objects.create(
        study_issue=study_issue, user=adjudicator, stage="reconciliation", seconds=50, credited_until=NOW
    )

    summary = effort_summary(study, now=NOW)

    dora = next(pace for pace in summary.rows if pace.member == "dora")
    assert (dora.stage, dora.submitted, dora.remaining, dora.median_seconds) == ("reconciliation", 2, 1, 200)
    assert dora.issues_per_hour == pytest.approx(18)  # 2 issues in 400 s
    everyone = next(pace for pace in summary.stages if pace.stage == "reconciliation")
    assert (everyone.submitted, everyone.remaining, everyone.seconds_left) == (2, 1, 200)  # the one waiting
    assert summary.done_at is None and summary.no_projection == ""  # no assignments: nothing to project


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(None, "—"), (0.4, "0 s"), (42, "42 s"), (252, "4 min 12 s"), (240, "4 min"), (3 * 3600 + 300, "3 h 05 min")],
)
def test_a_time_reads_as_people_say_it(seconds, said):
    assert duration(seconds) == said


def test_the_page_reads_the_figures_in_a_few_queries(client, team_at_work, django_assert_max_num_queries):
    client.force_login(MembershipFactory(study=team_at_work, role="owner").user)

    with django_assert_max_num_queries(9):  # however many assignments: one query for them all
        response = client.get(reverse("studies:effort", args=[team_at_work.slug]))

    assert response.status_code == 200
