"""Model raters walked in Chromium: an admin configures an endpoint (mistyping its key's variable first), an owner
adds a model rater, runs it through the task worker against a fake OpenAI-compatible server on 127.0.0.1, watches
the run finish, and reads the model against the humans; the annotators never reach any of it."""

import random
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from llm.models import ModelAnswer, ModelRun
from studies.codebook import codebook_load, preset
from studies.models import Annotation, Assignment, FinalValue, IssueStage
from tests.factories import AdminFactory, MembershipFactory, StudyIssueFactory, UserFactory
from tests.fake_model_server import FakeModelServer
from tests.helpers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_runs_a_model_rater_and_reads_it_against_the_humans(open_as, live_server, study, start_task_worker):
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner", user=UserFactory(username="alice")).user
    humans = [MembershipFactory(study=study, role="annotator").user for _ in range(2)]
    impact = study.fields.get(key="impact")
    rng = random.Random(1)
    fake = FakeModelServer()
    for _ in range(12):
        study_issue = StudyIssueFactory(study=study, stage=IssueStage.RECONCILIATION)
        level = rng.choice([1, 2, 3, 4])
        for human in humans:
            work = Assignment.objects.create(
                study=study, issue=study_issue.issue, annotator=human, stage="labelling", status="submitted"
            )
            Annotation.objects.create(assignment=work, field=impact, value=level)
        FinalValue.objects.create(study_issue=study_issue, field=impact, value=level)
        fake.answers[(study_issue.issue.number, impact.label)] = str(level)
    base = live_server.url

    with fake:
        # The admin: the key's variable mistyped, refused with the reason; then none (a local server).
        admin = open_as(AdminFactory())
        admin.goto(base + reverse("studies:list"))
        admin.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
        expect(admin.get_by_text("No endpoint: no model rates anything")).to_be_visible()
        admin.get_by_label("Name", exact=True).fill("local")
        admin.get_by_label("Base URL").fill(fake.base_url)
        admin.get_by_label("Model", exact=True).fill("qwen2.5-7b")
        admin.get_by_label("Key's environment variable").fill("my key")
        admin.get_by_label("Request budget").fill("500")
        admin.get_by_role("button", name="Add the endpoint").click()
        expect(admin.locator(".field-invalid")).to_contain_text("An environment variable's name")
        admin.get_by_label("Key's environment variable").fill("")
        admin.get_by_role("button", name="Add the endpoint").click()
        expect(admin.locator(".messages")).to_contain_text("Endpoint local added")

        # The owner adds a rater of Impact over every issue, three samples each, and runs it.
        alice = open_as(owner)
        alice.goto(base + reverse("studies:detail", args=[study.slug]))
        alice.get_by_role("link", name="Model raters →").click()
        alice.get_by_label("Name", exact=True).fill("qwen")
        alice.get_by_label("Impact", exact=True).check()
        alice.get_by_label("Samples per item (k)").fill("3")
        alice.get_by_role("button", name="Add the rater").click()
        expect(alice.get_by_role("heading", name="Model rater qwen")).to_be_visible()
        alice.get_by_role("button", name="Run", exact=True).click()
        expect(alice.locator(".messages")).to_contain_text("queued: the task worker starts it")
        start_task_worker()
        run = wait_until(
            lambda: ModelRun.objects.exclude(status__in=["queued", "running"]).first(),
            timeout=300,
            what="the task worker finishing the run",
        )
        assert run.status == "done", run.error
        row = alice.locator(f'[data-run="{run.pk}"]')
        expect(row).to_contain_text("done")  # the row followed the run by itself
        expect(row).to_contain_text("12 of 12")
        expect(row).to_contain_text("36")  # requests
        assert ModelAnswer.objects.filter(run=run, confidence=1.0).count() == 12

        # Against the humans: it gave the final values, so it agrees with each of them as they do.
        alice.goto(base + reverse("agreement:report", args=[study.slug]))
        alice.get_by_role("link", name=re.compile("^With models")).click()
        section = alice.locator('[data-field="impact"]')
        expect(section.locator('[data-pair="qwen|final values"]')).to_contain_text("1.000")
        expect(section.locator(f'[data-swap="qwen|{humans[0].username}"]')).to_contain_text("[0.000, 0.000]")
        expect(section.locator("[data-gate]")).to_contain_text("No gate set")
        section.get_by_text("The gate of").click()
        section.get_by_label("Swap difference within ±").fill("0.05")
        section.get_by_role("button", name="Save the gate").click()
        gate = alice.locator('[data-field="impact"] [data-gate]')
        expect(gate).to_contain_text("Gate not met")
        expect(gate).to_contain_text("Model–model agreement needs two model raters on this field.")

    # The annotators reach none of it.
    annotator = open_as(humans[0])
    for url in (reverse("llm:raters", args=[study.slug]), reverse("llm:rater", args=[study.slug, "qwen"])):
        assert annotator.goto(base + url).status == 404
