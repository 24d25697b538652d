"""Who may see and do what in a study: the one place every page, download, report and command asks.

A `StudyAccess` is built once per request from the user and the study (their
roles read once). It answers every question about the person: may they see
the study, manage it, oversee it, read its agreement, reconcile an issue;
which issues' values are revealed to them; which assignments' values are
hidden from them; which imported issues they may add.

The reveal rule (`reveals`) is written once, as a function of the issue's
stage, whether the viewer oversees the study, whether they label the issue,
and the study's *reveal after decision*. The QuerySet filter that selects
revealed issues (`StudyIssue.objects.revealed_to(access)`) is derived from
that function, so the single-issue answer and the database's cannot drift
apart. Everyone always sees their own values.

Gold issues (studies/gold.py): an issue the viewer trains or is checked on is
never revealed to them (its final values would give the reference answers
away); its reference answers are the owners' to read, and a trainee's once
they have submitted their own; others' training and check answers are
hidden from everyone but the owners. An issue someone is checked on looks to
them like any issue they label (`stage_shown`, `is_checked_on`): its stage in
the study, its decision, the others' work on it and its history would tell
them it is a check.
"""

import hashlib
from functools import cached_property

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from issues.models import Issue
from studies import gold
from studies.models import Assignment, IssueStage, Membership, Stage, Study, StudyIssue

OVERSEEING_ROLES = {Membership.Role.OWNER, Membership.Role.ADJUDICATOR}


def reveals(stage: str, *, oversees: bool, labels_it: bool, reveal_after_decision: bool) -> bool:
    """Whether a viewer sees everyone's values, notes, votes, comments and final values on an issue.

    - Decided: every member.
    - Screening and labelling are blind for whoever labels the issue, whatever their role. Owners and
      adjudicators who do not label it watch the work: they never judge it blind.
    - Screening discussion: owners and adjudicators (every vote is in), never annotators.
    - Reconciliation: owners and adjudicators; annotators too, unless the study reveals only after the decision.
    """
    if stage == IssueStage.DECIDED:
        return True
    if oversees:
        return not labels_it or stage in (IssueStage.DISCUSSION, IssueStage.RECONCILIATION)
    return stage == IssueStage.RECONCILIATION and not reveal_after_decision


