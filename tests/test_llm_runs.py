"""Model raters' runs (llm/runs.py, llm/client.py, llm/prompts.py) against a fake OpenAI-compatible server on
127.0.0.1 that misbehaves on cue: slow answers, malformed JSON, refusals, 429 with Retry-After, 500s, 401."""

import pytest
from django.core.management import CommandError, call_command

from issues.models import IssueComment
from llm.models import Endpoint, ModelAnswer, ModelRater, ModelRun
from llm.runs import run_execute, run_pause, run_queue, run_resume
from studies.codebook import codebook_load, field_update, preset
from tests.factories import IssueFactory, MembershipFactory, StudyIssueFactory
from tests.fake_model_server import FakeModelServer, PerSeed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.LLM_RETRY_BACKOFF_SECONDS = 0.01


@pytest.fixture
def server():
    with FakeModelServer() as fake:
        yield fake


@pytest.fixture
def world(study, server):
    codebook_load(study, preset("silent-bugs"), screening=False)
    study.guidelines = "Label only what the issue shows."
    study.save()
    owner = MembershipFactory(study=study, role="owner").user
    endpoint = Endpoint.objects.create(
        name="local", base_url=server.base_url, model="qwen-7b", request_budget=10_000, max_in_flight=4
    )
    issues = [StudyIssueFactory(study=study) for _ in range(3)]
    rater = ModelRater.objects.create(study=study, endpoint=endpoint, name="qwen", samples=3, temperature=0.5)
    fields = {field.key: field for field in study.fields.all()}
    rater.fields.set([fields["scenario"], fields["impact"]])
    rater.issues.set(issues)
    for study_issue in issues:
        server.answers[(study_issue.issue.number, "Scenario")] = "Wrong shape"
        server.answers[(study_issue.issue.number, "Impact")] = "3"
    return {"study": study, "owner": owner, "endpoint": endpoint, "rater": rater, "issues": issues, "fields": fields}


def queued_run(world) -> ModelRun:
    return ModelRun.objects.create(rater=world["rater"], created_by=world["owner"])


def answer(run, study_issue, key) -> ModelAnswer:
    return ModelAnswer.objects.get(run=run, study_issue=study_issue, field__key=key)


def test_it_asks_every_field_of_every_issue_k_times_and_keeps_the_majority_and_its_confidence(world, server):
    first = world["issues"][0]
    server.answers[(first.issue.number, "Scenario")] = PerSeed(["Wrong shape", "Wrong calculation", "Wrong shape"])

    run = run_execute(queued_run(world).pk)

    assert (run.status, run.items_total, run.items_done, run.items_failed, run.requests) == ("done", 6, 6, 0, 18)
    assert run.prompt_tokens > 0 and run.completion_tokens == 18 * 12
    split = answer(run, first, "scenario")
    assert (split.value, split.confidence) == ("Wrong shape", pytest.approx(2 / 3))
    assert [sample["value"] for sample in split.samples] == ["Wrong shape", "Wrong calculation", "Wrong shape"]
    impact = answer(run, world["issues"][1], "impact")
    assert (impact.value, impact.confidence) == (3, 1.0)  # stored as an annotator's level is
    assert impact.model_version == "fake-model-1 fp_test" and impact.codebook_version == 1
    assert sorted(
        request["body"]["seed"] for request in server.requests if request["issue"] == first.issue.number
    ) == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]


def test_the_prompt_holds_the_guidelines_the_definitions_and_the_issue_and_the_schema_holds_only_the_choices(
    world, server
):
    run = run_execute(queued_run(world).pk)

    scenario = answer(run, world["issues"][0], "scenario")
    prompt = scenario.messages[-1]["content"]
    field = world["fields"]["scenario"]
    assert "Label only what the issue shows." in prompt
    assert f"# The question: {field.label}" in prompt and field.definition.strip()[:60] in prompt
    for choice in field.choices.all():
        assert f"`{choice.value}`" in prompt
    assert world["issues"][0].issue.title in prompt
    sent = next(r["body"] for r in server.requests if "Scenario" in r["body"]["messages"][-1]["content"])
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["value"]["enum"] == [choice.value for choice in field.choices.all()]
    assert (sent["model"], sent["temperature"]) == ("qwen-7b", 0.5)


