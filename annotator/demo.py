"""The demo: synthetic issues of a fictional framework, a study and its team.

Loaded by `make run` into an empty database when ANNOTATOR_DEMO is on. The
demo accounts share one public password, so they exist only in demo mode.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pgtrigger
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agreement.models import PrimaryStatistic
from agreement.primary import primary_declare
from agreement.rounds import round_close, round_start
from issues.importers.run import ImportOptions, ImportService, file_descriptions
from issues.models import ImportRun, Issue
from studies.annotation import annotation_save, assignment_submit
from studies.assignment import assign_balanced, assignment_add
from studies.codebook import codebook_load, preset
from studies.discussion import comment_post
from studies.gold import gold_item_save
from studies.models import ActiveTime, Assignment, Membership, Stage, Study, StudyIssue
from studies.workflow import decide, final_value_save

FIXTURES = settings.BASE_DIR / "fixtures" / "demo"
DEMO_PASSWORD = "annotate-demo"
DEMO_STUDY_SLUG = "deepflow-silent-bugs"

# username, is admin, roles in the demo study, description for the login page
DEMO_ACCOUNTS = [
    ("admin", True, [], "admin: imports data, creates studies, sees everything"),
    ("alice", False, [Membership.Role.OWNER, Membership.Role.ANNOTATOR], "researcher, owner of the demo study"),
    ("bruno", False, [Membership.Role.ANNOTATOR], "researcher, annotator"),
    ("chen", False, [Membership.Role.ANNOTATOR, Membership.Role.ADJUDICATOR], "researcher, annotator and adjudicator"),
]

# Work already done, so that the Agreement and Reconciliation pages have something to show: issues every screener
# voted in and bruno and chen labelled. Issue number: (bruno's labels, chen's labels, where it ends up).
LABELLED = {
    1043: ({"scenario": "Wrong shape", "component": ["Layers"], "impact": "3"}, None, "decided"),
    3274: (
        {"scenario": "Wrong shape", "component": ["Layers", "Engine"], "impact": "3"},
        {"scenario": "Wrong calculation", "component": ["Layers"], "impact": "2"},
        "reconciliation",
    ),
    2617: ({"scenario": "Wrong calculation", "component": ["Metrics"], "impact": "2"}, None, "reconciliation"),
    1302: ({"scenario": "Wrong save/reload", "component": ["Saving"], "impact": "4"}, None, "reconciliation"),
}
LABELLERS = ("bruno", "chen")
# Their labelling is calibration round 1 (agreement/rounds.py), measured on these fields.
ROUND_FIELDS = ["scenario", "component", "impact"]
# Declared by alice before the first vote, so that the reports show them as pre-registered (agreement/primary.py):
# field key: (statistic, threshold, where the threshold comes from).
PRIMARY = {
    "silent_bug": ("gwet_ac1", "0.800", "Gwet, 2014: AC1, as most screening votes are likely to be no"),
    "scenario": ("krippendorff_alpha", "0.667", "Krippendorff, 2004: tentative conclusions"),
    "component": ("krippendorff_alpha", "0.667", "Krippendorff, 2004: tentative conclusions"),
    "impact": ("krippendorff_alpha", "0.800", "Krippendorff, 2004"),
}
# Gold issues alice wrote reference answers for, and bruno's training answers on them (one impact too high).
# Issue number: (reference answers, rationale of the scenario, bruno's answers).
GOLD = {
    4127: (
        {"scenario": "Wrong displayed message", "component": ["Model"], "impact": "1"},
        "Only the printed count is wrong: the model itself trains and saves correctly.",
        {"scenario": "Wrong displayed message", "component": ["Model"], "impact": "1"},
    ),
    3512: (
        {"scenario": "Wrong calculation", "component": ["Metrics"], "impact": "2"},
        "Each value is right but reported against the wrong threshold: wrong results, no error.",
        {"scenario": "Wrong calculation", "component": ["Metrics"], "impact": "3"},
    ),
}
# Active seconds on the demo's work, as the annotation page would have measured them: a vote, then a label. The
# work is dated as done over the last days (bruno's training first), every ten minutes, so that the pace and the
# projection on the Time on task page are those of a team at work, not of one load a second ago.
VOTE_SECONDS = (38, 52, 45, 61, 40, 57, 49, 66, 35, 58, 44, 50)
LABEL_SECONDS = (212, 265, 187, 301, 244, 226, 198, 279)
TRAINING_SECONDS = (174, 233)
WORK_BEGAN = timedelta(days=3)


class DemoNotAllowed(Exception):
    pass


def demo_logins() -> list[tuple[str, str]]:
    return [(username, description) for username, _, _, description in DEMO_ACCOUNTS]


def database_is_empty() -> bool:
    return not (get_user_model().objects.exists() or Issue.objects.exists())


@transaction.atomic
def demo_load(*, fixtures: Path = FIXTURES) -> Study:
    """Create the demo accounts, issues and study in one transaction."""
    if not settings.DEMO_MODE:
        raise DemoNotAllowed("The demo accounts have a public password; set ANNOTATOR_DEMO=1 to load them.")
    study, _ = Study.objects.update_or_create(
        slug=DEMO_STUDY_SLUG,
        defaults={
            "name": "Silent bugs in DeepFlow (demo)",
            "description": (
                "A replication of the Keras/TensorFlow silent-bug study on a fictional framework: "
                "screen closed bug reports, label the silent ones with scenario, component and "
                "impact, then settle disagreements."
            ),
            "screening_accept_votes": 3,
            "screening_discuss_votes": 2,
            "guidelines": (
                "Vote **include** when the report shows a silent bug: wrong results, no crash, no error "
                "message. Definitions of every field are next to it; press `?` for the keyboard shortcuts."
            ),
        },
    )
    users = {}
    for username, is_admin, roles, _ in DEMO_ACCOUNTS:
        users[username] = _demo_user(username, is_admin)
        for role in roles:
            Membership.objects.get_or_create(study=study, user=users[username], role=role)
    if not study.fields.exists():
        codebook_load(study, preset("silent-bugs"), screening=study.screening, summary="Loaded the silent-bugs preset")
    _import_issues(fixtures, study, users["admin"])
    # Every annotator screens every issue, as the paper's three reviewers did; re-running fills gaps only.
    annotators = study.memberships.filter(role=Membership.Role.ANNOTATOR).count()
    assign_balanced(study, per_issue=annotators, stage=study.first_stage, seed=0)
    if not PrimaryStatistic.objects.filter(study=study).exists():
        _declare_primary(study, users["alice"])
    if not Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).exists():
        clock = _clock(timezone.now() - WORK_BEGAN)
        _demo_training(study, users, clock)
        _demo_work(study, users, clock)
    return study


def _declare_primary(study: Study, owner) -> None:
    for key, (statistic, threshold, source) in PRIMARY.items():
        field = study.fields.get(key=key)
        primary_declare(
            field=field,
            statistic=statistic,
            threshold=Decimal(threshold),
            source=source,
            reason="",
            user=owner,
            version=0,
        )


def _demo_training(study: Study, users: dict, clock) -> None:
    """Two gold issues with alice's reference answers, and bruno's training on them, each timed."""
    fields = {field.key: field for field in study.fields.all()}
    for (number, (reference, rationale, given)), seconds in zip(GOLD.items(), TRAINING_SECONDS, strict=True):
        issue = study.issues.get(number=number)
        answers = {key: (value, rationale if key == "scenario" else "") for key, value in reference.items()}
        gold_item_save(study=study, issue=issue, user=users["alice"], answers=answers)
        assignment = Assignment.objects.create(
            study=study,
            issue=issue,
            annotator=users["bruno"],
            stage=Stage.LABELLING,
            purpose=Assignment.Purpose.TRAINING,
        )
        for key, value in given.items():
            annotation_save(assignment=assignment, field=fields[key], value=value)
        assignment_submit(assignment=assignment)
        _timed(assignment, seconds, next(clock))


def _clock(start):
    """Every ten minutes from `start`: when each piece of the demo's work was submitted."""
    return (start + timedelta(minutes=10 * step) for step in count())


