import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from studies.annotation import annotation_save
from studies.codebook import codebook_load, preset
from studies.models import Assignment, Stage
from tests.factories import (
    AdminFactory,
    AssignmentFactory,
    MembershipFactory,
    StudyFactory,
    StudyIssueFactory,
    UserFactory,
)
from tests.helpers import IMPACT, SHARED, team

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# that tests make around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared") and not SHARED.is_dir():
        pytest.skip(f"cross-check against ../shared: there is no {SHARED}")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many cross-checks against ../shared ran, and how many were skipped because it is absent."""
    outcomes: dict[str, str] = {}
    for category in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(category, ()):
            if "shared" in getattr(report, "keywords", {}):
                outcomes.setdefault(report.nodeid, category)
    if not outcomes:
        return
    skipped = sum(outcome == "skipped" for outcome in outcomes.values())
    failed = sum(outcome in ("failed", "error") for outcome in outcomes.values())
    summary = f"{len(outcomes) - skipped} ran ({failed} failed), {skipped} skipped"
    if not SHARED.is_dir():
        summary += f" because ../shared is absent (no {SHARED})"
    terminalreporter.write_sep("=", "cross-checks against ../shared")
    terminalreporter.write_line(summary)


@pytest.fixture(scope="session", autouse=True)
def static_files_from_source():
    """Serve static files from static/ and the apps, unhashed, as the live
    server's static handler expects. The hashed, compressed storage of
    production is exercised by the `serve` test, which runs collectstatic."""
    with override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=True,
        WHITENOISE_AUTOREFRESH=True,
    ):
        yield


@pytest.fixture
def researcher(db):
    return UserFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def study(db):
    return StudyFactory()


@pytest.fixture
def member(study):
    """An annotator of `study`."""
    return MembershipFactory(study=study).user


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system Chromium (Debian's package): Playwright cannot download its own here."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # No background traffic to Google's services: this machine has no internet.
        "args": ["--disable-background-networking", "--disable-component-update", "--no-first-run"],
    }


@pytest.fixture
def labelled(study):
    """An issue in labelling for two annotators, with an adjudicator and an owner (label it: tests/helpers.py)."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    adjudicator, owner, annotators = team(study, annotators=2)
    study_issue = StudyIssueFactory(study=study)
    assignments = [
        AssignmentFactory(study=study, issue=study_issue.issue, annotator=annotator, stage=Stage.LABELLING)
        for annotator in annotators
    ]
    return study_issue, adjudicator, owner, assignments


@pytest.fixture
def study_with_ratings(study):
    """Three annotators' submitted impact levels (tests/helpers.py IMPACT) and one shared scenario."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    people = [
        MembershipFactory(study=study, role="annotator", user__username=name).user for name in ("ann", "bob", "cyd")
    ]
    fields = {field.key: field for field in study.fields.all()}
    for levels in IMPACT:
        issue = StudyIssueFactory(study=study).issue
        for person, level in zip(people, levels, strict=True):
            if level is None:
                continue
            assignment = AssignmentFactory(study=study, issue=issue, annotator=person, stage=Stage.LABELLING)
            annotation_save(assignment=assignment, field=fields["impact"], value=str(level))
            annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
    Assignment.objects.update(status=Assignment.Status.SUBMITTED, submitted_at=timezone.now())
    return study
