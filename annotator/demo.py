"""The demo: synthetic issues of a fictional framework, a study and its team.

Loaded by `make run` into an empty database when ANNOTATOR_DEMO is on. The
demo accounts share one public password, so they exist only in demo mode.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from issues.importers.run import ImportOptions, ImportService, file_descriptions
from issues.models import ImportRun, Issue
from studies.annotation import annotation_save, assignment_submit
from studies.assignment import assign_balanced, assignment_add
from studies.codebook import codebook_load, preset
from studies.discussion import comment_post
from studies.models import Assignment, Membership, Stage, Study, StudyIssue
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
    if not Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).exists():
        _demo_work(study, users)
    return study


def _demo_work(study: Study, users: dict) -> None:
    """Screen, label, reconcile and decide a few issues through the workflow the pages use, so that the demo keeps
    the app's rules (what moves an issue on, what is set when it reaches reconciliation)."""
    fields = {field.key: field for field in study.fields.all()}
    owner = users["alice"]
    for number, (bruno, chen, end) in LABELLED.items():
        study_issue = StudyIssue.objects.select_related("issue").get(study=study, issue__number=number)
        for username in LABELLERS:  # labelled by two of the three screeners
            assignment_add(study, study_issue.issue, username=username, stage=Stage.LABELLING)
        for assignment in Assignment.objects.filter(study=study, issue=study_issue.issue, stage=Stage.SCREENING):
            annotation_save(assignment=assignment, field=fields["silent_bug"], value={"vote": True, "comment": ""})
            assignment_submit(assignment=assignment)
        for username, labels in zip(LABELLERS, (bruno, chen or bruno), strict=True):
            assignment = Assignment.objects.get(
                study=study, issue=study_issue.issue, annotator=users[username], stage=Stage.LABELLING
            )
            for key, value in labels.items():
                annotation_save(assignment=assignment, field=fields[key], value=value)
            assignment_submit(assignment=assignment)
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
