"""An owner loads a codebook file in Chromium: first one nested far too deep (a file that is not a codebook at all),
refused by name with nothing loaded; then the real one."""

import pytest
from playwright.sync_api import Page, expect

from studies.codebook import PRESETS_DIR
from tests.factories import MembershipFactory, StudyFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_loads_a_file_nested_too_deep_sees_why_then_loads_the_codebook(page: Page, live_server, tmp_path):
    study = StudyFactory()
    owner = MembershipFactory(study=study, role="owner").user
    deep = tmp_path / "codebook.json"
    deep.write_text('{"format": "annotator-codebook", "fields": ' + "[" * 100_000 + "]" * 100_000 + "}")
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/studies/{study.slug}/codebook/")

    page.get_by_label("Codebook JSON").set_input_files(deep)
    page.get_by_role("button", name="Load", exact=True).click()

    expect(page.get_by_text("The codebook file is nested more than 10 levels deep")).to_be_visible()
    assert not study.fields.exists()

    page.get_by_label("Codebook JSON").set_input_files(PRESETS_DIR / "silent-bugs.json")
    page.get_by_role("button", name="Load", exact=True).click()

    expect(page.get_by_text("Codebook loaded.")).to_be_visible()
    assert study.fields.filter(key="impact").exists()
    assert csp_violations(page) == []
