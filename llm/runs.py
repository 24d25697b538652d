"""Running a model rater: each chosen field of each chosen issue asked k times, concurrently up to what the
endpoint allows, answers stored as they come, progress kept on the run (its page polls it).

A run can be paused (it stops asking once the requests in flight are back) and resumed (it asks only what it has
not stored yet). An item whose prompt, model, parameters and codebook version are unchanged since an earlier run
reuses that run's answer. No database access happens in the request threads: they only talk to the endpoint.
"""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from issues.models import IssueComment
from llm.client import BudgetUsedUp, ChatClient, Completion, EndpointError, RequestFailed
from llm.models import Endpoint, ModelAnswer, ModelRater, ModelRun
from llm.prompts import Prompt, build, parse
from studies.codebook_versions import current_number
from studies.models import CodebookField, StudyIssue

SAVE_EVERY_SECONDS = 1.0


class RunError(Exception):
    """A run that cannot be started or resumed now; the message says why."""


# --- Starting, pausing, resuming: the owner's buttons ---


def run_queue(rater: ModelRater, user) -> ModelRun:
    """A new run of the rater, queued for the task worker."""
    from llm.tasks import run_model_rater  # the task module imports this one

    with transaction.atomic():
        ModelRater.objects.select_for_update().filter(pk=rater.pk).first()  # one run at a time per rater
        if active := rater.runs.filter(status__in=[ModelRun.Status.QUEUED, ModelRun.Status.RUNNING]).first():
            raise RunError(f"Run {active.pk} of {rater.name} is still {active.status}: pause it or wait for it.")
        run = ModelRun.objects.create(rater=rater, created_by=user)
        transaction.on_commit(lambda: run_model_rater.enqueue(run.pk))
    return run


def run_pause(run: ModelRun) -> None:
    """Ask a running run to stop after the requests in flight; a queued one pauses at once."""
    ModelRun.objects.filter(pk=run.pk, status=ModelRun.Status.RUNNING).update(pause_requested=True)
    ModelRun.objects.filter(pk=run.pk, status=ModelRun.Status.QUEUED).update(status=ModelRun.Status.PAUSED)


def run_resume(run: ModelRun) -> None:
    """Queue a paused (or interrupted) run again: it asks only what it has not stored."""
    from llm.tasks import run_model_rater

    resumed = ModelRun.objects.filter(pk=run.pk, status__in=[ModelRun.Status.PAUSED, ModelRun.Status.FAILED]).update(
        status=ModelRun.Status.QUEUED, pause_requested=False, error=""
    )
    if not resumed:
        raise RunError("Only a paused or stopped run can be resumed.")
    transaction.on_commit(lambda: run_model_rater.enqueue(run.pk))


# --- The work, in the task worker ---