def test_an_invalid_answer_is_asked_once_more_then_recorded_as_failed_with_the_reason(world, server):
    one, two = world["issues"][:2]
    world["rater"].fields.set([world["fields"]["scenario"]])
    server.script[one.issue.number] = ["malformed"]  # the retry answers
    server.script[two.issue.number] = ["invalid", "invalid", "refuse", "refuse", "malformed", "malformed"]

    run = run_execute(queued_run(world).pk)

    recovered = answer(run, one, "scenario")
    assert (recovered.value, recovered.confidence, recovered.samples[0]["requests"]) == ("Wrong shape", 1.0, 2)
    failed = answer(run, two, "scenario")
    assert failed.value is None and failed.confidence is None
    assert "is not a value of" in failed.failed and "refused: I can't help with that." in failed.failed
    assert "not JSON" in failed.failed and "(after one retry)" in failed.failed
    assert (run.status, run.items_failed, run.requests) == ("done", 1, 3 + 4 + 6)


def test_it_waits_out_a_429_and_retries_server_errors_and_timeouts(world, server):
    world["rater"].fields.set([world["fields"]["scenario"]])
    endpoint = world["endpoint"]
    endpoint.timeout_seconds = 1
    endpoint.save()
    one, two, three = world["issues"]
    server.script[one.issue.number] = ["429", "429"]
    server.script[two.issue.number] = ["500", "slow"]
    server.script[three.issue.number] = ["slow"] * 4  # one try and three retries, all too slow

    run = run_execute(queued_run(world).pk)

    assert answer(run, one, "scenario").value == answer(run, two, "scenario").value == "Wrong shape"
    lost = answer(run, three, "scenario")
    assert lost.samples[0]["error"] == "no answer within 1 s (4 tries)"
    assert lost.value == "Wrong shape" and lost.confidence == pytest.approx(2 / 3)  # seeds 1 and 2 answered


def test_a_refused_key_stops_the_run_with_the_reason(world, server):
    server.script[world["issues"][0].issue.number] = ["401"]

    run = run_execute(queued_run(world).pk)

    assert run.status == "failed"
    assert run.error.startswith("local answered 401: the key was refused.")


def test_a_redirect_is_not_followed_to_another_host(world, server):
    server.script[world["issues"][0].issue.number] = ["redirect"]

    run = run_execute(queued_run(world).pk)

    assert run.status == "failed" and run.error.startswith("local answered 302")


def test_the_key_comes_from_the_named_environment_variable_and_a_missing_one_is_said(world, server, monkeypatch):
    endpoint = world["endpoint"]
    endpoint.api_key_env = "ANNOTATOR_TEST_MODEL_KEY"
    endpoint.save()

    run = run_execute(queued_run(world).pk)
    assert run.status == "failed" and "ANNOTATOR_TEST_MODEL_KEY" in run.error and not server.requests

    monkeypatch.setenv("ANNOTATOR_TEST_MODEL_KEY", "sk-test")
    run = run_execute(queued_run(world).pk)
    assert run.status == "done"
    assert {request["headers"]["Authorization"] for request in server.requests} == {"Bearer sk-test"}


def test_an_unchanged_item_reuses_its_answer_and_a_codebook_change_asks_again(world, server):
    first = run_execute(queued_run(world).pk)
    asked = len(server.requests)

    again = run_execute(queued_run(world).pk)
    assert len(server.requests) == asked  # nothing asked
    assert (again.items_done, again.items_reused, again.requests) == (6, 6, 0)
    reused = answer(again, world["issues"][0], "scenario")
    assert reused.reused_from == answer(first, world["issues"][0], "scenario") and reused.value == "Wrong shape"

    field_update(world["fields"]["scenario"], {"definition": "A sharper definition."}, user=world["owner"])
    third = run_execute(queued_run(world).pk)
    assert (third.items_reused, third.requests) == (0, 18)  # the codebook version is part of every prompt's key
    assert "A sharper definition." in answer(third, world["issues"][0], "scenario").messages[-1]["content"]


