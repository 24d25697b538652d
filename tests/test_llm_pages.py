"""The model pages: an admin's endpoints, an owner's model raters and runs, and each run's log (llm/views.py)."""

import json

import pytest
from django.urls import reverse

from llm.models import Endpoint, ModelAnswer, ModelRater, ModelRun
from studies.codebook import codebook_load, preset
from studies.models import Assignment, IssueStage, Round
from tests.factories import AdminFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import as_read, model_rater
from tests.helpers import page as page_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    issues = [StudyIssueFactory(study=study, stage=IssueStage.LABELLING) for _ in range(4)]
    endpoint = Endpoint.objects.create(name="local", base_url="http://127.0.0.1:9/v1", model="qwen", request_budget=9)
    return {"study": study, "owner": owner, "issues": issues, "endpoint": endpoint}


def test_an_admin_adds_an_endpoint_and_is_told_what_is_wrong_first(client):
    client.force_login(AdminFactory())
    url = reverse("llm:endpoints")
    typed = {
        "name": "ollama",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "qwen2.5:7b",
        "api_key_env": "not a variable",
        "max_in_flight": "0",
        "timeout_seconds": "120",
        "request_budget": "5000",
    }

    refused = client.post(url, typed)

    assert refused.status_code == 422
    text = as_read(refused.content.decode())
    assert "An environment variable's name: A-Z, 0-9 and _." in text
    assert "greater than or equal to 1" in text and 'value="qwen2.5:7b"' in text
    assert not Endpoint.objects.exists()

    added = client.post(url, {**typed, "api_key_env": "", "max_in_flight": "2"}, follow=True)
    assert "Endpoint ollama added: prompts may now be sent to http://127.0.0.1:11434/v1." in as_read(
        added.content.decode()
    )
    assert Endpoint.objects.get().max_in_flight == 2


def test_an_owner_adds_a_rater_over_a_sample_after_asking_for_too_many(client, world):
    study = world["study"]
    client.force_login(world["owner"])
    fields = [field.pk for field in study.fields.filter(key__in=["scenario", "impact"])]
    typed = {
        "endpoint": world["endpoint"].pk,
        "name": "qwen",
        "fields": fields,
        "scope": "sample",
        "size": "9",
        "seed": "1",
        "samples": "5",
        "temperature": "0.7",
        "context_budget": "24000",
    }

    refused = client.post(reverse("llm:rater_new", args=[study.slug]), typed)
    assert refused.status_code == 422
    assert "Draw between 1 and 4 issues: the study has 4." in as_read(refused.content.decode())
    assert not ModelRater.objects.exists()

    added = client.post(reverse("llm:rater_new", args=[study.slug]), {**typed, "size": "3"}, follow=True)
    rater = ModelRater.objects.get()
    assert rater.issues.count() == 3 and sorted(rater.fields.values_list("key", flat=True)) == ["impact", "scenario"]
    assert "Model rater qwen added: it rates nothing until you run it." in as_read(added.content.decode())


def test_a_rater_over_a_round_needs_the_round_and_a_name_of_its_own(client, world):
    study = world["study"]
    client.force_login(world["owner"])
    typed = {
        "endpoint": world["endpoint"].pk,
        "name": "add",
        "fields": [study.fields.get(key="impact").pk],
        "scope": "round",
        "round_number": "1",
        "seed": "0",
        "samples": "1",
        "temperature": "0",
        "context_budget": "24000",
    }
    url = reverse("llm:rater_new", args=[study.slug])

    assert "“add” is taken by the page itself" in as_read(client.post(url, typed).content.decode())
    assert "This study has no calibration round 1." in as_read(
        client.post(url, {**typed, "name": "m"}).content.decode()
    )
    round_ = Round.objects.create(study=study, number=1, size=2, codebook_version_start=1)
    round_.issues.set(world["issues"][:2])
    client.post(url, {**typed, "name": "m"})
    assert ModelRater.objects.get(name="m").issues.count() == 2