class Budget:
    """The endpoint's requests left, counted in memory by the request threads and written back as the run saves."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint, self.left, self.unsaved = endpoint, endpoint.requests_left, 0
        self.lock = threading.Lock()

    def spend(self) -> None:
        with self.lock:
            if self.left <= 0:
                raise BudgetUsedUp
            self.left -= 1
            self.unsaved += 1

    def save(self) -> int:
        with self.lock:
            spent, self.unsaved = self.unsaved, 0
        Endpoint.objects.filter(pk=self.endpoint.pk).update(requests_sent=F("requests_sent") + spent)
        return spent


def run_execute(run_id: int, on_progress: Callable[[ModelRun], None] | None = None) -> ModelRun:
    """Run a queued run to its end, a pause or a stop; `on_progress(run)` each time its progress is saved."""
    run = ModelRun.objects.select_related("rater__endpoint", "rater__study").get(pk=run_id)
    if run.status != ModelRun.Status.QUEUED:
        return run  # paused before it started, or already run
    rater, endpoint = run.rater, run.rater.endpoint
    run.status, run.started_at = ModelRun.Status.RUNNING, run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at"])
    budget = Budget(endpoint)
    try:
        client = ChatClient(endpoint, spend=budget.spend)
    except EndpointError as error:
        return _finish(run, ModelRun.Status.FAILED, str(error))
    items = _items(rater)
    run.items_total = len(items)
    # Counted again from what is stored: a worker killed after its last save stored more than it counted.
    stored = run.answers.all()
    done = set(stored.values_list("study_issue_id", "field_id"))
    run.items_done = len(done)
    run.items_reused = stored.filter(reused_from__isnull=False).count()
    run.items_failed = stored.exclude(failed="").count()
    work = Work(run, rater, client, budget, on_progress)
    status, error = work.ask_all([item for item in items if (item[0].pk, item[1].pk) not in done])
    work.save_progress()
    return _finish(run, status, error)


def _items(rater: ModelRater) -> list[tuple[StudyIssue, CodebookField]]:
    fields = list(rater.fields.prefetch_related("choices").order_by("position", "id"))
    comments = Prefetch("issue__comments", queryset=IssueComment.objects.order_by("created_at", "id"))
    issues = rater.issues.select_related("issue__repository").prefetch_related(comments).order_by("id")
    return [(study_issue, field) for study_issue in issues for field in fields]


def _finish(run: ModelRun, status: str, error: str = "") -> ModelRun:
    run.status, run.error, run.pause_requested = status, error, False
    run.finished_at = timezone.now() if status != ModelRun.Status.PAUSED else None
    run.save(update_fields=["status", "error", "pause_requested", "finished_at", "items_total"])
    return run


class Work:
    """One run's asking: the main thread builds prompts, reuses and stores answers; a pool sends the requests."""

    def __init__(self, run: ModelRun, rater: ModelRater, client: ChatClient, budget: Budget, on_progress=None) -> None:
        self.run, self.rater, self.client, self.budget = run, rater, client, budget
        self.on_progress = on_progress
        self.version = current_number(rater.study_id)
        self.parameters = {"temperature": rater.temperature, "samples": rater.samples}
        self.saved_at = self.pause_checked_at = time.monotonic()

    def ask_all(self, items) -> tuple[str, str]:
        endpoint = self.rater.endpoint
        pending: dict[Future, tuple] = {}
        outcome = (ModelRun.Status.DONE, "")
        with ThreadPoolExecutor(max_workers=endpoint.max_in_flight, thread_name_prefix="llm") as pool:
            for study_issue, field in items:
                if self._pause_requested():
                    outcome = (ModelRun.Status.PAUSED, "")
                    break
                prompt = build(
                    self.rater.study,
                    field,
                    study_issue.issue,
                    list(study_issue.issue.comments.all()),
                    budget=self.rater.context_budget,
                )
                digest = prompt.digest(model=endpoint.model, parameters=self.parameters, codebook_version=self.version)
                if self._reuse(study_issue, field, digest):
                    continue
                while len(pending) >= 2 * endpoint.max_in_flight:
                    outcome = self._collect(pending, FIRST_COMPLETED) or outcome
                    if outcome[0] != ModelRun.Status.DONE:
                        break
                if outcome[0] != ModelRun.Status.DONE:
                    break
                future = pool.submit(ask, self.client, prompt, field, self.rater.samples, self.rater.temperature)
                pending[future] = (study_issue, field, prompt, digest)
            if outcome[0] != ModelRun.Status.DONE:
                for future in pending:
                    future.cancel()
            while pending:
                outcome = self._collect(pending, FIRST_COMPLETED) or outcome
        return outcome

    def _collect(self, pending: dict, when) -> tuple[str, str] | None:
        """Store the answers that are back; a run-stopping failure is returned as (status, reason)."""
        finished, _ = wait(list(pending), return_when=when)
        stop = None
        for future in finished:
            study_issue, field, prompt, digest = pending.pop(future)
            if future.cancelled():
                continue
            try:
                samples = future.result()
            except EndpointError as error:
                stop = (ModelRun.Status.FAILED, str(error))
                continue
            except BudgetUsedUp:
                stop = (ModelRun.Status.PAUSED, "The endpoint's request budget is used up: an admin can raise it.")
                continue
            self._store(study_issue, field, prompt, digest, samples)
        self._maybe_save()
        return stop

    def _store(self, study_issue, field, prompt: Prompt, digest: str, samples: list[dict]) -> None:
        value, confidence, failed = majority(samples, self.rater.samples)
        versions = sorted({" ".join(filter(None, (s.get("model"), s.get("fingerprint")))) for s in samples} - {""})
        ModelAnswer.objects.create(
            run=self.run,
            rater=self.rater,
            study_issue=study_issue,
            field=field,
            prompt_hash=digest,
            codebook_version=self.version,
            messages=prompt.messages,
            cut=prompt.cut,
            parameters={**self.parameters, "model": self.rater.endpoint.model, "schema": prompt.schema},
            samples=samples,
            value=value,
            confidence=confidence,
            failed=failed,
            model_version="; ".join(versions)[:300],
        )
        run = self.run
        run.items_done += 1
        run.items_failed += bool(failed)
        run.requests += sum(s["requests"] for s in samples)
        run.prompt_tokens += sum(s["prompt_tokens"] for s in samples)
        run.completion_tokens += sum(s["completion_tokens"] for s in samples)
        run.seconds += sum(s["seconds"] for s in samples)

    def _reuse(self, study_issue, field, digest: str) -> bool:
        earlier = (
            ModelAnswer.objects.filter(rater=self.rater, prompt_hash=digest, failed="")
            .exclude(run=self.run)
            .order_by("-id")
            .first()
        )
        if earlier is None:
            return False
        copied = ("codebook_version", "messages", "cut", "parameters", "samples", "value", "confidence")
        ModelAnswer.objects.create(
            run=self.run,
            rater=self.rater,
            study_issue=study_issue,
            field=field,
            prompt_hash=digest,
            model_version=earlier.model_version,
            reused_from=earlier.reused_from or earlier,
            **{name: getattr(earlier, name) for name in copied},
        )
        self.run.items_done += 1
        self.run.items_reused += 1
        self._maybe_save()
        return True

    def _pause_requested(self) -> bool:
        """Asked of the database at most twice a second: the owner's button sets it."""
        now = time.monotonic()
        if now - self.pause_checked_at < 0.5:
            return False
        self.pause_checked_at = now
        return ModelRun.objects.filter(pk=self.run.pk, pause_requested=True).exists()

    def _maybe_save(self) -> None:
        if time.monotonic() - self.saved_at >= SAVE_EVERY_SECONDS:
            self.save_progress()

    def save_progress(self) -> None:
        self.budget.save()
        fields = ["items_total", "items_done", "items_reused", "items_failed", "requests"]
        fields += ["prompt_tokens", "completion_tokens", "seconds"]
        self.run.save(update_fields=fields)
        self.saved_at = time.monotonic()
        if self.on_progress:
            self.on_progress(self.run)