def test_a_used_up_budget_pauses_the_run_and_counts_every_request(world, server):
    endpoint = world["endpoint"]
    endpoint.request_budget = 5
    endpoint.max_in_flight = 1
    endpoint.save()

    run = run_execute(queued_run(world).pk)

    endpoint.refresh_from_db()
    assert run.status == "paused" and "budget is used up" in run.error
    assert endpoint.requests_sent == 5 == len(server.requests)


def test_a_resumed_run_asks_only_what_it_has_not_stored(world, server, django_capture_on_commit_callbacks):
    run = queued_run(world)
    run_pause(run)
    run.refresh_from_db()
    assert run.status == "paused"
    with django_capture_on_commit_callbacks():
        run_resume(run)
    run.refresh_from_db()
    assert run.status == "queued"
    # As if the run had stored the first issue's answers before it was paused.
    server.script = {}
    run_execute(run.pk)  # the task
    stored = ModelAnswer.objects.filter(run=run).count()
    ModelAnswer.objects.filter(run=run, study_issue=world["issues"][2]).delete()
    # Its worker was killed after the last save: it counted fewer items than it stored.
    ModelRun.objects.filter(pk=run.pk).update(status="queued", items_done=1)
    asked = len(server.requests)

    run = run_execute(run.pk)

    assert stored == 6 and len(server.requests) - asked == 2 * 3
    assert (run.status, run.items_done) == ("done", 6)


def test_a_second_run_waits_for_the_first(world):
    run_queue(world["rater"], world["owner"])
    with pytest.raises(Exception, match="is still queued: pause it or wait for it"):
        run_queue(world["rater"], world["owner"])


def test_the_issue_is_cut_to_the_context_budget_and_the_cut_is_recorded(world, server):
    rater = world["rater"]
    rater.context_budget = 2_000
    rater.save()
    issue = IssueFactory(body="A long body. " * 500)
    for n in range(20):
        IssueComment.objects.create(issue=issue, author_login=f"user{n}", body=f"Comment {n}. " * 20, payload={})
    study_issue = StudyIssueFactory(study=world["study"], issue=issue)
    rater.issues.set([study_issue])
    server.answers[(issue.number, "Scenario")] = "Wrong shape"
    server.answers[(issue.number, "Impact")] = "2"

    run = run_execute(queued_run(world).pk)

    stored = answer(run, study_issue, "scenario")
    issue_part = stored.messages[-1]["content"].split("# The issue:")[1]
    assert len(issue_part) < 2_000 + 200  # the budget, and the notes saying what was cut
    assert stored.cut["body_characters"] > 5_000 and 0 < stored.cut["comments"] < 20
    assert "Comment 0." in issue_part and "more comments cut" in issue_part


def test_it_sends_no_more_requests_at_once_than_the_endpoint_allows(world):
    with FakeModelServer(latency=0.05) as slow:
        endpoint = world["endpoint"]
        endpoint.base_url, endpoint.max_in_flight = slow.base_url, 3
        endpoint.save()
        for study_issue in world["issues"]:
            slow.answers[(study_issue.issue.number, "Scenario")] = "Wrong shape"
            slow.answers[(study_issue.issue.number, "Impact")] = "3"

        run = run_execute(queued_run(world).pk)

    assert run.status == "done" and slow.most_in_flight == 3


def test_the_command_runs_a_rater_here_and_says_how_it_went(world, server, capsys):
    call_command("model_run", "--study", world["study"].slug, "--rater", "qwen")

    output = capsys.readouterr().out
    run = ModelRun.objects.get()
    assert output.strip().endswith(
        f"Run {run.pk}: done. 6 of 6 items (0 reused, 0 failed), 18 requests, {run.prompt_tokens:,} prompt and "
        "216 completion tokens."
    )
    with pytest.raises(CommandError, match="No model rater 'gpt' in study"):
        call_command("model_run", "--study", world["study"].slug, "--rater", "gpt")
