"""Blind labelling as a property: in random studies, no page or download shows a viewer what the policy hides.

Each seed builds a study at random: its settings, members with overlapping
roles (annotators who also adjudicate or own), issues at every stage (some
re-opened into labelling with their old final values and discussion), votes,
answers, notes, Other texts, final values, rationales, discussion comments,
decision notes; gold issues with reference answers and rationales, and
annotators training or checked on them; a calibration round over some of
the issues. Every text is a unique marker. Then every member (and an
admin) requests every URL pattern of the project that reaches a study — GET,
and an empty POST rolled back after it — and every download; no response may
carry a marker that the access policy (studies/access.py) says is hidden from
that viewer. As a positive control, the markers it says are revealed do show
on the Compare tab, so a marker that is missing is missing for a reason.
"""

import random

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from llm.models import Endpoint, ModelAnswer, ModelRater, ModelRun
from studies.access import StudyAccess
from studies.codebook import codebook_load, preset
from studies.export_profiles import profile_save
from studies.models import (
    Annotation,
    Assignment,
    DiscussionComment,
    FinalValue,
    GoldAnswer,
    GoldItem,
    IssueStage,
    Membership,
    Round,
    Stage,
    StudyIssue,
)
from tests.factories import AdminFactory, IssueFactory, StudyFactory, UserFactory
from tests.helpers import all_patterns

pytestmark = pytest.mark.django_db

SEEDS = range(3)
STAGES = list(IssueStage.values)
ROLE_SETS = [
    {"annotator"},
    {"annotator"},
    {"annotator", "adjudicator"},
    {"annotator", "owner"},
    {"adjudicator"},
    {"owner"},
]
DOWNLOADS = {
    "studies:export": [
        "",
        "?format=json",
        "?layout=long",
        "?layout=long&format=json",
        "?with_annotators=1",
        "?with_annotators=1&format=json&excel=1",
    ],
    "studies:export#profiles": ["?profile=paper", "?profile=everything"],
    "agreement:report": ["", "?format=json", "?format=csv", "?format=latex"],
    "agreement:rounds_export": [""],
    "studies:issues": ["", "?status=reconciliation", "?status=decided&q=layer", "?uncertain=1"],
    "studies:reconcile": ["", "?only=disagreements", "?only=uncertain"],
}


