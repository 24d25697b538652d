"""The access policy costs no query per row: every list and download takes as many queries for a study of 4
issues as for one of 12, for a viewer who labels some of them (so that some are hidden from them)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, DiscussionComment, FinalValue, IssueStage, Stage, StudyIssue
from tests.factories import IssueFactory, MembershipFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db

STAGES = [IssueStage.LABELLING, IssueStage.RECONCILIATION, IssueStage.DECIDED, IssueStage.LABELLING]


def study_of(issues: int):
    """Every issue labelled by two annotators and by the owner on every other one; final values and a comment
    from reconciliation on."""
    study = StudyFactory(screening=False, annotators_see_agreement=True)
    codebook_load(study, preset("silent-bugs"), screening=False)
    fields = {field.key: field for field in study.fields.all()}
    owner, first, second = UserFactory(), UserFactory(), UserFactory()
    for user, roles in ((owner, ("owner", "annotator")), (first, ("annotator",)), (second, ("annotator",))):
        for role in roles:
            MembershipFactory(study=study, user=user, role=role)
    now = timezone.now()
    for number in range(issues):
        stage = STAGES[number % len(STAGES)]
        study_issue = StudyIssue.objects.create(study=study, issue=IssueFactory(), stage=stage)
        for user in (first, second, owner) if number % 2 else (first, second):
            done = stage != IssueStage.LABELLING or user != owner
            assignment = Assignment.objects.create(
                study=study,
                issue=study_issue.issue,
                annotator=user,
                stage=Stage.LABELLING,
                status="submitted" if done else "in_progress",
                submitted_at=now if done else None,
            )
            Annotation.objects.create(assignment=assignment, field=fields["impact"], value=number % 4 + 1, note="n")
            Annotation.objects.create(assignment=assignment, field=fields["scenario"], value={"other": f"o{number}"})
        if stage != IssueStage.LABELLING:
            FinalValue.objects.create(study_issue=study_issue, field=fields["impact"], value=2, set_by=owner)
            DiscussionComment.objects.create(study_issue=study_issue, author=owner, body=f"@{first.username} look")
    return study, owner, first


def urls(study) -> list[str]:
    slug = [study.slug]
    return [
        reverse("studies:detail", args=slug),
        reverse("studies:issues", args=slug),
        reverse("studies:issues", args=slug) + "?status=reconciliation&q=layer",
        reverse("studies:codebook", args=slug),
        reverse("studies:activity", args=slug),
        reverse("studies:history_export", args=slug),
        reverse("studies:export", args=slug),
        reverse("studies:export", args=slug) + "?with_annotators=1",
        reverse("studies:export", args=slug) + "?layout=long",
        reverse("studies:export", args=slug) + "?format=json",
        reverse("agreement:report", args=slug),
        reverse("agreement:report", args=slug) + "?format=json",
        reverse("agreement:report", args=slug) + "?format=csv",
        reverse("studies:notifications"),
    ]


OVERSEERS_ONLY = ("/activity/", "/history.csv", "/labels/")


def queries(client, url: str) -> int:
    client.get(url)  # bodies rendered, intervals computed: what the first visit does once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("viewer", ["owner", "annotator"])
def test_lists_and_downloads_take_as_many_queries_for_three_times_the_issues(client, viewer):
    studies = [study_of(size) for size in (4, 12)]  # both before any request: its history context stays out
    counts = []
    for study, owner, annotator in studies:
        client.force_login(owner if viewer == "owner" else annotator)
        shown = [url for url in urls(study) if viewer == "owner" or not any(page in url for page in OVERSEERS_ONLY)]
        counts.append({url.replace(study.slug, "…"): queries(client, url) for url in shown})

    assert counts[0] == counts[1]


def test_the_home_page_takes_as_many_queries_for_three_times_the_studies(client):
    """The study cards count issues and members in the query that lists them."""
    researcher = UserFactory()
    client.force_login(researcher)
    counts = []
    for more in (2, 4):
        for _ in range(more):
            study = StudyFactory()
            MembershipFactory(study=study, user=researcher)
            MembershipFactory.create_batch(2, study=study)
        counts.append(queries(client, reverse("studies:list")))

    assert counts[0] == counts[1] <= 6