def ask(client: ChatClient, prompt: Prompt, field: CodebookField, k: int, temperature: float) -> list[dict]:
    """k samples (seeds 0 … k−1); an invalid or refused answer is asked once more, then recorded as failed."""
    samples = []
    for seed in range(k):
        sample = {"seed": seed, "requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0}
        for attempt in range(2):
            sample["requests"] += 1
            try:
                completion = client.complete(prompt.messages, temperature=temperature, seed=seed, schema=prompt.schema)
            except RequestFailed as error:
                sample.update(value=None, error=str(error))
                break
            _count(sample, completion)
            try:
                if completion.refusal:
                    raise ValueError(f"refused: {completion.refusal}")
                value, rationale = parse(field, completion.content)
            except ValueError as error:
                sample.update(value=None, error=f"{error}" + (" (after one retry)" if attempt else ""))
                continue
            sample.update(value=value, rationale=rationale, error="")
            break
        samples.append(sample)
    return samples


def _count(sample: dict, completion: Completion) -> None:
    sample["raw"] = completion.raw
    sample["model"], sample["fingerprint"] = completion.model, completion.fingerprint
    sample["prompt_tokens"] += completion.prompt_tokens
    sample["completion_tokens"] += completion.completion_tokens
    sample["seconds"] += completion.seconds


def majority(samples: list[dict], k: int) -> tuple[object, float | None, str]:
    """The value most samples gave (the earliest of a tie), the share of the k samples that gave it, and, when
    none was valid, why."""
    valid = [s["value"] for s in samples if not s.get("error")]
    if not valid:
        reasons = sorted({s["error"] for s in samples})
        return None, None, "; ".join(reasons)[:2000] or "no answer"
    keys = [json.dumps(value, sort_keys=True) for value in valid]
    counts = Counter(keys)
    best = max(counts.values())
    winner = next(key for key in keys if counts[key] == best)
    return valid[keys.index(winner)], best / k, ""