def test_runs_start_one_at_a_time_pause_and_resume(client, world):
    study = world["study"]
    rater = model_rater(study, "qwen")
    ModelRun.objects.all().delete()
    client.force_login(world["owner"])
    start = reverse("llm:run_start", args=[study.slug, "qwen"])

    first = client.post(start, follow=True)
    run = ModelRun.objects.get()
    assert f"Run {run.pk} queued: the task worker starts it." in as_read(first.content.decode())
    again = client.post(start, follow=True)
    assert f"Run {run.pk} of qwen is still queued: pause it or wait for it." in as_read(again.content.decode())

    client.post(reverse("llm:run_pause", args=[study.slug, "qwen", run.pk]))
    run.refresh_from_db()
    assert run.status == "paused"
    page = client.get(reverse("llm:rater", args=[study.slug, "qwen"])).content.decode()
    assert "Resume" in page and "hx-trigger" not in page  # nothing to follow
    client.post(reverse("llm:run_resume", args=[study.slug, "qwen", run.pk]))
    run.refresh_from_db()
    assert run.status == "queued" and rater.runs.count() == 1
    row = client.get(reverse("llm:run_progress", args=[study.slug, "qwen", run.pk])).content.decode()
    assert row.lstrip().startswith(f'<tr id="run-{run.pk}"') and 'hx-trigger="every 1s"' in row


def test_the_log_holds_every_prompt_and_response_but_none_of_an_issue_its_reader_labels_blind(client, world):
    study, owner = world["study"], world["owner"]
    rater = model_rater(study, "qwen")
    run = rater.runs.get()
    blind, seen = world["issues"][:2]
    for study_issue in (blind, seen):
        ModelAnswer.objects.create(
            run=run,
            rater=rater,
            study_issue=study_issue,
            field=study.fields.get(key="impact"),
            prompt_hash="0" * 64,
            codebook_version=1,
            messages=[{"role": "user", "content": f"prompt of {study_issue.issue.number}"}],
            parameters={"temperature": 0.7},
            samples=[{"raw": f"raw of {study_issue.issue.number}", "value": 3, "error": ""}],
            value=3,
            confidence=1.0,
            model_version="qwen-7b fp_1",
        )
    # The owner labels the first issue too, and has not submitted: the model's answer on it is hidden from her.
    Assignment.objects.create(study=study, issue=blind.issue, annotator=owner, stage="labelling")
    client.force_login(owner)

    response = client.get(reverse("llm:run_log", args=[study.slug, "qwen", run.pk]))

    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert response["Content-Disposition"] == f'attachment; filename="{study.slug}-qwen-run-{run.pk}.jsonl"'
    assert [line["issue"] for line in lines] == [f"{seen.issue.repository.full_name}#{seen.issue.number}"]
    (line,) = lines
    assert line["messages"][0]["content"] == f"prompt of {seen.issue.number}"
    assert line["samples"][0]["raw"] == f"raw of {seen.issue.number}"
    assert (line["model_version"], line["value"], line["confidence"], line["field"]) == (
        "qwen-7b fp_1",
        3,
        1.0,
        "impact",
    )


@pytest.mark.parametrize("allowed", [True, False])
def test_adjudicators_see_model_values_as_suggestions_in_reconciliation_only_if_the_rater_allows(
    client, world, allowed
):
    study = world["study"]
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    annotator = MembershipFactory(study=study, role="annotator").user
    rater = model_rater(study, "qwen")
    rater.suggest_in_reconciliation = allowed
    rater.save()
    labelling, reconciled = world["issues"][:2]
    for study_issue, stage in ((labelling, IssueStage.LABELLING), (reconciled, IssueStage.RECONCILIATION)):
        study_issue.stage = stage
        study_issue.save()
        Assignment.objects.create(study=study, issue=study_issue.issue, annotator=annotator, stage="labelling")
        ModelAnswer.objects.create(
            run=rater.runs.get(),
            rater=rater,
            study_issue=study_issue,
            field=study.fields.get(key="impact"),
            prompt_hash="0" * 64,
            codebook_version=1,
            messages=[],
            value=3,
            confidence=0.8,
        )
    client.force_login(adjudicator)

    page = as_read(client.get(page_of(reconciled)).content.decode())

    assert ('data-suggestion="qwen"' in page) is allowed
    if allowed:
        assert "80% of its 3 samples" in page and "model suggestion" in page
    # Nobody meets them before reconciliation, nor an annotator who may not reconcile.
    assert client.get(page_of(labelling)).status_code == 200
    assert 'data-suggestion="qwen"' not in client.get(page_of(labelling)).content.decode()
    client.force_login(annotator)
    assert 'data-suggestion="qwen"' not in client.get(page_of(reconciled)).content.decode()