class World:
    """A random study and the markers planted in it: marker -> (study issue, the user whose it is, or None)."""

    def __init__(self, seed: int):
        self.rng = rng = random.Random(seed)
        self.seed = seed
        # The seeds take turns at the settings that move the reveal: after the decision; annotators reconciling
        # together; neither.
        self.study = study = StudyFactory(
            screening=True,
            reveal_after_decision=seed % 3 == 0,
            annotators_reconcile=seed % 3 == 1,
            annotators_see_agreement=rng.random() < 0.7,
        )
        codebook_load(study, preset("silent-bugs"))
        # Besides the preset's "paper" profile (included issues only): one with every issue and every field.
        columns = [{"value": "title"}] + [{"value": f"final:{field.key}"} for field in study.fields.all()]
        profile_save(study, {"name": "everything", "columns": columns})
        self.fields = {field.key: field for field in study.fields.all()}
        self.people = []
        for index, roles in enumerate(rng.sample(ROLE_SETS, len(ROLE_SETS))):
            user = UserFactory(username=f"p{seed}u{index}")
            for role in roles:
                Membership.objects.create(study=study, user=user, role=role)
            self.people.append(user)
        self.annotators = [u for u in self.people if u.memberships.filter(role="annotator").exists()]
        self.markers: dict[str, tuple[StudyIssue, object]] = {}
        # Reference answers (studies/gold.py): marker -> gold issue; training and check answers: marker -> (issue,
        # whose). Apart from `markers`, whose rule (revealed, or one's own) is not theirs.
        self.gold_markers: dict[str, StudyIssue] = {}
        self.gold_work_markers: dict[str, tuple[StudyIssue, object]] = {}
        self.study_issues = [self.issue(index, stage) for index, stage in enumerate(STAGES * 2)]
        for study_issue in rng.sample(self.study_issues, 4):
            self.gold(study_issue)
        # A calibration round over issues at every stage: its report sets values and notes side by side.
        round_ = Round.objects.create(study=study, number=1, size=6, codebook_version_start=1)
        round_.issues.set(rng.sample(self.study_issues, 6))
        round_.annotators.set(self.annotators)
        round_.fields.set([self.fields["scenario"], self.fields["impact"]])
        self.model_answers()

    def model_answers(self) -> None:
        """A language model rated every issue (llm/): its answers are hidden exactly like another annotator's."""
        endpoint = Endpoint.objects.create(name="local", base_url="http://127.0.0.1:9/v1", model="m", request_budget=9)
        rater = ModelRater.objects.create(study=self.study, endpoint=endpoint, name="gpt", samples=1)
        rater.fields.set([self.fields["scenario"]])
        rater.issues.set(self.study_issues)
        self.model_run = ModelRun.objects.create(rater=rater, status="done")
        for study_issue in self.study_issues:
            marker = self.mark(study_issue, None, "ml")
            sample = {"value": "Wrong shape", "rationale": marker, "raw": marker, "error": ""}
            ModelAnswer.objects.create(
                run=self.model_run,
                rater=rater,
                study_issue=study_issue,
                field=self.fields["scenario"],
                prompt_hash="0" * 64,
                codebook_version=1,
                messages=[],
                samples=[sample],
                value="Wrong shape",
                confidence=1.0,
            )

    def mark(self, study_issue, user, what: str) -> str:
        marker = f"MK{self.seed}i{study_issue.issue.number}{what}{user.pk if user else 'all'}Z"
        self.markers[marker] = (study_issue, user)
        return marker

    def issue(self, index: int, stage: str) -> StudyIssue:
        rng = self.rng
        study_issue = StudyIssue.objects.create(
            study=self.study, issue=IssueFactory(title=f"Layer {index} returns a wrong shape"), stage=stage
        )
        labellers = rng.sample(self.annotators, rng.choice([2, 3]))
        for user in labellers:  # everyone screened it; then labels it, unless it never left screening
            voted = stage != IssueStage.SCREENING or rng.random() < 0.5
            vote = self.assign(study_issue, user, Stage.SCREENING, submitted=voted)
            comment = self.mark(study_issue, user, "vc")
            self.answer(
                vote,
                "silent_bug",
                {"vote": rng.random() < 0.7, "comment": comment},
                note=self.mark(study_issue, user, "vn"),
            )
        reopened = stage == IssueStage.LABELLING and rng.random() < 0.5  # holds the old final values and discussion
        if stage in (IssueStage.LABELLING, IssueStage.RECONCILIATION, IssueStage.DECIDED):
            for user in labellers:
                done = stage != IssueStage.LABELLING or rng.random() < 0.5
                work = self.assign(study_issue, user, Stage.LABELLING, submitted=done)
                self.answer(work, "scenario", {"other": self.mark(study_issue, user, "sc")})
                impact_note = self.mark(study_issue, user, "in")
                self.answer(work, "impact", rng.choice([1, 2, 3, 4]), note=impact_note, uncertain=rng.random() < 0.3)
                self.answer(work, "buggy_version", self.mark(study_issue, user, "bv"))
                self.answer(work, "gist_urls", [f"https://gist.github.com/{self.mark(study_issue, user, 'gu')}"])
        if stage in (IssueStage.RECONCILIATION, IssueStage.DECIDED) or reopened:
            FinalValue.objects.create(
                study_issue=study_issue,
                field=self.fields["buggy_version"],
                set_by=rng.choice(self.people),
                value=self.mark(study_issue, None, "fv"),
                rationale=self.mark(study_issue, None, "fr"),
            )
        if stage not in (IssueStage.SCREENING, IssueStage.LABELLING) or reopened:
            author, mentioned = rng.sample(self.people, 2)
            text = f"@{mentioned.username} {self.mark(study_issue, None, 'dc')}"
            DiscussionComment.objects.create(study_issue=study_issue, author=author, body=text)
        if stage == IssueStage.DECIDED:
            StudyIssue.objects.filter(pk=study_issue.pk).update(
                decision=rng.choice(["include", "exclude"]),
                decided_by=rng.choice(self.people),
                decided_at=timezone.now(),
                decision_note=self.mark(study_issue, None, "dn"),
            )
        if stage == IssueStage.LABELLING and rng.random() < 0.5:  # accepted after a split vote
            StudyIssue.objects.filter(pk=study_issue.pk).update(screening_note=self.mark(study_issue, None, "sn"))
        study_issue.refresh_from_db()
        return study_issue

    def gold(self, study_issue: StudyIssue) -> None:
        """The issue becomes gold; an annotator who does not label it trains or is checked on it."""
        rng = self.rng
        item = GoldItem.objects.create(study=self.study, issue=study_issue.issue)
        value, rationale = self.mark(study_issue, None, "gv"), self.mark(study_issue, None, "gr")
        for marker in (value, rationale):
            self.gold_markers[marker] = self.markers.pop(marker)[0]
        GoldAnswer.objects.create(gold_item=item, field=self.fields["buggy_version"], value=value, rationale=rationale)
        labellers = set(Assignment.objects.filter(issue=study_issue.issue).values_list("annotator_id", flat=True))
        free = [user for user in self.annotators if user.pk not in labellers]
        if not free:
            return
        user = rng.choice(free)
        work = self.assign(study_issue, user, Stage.LABELLING, submitted=rng.random() < 0.5)
        Assignment.objects.filter(pk=work.pk).update(purpose=rng.choice(["training", "check"]))
        answer = self.mark(study_issue, user, "gw")
        self.gold_work_markers[answer] = self.markers.pop(answer)
        self.answer(work, "buggy_version", answer)

    def assign(self, study_issue, user, stage: str, *, submitted: bool) -> Assignment:
        now = timezone.now()
        return Assignment.objects.create(
            study=self.study,
            issue=study_issue.issue,
            annotator=user,
            stage=stage,
            status=Assignment.Status.SUBMITTED if submitted else Assignment.Status.IN_PROGRESS,
            started_at=now,
            submitted_at=now if submitted else None,
        )

    def answer(self, assignment, key: str, value, *, note: str = "", uncertain: bool = False) -> None:
        Annotation.objects.create(
            assignment=assignment, field=self.fields[key], value=value, note=note, uncertain=uncertain
        )

    def hidden_from(self, viewer) -> set[str]:
        """The markers the policy hides from the viewer: others' on issues not revealed to them."""
        access = StudyAccess(self.study, viewer)
        hidden = {
            marker
            for marker, (study_issue, owner) in self.markers.items()
            if not access.is_revealed(study_issue) and (owner is None or owner.pk != viewer.pk)
        }
        hidden |= {marker for marker, study_issue in self.gold_markers.items() if not access.may_see_gold(study_issue)}
        return hidden | {
            marker
            for marker, (study_issue, owner) in self.gold_work_markers.items()
            if owner.pk != viewer.pk and not access.may_manage
        }

    def urls(self) -> list[str]:
        """Every URL pattern of the project that reaches this study or one of its issues, and every download."""
        urls = []
        for route, key in all_patterns():
            if route.startswith("admin/") or "<slug:slug>" not in route:
                continue
            targets = self.study_issues if "<int:number>" in route else [None]
            urls += [self.url(key, target, route=route) for target in targets]
        for key, queries in DOWNLOADS.items():
            targets = self.study_issues if key == "studies:reconcile" else [None]
            urls += [self.url(key.partition("#")[0], target) + query for target in targets for query in queries]
        return urls + [reverse("studies:notifications"), "/"]

    def url(self, key: str, study_issue=None, *, route: str = "") -> str:
        args = [self.study.slug]
        if study_issue is not None:
            repository = study_issue.issue.repository
            args += [repository.owner, repository.name, study_issue.issue.number]
        if "<str:key>" in route:
            args.append("impact")
        if "<slug:name>" in route:
            args.append("gpt")
        if "<int:run>" in route:
            args.append(self.model_run.pk)
        if "choices/<int:pk>" in route:
            args.append(self.fields["impact"].choices.first().pk)
        elif "export-profiles/<int:pk>" in route:
            args.append(self.study.export_profiles.first().pk)
        elif "<int:pk>" in route:
            args.append(self.study.memberships.first().pk)
        elif "<int:round_number>" in route:
            args.append(1)
        elif "<int:version>" in route:
            args.append(self.study.codebook_versions.first().number)
        return reverse(key, args=args)


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def request(session: str, method: str, url: str) -> tuple[int, str]:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    with transaction.atomic():
        response = getattr(client, method)(url)
        text = body(response)
        transaction.set_rollback(True)
    return response.status_code, text