class StudyAccess:
    """One person's rights in one study."""

    def __init__(self, study: Study, user, roles=None):
        self.study, self.user = study, user
        if roles is not None:
            self.roles = frozenset(roles)
        self._own: dict[int, list[Assignment]] = {}

    @cached_property
    def roles(self) -> frozenset[str]:
        """Read once, when a rule first needs them (saving one's own answer needs none)."""
        return frozenset(Membership.objects.filter(study=self.study, user=self.user).values_list("role", flat=True))

    @classmethod
    def everything(cls, study: Study) -> "StudyAccess":
        """What a command run from the shell may read: the whole study, as an admin would."""
        return cls(study, _Shell(), roles=())

    # --- The study ---

    @property
    def is_admin(self) -> bool:
        return self.user.is_staff

    @property
    def may_see(self) -> bool:
        """Admins and members; `Study.objects.visible_to(user)` is the same rule for lists of studies."""
        return self.is_admin or bool(self.roles)

    @property
    def may_manage(self) -> bool:
        """Members, assignments, issues, codebook, settings, re-opening decisions: owners and admins."""
        return self.is_admin or Membership.Role.OWNER in self.roles

    @property
    def oversees(self) -> bool:
        """The whole study's work (activity, exports, agreement): owners, adjudicators and admins."""
        return self.is_admin or bool(self.roles & OVERSEEING_ROLES)

    @property
    def may_see_agreement(self) -> bool:
        return self.oversees or (Membership.Role.ANNOTATOR in self.roles and self.study.annotators_see_agreement)

    @property
    def may_export(self) -> bool:
        return self.oversees

    @property
    def may_download_history(self) -> bool:
        return self.may_manage

    @property
    def may_see_effort(self) -> bool:
        """Each annotator's time on task and pace: those who oversee the work, never the annotators (not even their
        own, so that nobody labels against the clock)."""
        return self.oversees

    @property
    def may_see_rounds(self) -> bool:
        """Calibration rounds' reports set everyone's values side by side: those who oversee the work, never the
        annotators (not even where the study shows them its agreement), who label the next round blind. Even then
        only the issues revealed to the viewer count (agreement/rounds.py asks `revealed_filter`)."""
        return self.oversees

    @property
    def may_see_methods_report(self) -> bool:
        """The methods report holds the study's agreement and its time on task: whoever may read both."""
        return self.may_see_agreement and self.may_see_effort

    @property
    def may_see_gold_scores(self) -> bool:
        """Each trainee's and each checked annotator's scores against gold: the owners' (annotators are not told
        which issues are checks), on the gold page and in the methods report."""
        return self.may_manage

    @property
    def may_manage_model_raters(self) -> bool:
        """Adding language models as raters, running them, reading their logs (llm/): the owners'."""
        return self.may_manage

    def may_see_model_values(self, study_issue: StudyIssue) -> bool:
        """A model's values on an issue are hidden exactly like another annotator's: the reveal rule. Lists ask
        `revealed_filter()`, which is the same rule."""
        return self.is_revealed(study_issue)

    def may_see_model_suggestions(self, study_issue: StudyIssue) -> bool:
        """Model values shown as suggestions where the issue is reconciled: once the humans have submitted (the issue
        is in reconciliation), to whoever reconciles it, if its model rater allows it (asked by llm/)."""
        return (
            study_issue.stage == IssueStage.RECONCILIATION
            and self.may_reconcile(study_issue)
            and self.may_see_model_values(study_issue)
        )

    @property
    def may_manage_surveys(self) -> bool:
        """Building surveys from the codebook, sharing their public links, closing them, downloading their responses
        (surveys/): the owners'. Respondents need no account: the link's token is their only key."""
        return self.may_manage

    @property
    def may_choose_examples(self) -> bool:
        """Which disagreements the methods report shows as examples: the owners'."""
        return self.may_manage

    # --- One issue ---

    def get_study_issue(self, owner: str, repo: str, number: int) -> StudyIssue:
        """The issue in this study, with its issue (without the verbatim payload, never shown); 404 otherwise."""
        study_issue = get_object_or_404(
            StudyIssue.objects.select_related("issue__repository").defer("issue__payload"),
            study=self.study,
            issue__repository__owner=owner,
            issue__repository__name=repo,
            issue__number=number,
        )
        study_issue.study = self.study  # at hand already
        return study_issue

    def own_assignments(self, study_issue: StudyIssue) -> list[Assignment]:
        """The viewer's assignments on the issue (screening, labelling), read once."""
        if study_issue.issue_id not in self._own:
            mine = list(
                Assignment.objects.filter(study=self.study, issue_id=study_issue.issue_id, annotator_id=self.user.pk)
            )
            for assignment in mine:
                assignment.study, assignment.issue = self.study, study_issue.issue  # at hand: no queries for them
            self._own[study_issue.issue_id] = mine
        return self._own[study_issue.issue_id]

    def own_assignment(self, study_issue: StudyIssue) -> Assignment | None:
        """The assignment the viewer works on: the unfinished one first, then the labelling one."""
        mine = sorted(
            self.own_assignments(study_issue),
            key=lambda a: (a.status == Assignment.Status.SUBMITTED, a.stage != Stage.LABELLING),
        )
        return mine[0] if mine else None

    def labels(self, study_issue: StudyIssue) -> bool:
        """Whether the viewer has an assignment (screening or labelling) on the issue."""
        return bool(self.own_assignments(study_issue))

    def is_revealed(self, study_issue: StudyIssue) -> bool:
        if self.does_gold_work(study_issue):
            return False
        return self.reveals(study_issue.stage, labels_it=self.labels(study_issue))

    def does_gold_work(self, study_issue: StudyIssue) -> bool:
        """Whether the viewer trains or is checked on the issue (a gold issue): it stays blind to them."""
        return any(a.purpose != Assignment.Purpose.REAL for a in self.own_assignments(study_issue))

    def is_checked_on(self, study_issue: StudyIssue) -> bool:
        """Whether the issue is a gold check in the viewer's queue: to them it is an issue like any other."""
        return any(a.purpose == Assignment.Purpose.CHECK for a in self.own_assignments(study_issue))

    @cached_property
    def checked_issue_ids(self) -> frozenset[int]:
        """The issues (Issue ids) the viewer is checked on, for lists: no query per row."""
        mine = Assignment.objects.filter(study=self.study, annotator_id=self.user.pk, purpose=Assignment.Purpose.CHECK)
        return frozenset(mine.values_list("issue_id", flat=True))

    def stage_shown(self, study_issue: StudyIssue) -> str:
        """The issue's stage as the viewer is told it: labelling, on an issue they are checked on."""
        return IssueStage.LABELLING if self.is_checked_on(study_issue) else study_issue.stage

    def may_see_gold(self, study_issue: StudyIssue) -> bool:
        """The issue's reference answers: its owners; a trainee once they have submitted their training on it;
        never someone checked on it."""
        if self.may_manage:
            return True
        return any(
            a.purpose == Assignment.Purpose.TRAINING and a.status == Assignment.Status.SUBMITTED
            for a in self.own_assignments(study_issue)
        )

    @cached_property
    def training_pending(self) -> bool:
        """The study requires training and this annotator has not passed it: no real labelling for them yet."""
        return (
            self.study.training_required
            and Membership.Role.ANNOTATOR in self.roles
            and not gold.training_passed(self.study, self.user)
        )

    def reveals(self, stage: str, *, labels_it: bool) -> bool:
        return reveals(
            stage, oversees=self.oversees, labels_it=labels_it, reveal_after_decision=self.study.reveal_after_decision
        )

    def why_hidden(self, study_issue: StudyIssue) -> str:
        """What a member who may not compare the issue yet is told (the reveal rule, in words)."""
        if self.oversees:
            when = "to you once it reaches the screening discussion or reconciliation, since you label it too"
        elif self.study.reveal_after_decision:
            when = "once it is decided"
        else:
            when = "in reconciliation"
        stage = IssueStage(self.stage_shown(study_issue)).label
        return f"Everyone's values on this issue are shown {when}; it is in {stage}."

    def may_reconcile(self, study_issue: StudyIssue) -> bool:
        """Set final values and decide: adjudicators, owners and admins; the issue's own annotators too when the
        study lets annotators reconcile together."""
        if self.oversees:
            return True
        mine = self.own_assignments(study_issue)
        real = (a for a in mine if a.purpose == Assignment.Purpose.REAL)
        return self.study.annotators_reconcile and any(a.stage == Stage.LABELLING for a in real)

    def may_label(self, study_issue: StudyIssue) -> bool:
        """Whether the viewer's answers on the issue may still change: theirs, at the issue's stage, not submitted."""
        assignment = self.own_assignment(study_issue)
        if assignment is None or assignment.status == Assignment.Status.SUBMITTED:
            return False
        if assignment.purpose != Assignment.Purpose.REAL:
            return True  # a gold issue is labelled whatever its own stage in the study
        return assignment.stage == study_issue.stage and not self.training_pending

    def may_set_final_values(self, study_issue: StudyIssue) -> bool:
        return study_issue.stage == IssueStage.RECONCILIATION and self.may_reconcile(study_issue)

    def may_decide(self, study_issue: StudyIssue) -> bool:
        """Include or exclude (or, in the screening discussion, accept into labelling)."""
        stages = (IssueStage.DISCUSSION, IssueStage.RECONCILIATION)
        return study_issue.stage in stages and self.may_reconcile(study_issue)

    def may_reopen(self, study_issue: StudyIssue) -> bool:
        return study_issue.stage == IssueStage.DECIDED and self.may_manage

    # --- Many issues at once: filters for querysets, no query per row ---

    def revealed_filter(self) -> Q:
        """A StudyIssue filter: the issues whose values the viewer sees (the reveal rule, stage by stage)."""
        labels_it = Exists(
            Assignment.objects.filter(
                study_id=OuterRef("study_id"), issue_id=OuterRef("issue_id"), annotator_id=self.user.pk
            )
        )
        revealed = Q(pk__in=[])
        for stage in IssueStage.values:
            if_labels, if_not = self.reveals(stage, labels_it=True), self.reveals(stage, labels_it=False)
            if if_labels and if_not:
                revealed |= Q(stage=stage)
            elif if_labels:
                revealed |= Q(stage=stage) & labels_it
            elif if_not:
                revealed |= Q(stage=stage) & ~labels_it
        gold_work = Assignment.objects.filter(
            study_id=OuterRef("study_id"), issue_id=OuterRef("issue_id"), annotator_id=self.user.pk
        ).exclude(purpose=Assignment.Purpose.REAL)
        return revealed & ~Exists(gold_work)

    def revealed_issues(self) -> QuerySet:
        return StudyIssue.objects.revealed_to(self)

    @cached_property
    def hidden_study_issue_ids(self) -> frozenset[int]:
        """StudyIssue ids whose others' values the viewer may not see yet."""
        return frozenset(
            StudyIssue.objects.filter(study=self.study).exclude(self.revealed_filter()).values_list("pk", flat=True)
        )

    def hidden_assignments(self) -> QuerySet:
        """Other people's assignments on issues not revealed to the viewer, and their training and checks unless
        the viewer manages the study: their values are not shown."""
        hidden = StudyIssue.objects.filter(study=self.study).exclude(self.revealed_filter())
        blind = Q(issue_id__in=hidden.values("issue_id"))
        if not self.may_manage:
            blind |= ~Q(purpose=Assignment.Purpose.REAL)
        return Assignment.objects.filter(blind, study=self.study).exclude(annotator_id=self.user.pk)

    @cached_property
    def hidden_assignment_ids(self) -> frozenset[int]:
        return frozenset(self.hidden_assignments().values_list("pk", flat=True))

    def intervals_key(self) -> str:
        """What the agreement intervals the viewer sees depend on beyond the URL's filters: the issues hidden from
        them (a decision can reveal issues without changing any annotation)."""
        if not self.hidden_study_issue_ids:
            return ""
        digest = hashlib.sha256(",".join(map(str, sorted(self.hidden_study_issue_ids))).encode()).hexdigest()
        return f"&hidden={digest[:16]}"  # agreement/intervals.py recognises it

    # --- Imported issues ---

    def reachable_issues(self) -> QuerySet:
        """Imported issues the viewer may add to the study (and read before adding them): admins every one;
        owners those already in this study and those an admin shared (every issue, if the instance shares all
        imports)."""
        if self.is_admin or settings.SHARE_ALL_IMPORTS:
            return Issue.objects.all()
        if not self.may_manage:
            return Issue.objects.none()
        in_study = StudyIssue.objects.filter(study=self.study, issue=OuterRef("pk"))
        return Issue.objects.filter(Q(shared=True) | Q(Exists(in_study)))


class _Shell:
    """The user of a management command: an admin who labels nothing."""

    pk = None
    is_staff = True
    username = ""


def may_create_studies(user) -> bool:
    """Admins create studies, and become their first owner."""
    return user.is_staff


def may_configure_model_endpoints(user) -> bool:
    """Admins say which language-model APIs the app may send prompts to (llm/): nothing leaves otherwise."""
    return user.is_staff


def may_manage_people(user) -> bool:
    """Admins create accounts, switch them off and on, and hand out links to set a password."""
    return user.is_staff


def get_access(user, slug: str, *, require: str | None = None) -> StudyAccess:
    """The user's access to the study; 404 if they may not see it (the lookup is `may_see`, as a query) or lack
    `require` (a StudyAccess property), so that nobody learns a study exists from a page they may not open."""
    study = get_object_or_404(Study.objects.visible_to(user), slug=slug)
    access = StudyAccess(study, user)
    if require is not None and not getattr(access, require):
        raise Http404
    return access
