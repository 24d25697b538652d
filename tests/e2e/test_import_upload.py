"""An admin uploads a dump in Chromium; the real task worker imports it while the page follows."""

import gzip
import json
import re

import pytest
from playwright.sync_api import Page, expect

from issues.models import ImportRun, Issue
from tests.factories import AdminFactory, UserFactory
from tests.helpers import csp_violations, log_in, rest_issue, wait_until, write_jsonl

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def the_worker_finishes() -> ImportRun:
    """The run, once the worker is done with it. It starts Django, connects and imports: seconds, or a minute or
    more on a loaded machine, hence the generous deadline (the page, which polls every second, follows)."""
    return wait_until(
        lambda: ImportRun.objects.exclude(status__in=["queued", "running"]).first(),
        timeout=300,
        what="the task worker finishing the import",
    )


def test_an_admin_uploads_a_dump_and_watches_the_worker_import_it(
    page: Page, live_server, start_task_worker, tmp_path
):
    admin = AdminFactory()
    issues = [rest_issue(number, repo="deepflow/deepflow") for number in range(1, 301)]
    dump = write_jsonl(tmp_path / "deepflow-issues.jsonl", issues)
    log_in(page, live_server, admin)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    page.get_by_label("Dump files").set_input_files(dump)
    page.get_by_label("Include pull requests").check()
    page.get_by_role("button", name="Import", exact=True).click()

    # Queued: no worker yet. The page polls for progress from here on.
    expect(page).to_have_url(re.compile(rf"^{live_server.url}/imports/\d+/$"))
    expect(page.get_by_text("Waiting for the task worker")).to_be_visible()
    bar = page.locator("progress.import-bar")
    expect(bar).to_have_attribute("value", "0")
    page.evaluate("window.__sameDocument = true")
    start_task_worker()

    # The run itself first, then the page, which polls every second.
    finished = the_worker_finishes()
    assert finished.status == "done", finished.error
    expect(page.get_by_role("row", name="created 300")).to_be_visible(timeout=30_000)
    expect(bar).to_have_attribute("value", "100")
    expect(page.get_by_role("heading", name="Result done")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "htmx swapped the result in; no reload"
    run = ImportRun.objects.get()
    assert (run.status, run.created_by, run.files[0]["name"]) == ("done", admin, "deepflow-issues.jsonl")
    assert run.options == {"selection": {"include_prs": True}}
    assert Issue.objects.count() == 300

    page.get_by_role("link", name="Imports").first.click()
    expect(page.get_by_role("link", name=f"Import {run.pk}")).to_be_visible()
    expect(page.get_by_role("cell", name="deepflow-issues.jsonl")).to_be_visible()
    assert csp_violations(page) == []


def test_an_admin_uploads_a_folder_with_a_stray_file_and_the_page_names_it(
    page: Page, live_server, start_task_worker, tmp_path
):
    admin = AdminFactory()
    dump = write_jsonl(tmp_path / "issues.jsonl", [rest_issue(number) for number in (1, 2)])
    stray = tmp_path / "stray.txt"
    stray.write_bytes(b"#!")  # a 2-byte file that was in the folder
    log_in(page, live_server, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()

    page.get_by_label("Dump files").set_input_files([dump, stray])
    page.get_by_role("button", name="Import", exact=True).click()
    start_task_worker()

    the_worker_finishes()
    problem = page.get_by_role("row", name=re.compile(r"^stray\.txt the whole file"))
    expect(problem).to_be_visible(timeout=30_000)
    expect(problem).to_contain_text("choose its format in the Format option")
    expect(page.locator("main")).not_to_contain_text("--format")
    expect(page.get_by_role("row", name="created 2")).to_be_visible()
    assert Issue.objects.count() == 2
    assert csp_violations(page) == []


def test_an_admin_uploads_a_dump_holding_bombs_and_the_page_names_them_while_the_good_issues_import(
    page: Page, live_server, start_task_worker, tmp_path
):
    admin = AdminFactory()
    lines = [json.dumps(rest_issue(number)).encode() for number in (1, 3)]
    deep = tmp_path / "deep.jsonl"
    deep.write_bytes(lines[0] + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n" + lines[1] + b"\n")
    huge = tmp_path / "huge.jsonl.gz"  # one line of 1 GB, in 1 MB: gzip members back to back
    huge.write_bytes(
        gzip.compress(json.dumps(rest_issue(4)).encode() + b'\n{"title": "')
        + gzip.compress(b"a" * 1024**2) * 1024
        + gzip.compress(b'"}\n')
    )
    log_in(page, live_server, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()

    page.get_by_label("Dump files").set_input_files([deep, huge])
    page.get_by_role("button", name="Import", exact=True).click()
    start_task_worker()

    finished = the_worker_finishes()
    assert finished.status == "done", finished.error
    too_deep = page.get_by_role("row", name=re.compile(r"^deep\.jsonl line 2"))
    expect(too_deep).to_be_visible(timeout=30_000)
    expect(too_deep).to_contain_text("nested deeper than 64 levels")
    bomb = page.get_by_role("row", name=re.compile(r"^huge\.jsonl\.gz at the limit"))
    expect(bomb).to_contain_text("decompresses more than 200 times its size")
    expect(page.get_by_role("row", name="created 3")).to_be_visible()
    assert sorted(Issue.objects.values_list("number", flat=True)) == [1, 3, 4]


def test_an_admin_uploads_a_file_whose_name_is_too_long_renames_it_and_it_imports(page: Page, live_server, tmp_path):
    """The mistake: a dump named by a script with every option in it, 300 characters, more than a disk takes."""
    dump = write_jsonl(tmp_path / "deepflow.jsonl", [rest_issue(1, repo="deepflow/deepflow")])
    long_name = "deepflow-issues-" + "state-all-labels-bug-" * 13 + "x" * 8 + ".jsonl"
    assert len(long_name) == 303
    log_in(page, live_server, AdminFactory())
    page.goto(f"{live_server.url}/imports/")

    files = page.get_by_label("Dump files")
    files.set_input_files({"name": long_name, "mimeType": "application/json", "buffer": dump.read_bytes()})
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_text("is too long (303 characters); rename the file")).to_be_visible()
    assert not ImportRun.objects.exists()

    page.get_by_label("Dump files").set_input_files(dump)
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page).to_have_url(re.compile(rf"^{live_server.url}/imports/\d+/$"))
    assert ImportRun.objects.get().files[0]["name"] == "deepflow.jsonl"
    assert csp_violations(page) == []


def test_an_admin_uploads_json_lines_of_long_issues_with_a_cut_line_and_the_page_names_that_line(
    page: Page, live_server, start_task_worker, tmp_path
):
    """Real issues weigh more than 4 KB a line: the dump is still read line by line. The mistake: a line cut
    where the script that wrote the dump was interrupted and started again."""
    issues = [rest_issue(number, body="Traceback line\n" * 400) for number in range(1, 5)]
    lines = [json.dumps(issue) for issue in issues]
    dump = tmp_path / "tf-issues.jsonl"
    dump.write_text("\n".join([lines[0], lines[1][:3000], *lines[1:]]) + "\n")
    log_in(page, live_server, AdminFactory())
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()

    page.get_by_label("Dump files").set_input_files(dump)
    page.get_by_role("button", name="Import", exact=True).click()
    start_task_worker()

    finished = the_worker_finishes()
    assert finished.status == "done", finished.error
    cut = page.get_by_role("row", name=re.compile(r"^tf-issues\.jsonl line 2"))
    expect(cut).to_be_visible(timeout=30_000)
    expect(cut).to_contain_text("not valid JSON")
    expect(page.get_by_role("row", name="created 4")).to_be_visible()
    assert sorted(Issue.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert csp_violations(page) == []


def test_an_admin_uploads_the_same_dump_twice_by_mistake_then_a_newer_one(
    page: Page, live_server, start_task_worker, open_as, tmp_path
):
    """The second upload finds every issue unchanged and duplicates nothing; a newer dump updates what changed."""
    admin = AdminFactory()
    dump = write_jsonl(tmp_path / "keras-issues.jsonl", [rest_issue(n, repo="keras/keras") for n in range(1, 201)])
    log_in(page, live_server, admin)
    start_task_worker()

    def upload(path) -> None:
        page.goto(f"{live_server.url}/imports/")
        page.get_by_label("Dump files").set_input_files(path)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("heading", name="Result done")).to_be_visible(timeout=300_000)

    upload(dump)
    expect(page.get_by_role("row", name="created 200")).to_be_visible()

    upload(dump)  # the same file again, by mistake
    expect(page.get_by_role("row", name="unchanged 200")).to_be_visible()
    expect(page.get_by_role("row", name="created 0")).to_be_visible()
    assert Issue.objects.count() == 200

    newer = [rest_issue(n, repo="keras/keras") for n in range(1, 201)]
    newer[6] = rest_issue(7, repo="keras/keras", title="Retitled on GitHub", updated_at="2024-05-01T00:00:00Z")
    upload(write_jsonl(tmp_path / "keras-issues-newer.jsonl", newer))
    expect(page.get_by_role("row", name="updated 1")).to_be_visible()
    expect(page.get_by_role("row", name="unchanged 199")).to_be_visible()
    assert Issue.objects.get(number=7).title == "Retitled on GitHub"
    assert csp_violations(page) == []

    # A researcher who is not an admin neither finds the Imports page nor opens a run by its address.
    researcher = open_as(UserFactory())
    expect(researcher.get_by_role("navigation", name="Main").get_by_role("link", name="Imports")).to_have_count(0)
    run = ImportRun.objects.latest("pk")
    for address in ("/imports/", f"/imports/{run.pk}/"):
        assert researcher.goto(f"{live_server.url}{address}").status == 404
    expect(researcher.get_by_text("Retitled on GitHub")).to_have_count(0)