@pytest.mark.parametrize("seed", SEEDS)
def test_no_response_shows_a_viewer_what_the_policy_hides(seed):
    world = World(seed)
    viewers = [*world.people, AdminFactory()]
    urls = world.urls()
    leaks = []
    for viewer in viewers:
        client = Client()
        client.force_login(viewer)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        hidden = world.hidden_from(viewer)
        for url in urls:
            for method in ("get", "post"):
                status, text = request(session, method, url)
                assert status < 500, (viewer.username, method, url)
                leaks += [(viewer.username, method, url, marker) for marker in hidden if marker in text]
    assert not leaks, leaks[:20]


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_what_the_policy_reveals_does_show_on_the_compare_tab(client, seed):
    """The positive control: on an issue in reconciliation or decided that the policy reveals to the viewer, the
    Compare tab shows every marker of it (but the note of an accepted split vote, which only the history keeps, and
    model answers, which only the model rater's log holds):
    so a marker missing elsewhere is missing for a reason."""
    world = World(seed)
    checked = 0
    for viewer in world.people:
        client.force_login(viewer)
        access = StudyAccess(world.study, viewer)
        for study_issue in world.study_issues:
            done = study_issue.stage in (IssueStage.RECONCILIATION, IssueStage.DECIDED)
            if not done or not access.is_revealed(study_issue):
                continue
            text = body(client.get(world.url("studies:reconcile", study_issue)))
            for marker, (marked, _) in world.markers.items():
                # Not the note of an accepted split vote, nor a model's answer (only its owners' log holds it).
                kind = marker.split("i", 1)[1]
                if marked.pk == study_issue.pk and "sn" not in kind and "ml" not in kind:
                    assert marker in text, (viewer.username, marker)
                    checked += 1
    assert checked > 20