def _timed(assignment: Assignment, seconds: int, submitted_at) -> None:
    """The submission dated back to `submitted_at`, with its active time. A correction of the demo's own making,
    not a change anyone made: the history keeps no event of it."""
    with pgtrigger.ignore("studies.Assignment:update_update"):
        Assignment.objects.filter(pk=assignment.pk).update(submitted_at=submitted_at)
    ActiveTime.objects.create(assignment=assignment, seconds=seconds, credited_until=submitted_at)


def _demo_work(study: Study, users: dict, clock) -> None:
    """Screen, label, reconcile and decide a few issues through the workflow the pages use, so that the demo keeps
    the app's rules (what moves an issue on, what is set when it reaches reconciliation). The labelling is the
    closed calibration round 1, so that the rounds page and the methods report show a real round."""
    fields = {field.key: field for field in study.fields.all()}
    owner = users["alice"]
    votes, labels = iter(VOTE_SECONDS), iter(LABEL_SECONDS)
    by_number = {
        each.issue.number: each
        for each in StudyIssue.objects.select_related("issue").filter(study=study, issue__number__in=LABELLED)
    }
    study_issues = [by_number[number] for number in LABELLED]
    for study_issue in study_issues:
        for username in LABELLERS:  # labelled by two of the three screeners
            assignment_add(study, study_issue.issue, username=username, stage=Stage.LABELLING)
        for assignment in Assignment.objects.filter(study=study, issue=study_issue.issue, stage=Stage.SCREENING):
            annotation_save(assignment=assignment, field=fields["silent_bug"], value={"vote": True, "comment": ""})
            assignment_submit(assignment=assignment)
            _timed(assignment, next(votes), next(clock))
    # The issues screened in are the only ones at the labelling stage: the round samples all of them, and gives
    # them to the two labellers they have already.
    calibration = round_start(
        study=study, user=owner, size=len(LABELLED), seed=0, annotators=list(LABELLERS), fields=ROUND_FIELDS
    )
    for study_issue in study_issues:
        bruno, chen, end = LABELLED[study_issue.issue.number]
        for username, given in zip(LABELLERS, (bruno, chen or bruno), strict=True):
            assignment = Assignment.objects.get(
                study=study, issue=study_issue.issue, annotator=users[username], stage=Stage.LABELLING
            )
            for key, value in given.items():
                annotation_save(assignment=assignment, field=fields[key], value=value)
            assignment_submit(assignment=assignment)
            _timed(assignment, next(labels), next(clock))
        if chen:  # they differ: a question for the discussion under the comparison
            comment_post(
                study_issue,
                author=owner,
                body="@bruno @chen you differ on the scenario and the impact: a wrong result, or a wrong shape?",
            )
        if end == "decided":
            for key, value in bruno.items():
                final_value_save(study_issue, fields[key], value=value, rationale="", user=owner)
            decide(study_issue, include=True, user=owner, note="Both annotators agree; a silent shape bug.")
    round_close(calibration)


def _import_issues(fixtures: Path, study: Study, admin) -> None:
    """The demo issues go in the way every dump does, as the admin's first import."""
    paths = [fixtures / "issues.json", fixtures / "comments.json"]
    run = ImportRun.objects.create(source=ImportRun.Source.COMMAND, created_by=admin, files=file_descriptions(paths))
    run = ImportService(run, ImportOptions(study=study.slug)).import_files(paths)
    if run.status != ImportRun.Status.DONE or run.counts.get("failed"):
        problems = "; ".join(str(problem) for problem in run.problems.all()[:5])
        raise RuntimeError(f"The demo fixtures did not import: {run.error or problems}")


def _demo_user(username: str, is_admin: bool):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": is_admin, "is_superuser": is_admin}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
