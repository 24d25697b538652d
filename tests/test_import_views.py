"""The Imports pages: upload, background run, progress, results, history; admins only."""

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from issues.models import ImportProblem, ImportRun, Issue
from issues.tasks import run_import
from studies.models import StudyIssue
from tests.factories import AdminFactory, ImportRunFactory, StudyFactory
from tests.helpers import rest_issue, upload, write_jsonl

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path) -> Path:
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_DIR


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run inside enqueue(), as the worker would run them."""
    settings.TASKS = IMMEDIATE


@pytest.fixture
def admin_client(client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def left_in(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def nonzero(counts: dict) -> dict:
    return {name: value for name, value in counts.items() if value}


# --- imports/ (history and upload form) ---


def test_it_shows_the_form_and_the_history(admin_client):
    run = ImportRunFactory()

    response = admin_client.get(reverse("issues:import_list"))

    assert response.status_code == 200
    assert 'type="file"' in response.text and "multiple" in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert run.get_absolute_url() in response.text


def test_it_lists_command_line_github_and_upload_runs(admin_client, admin_user):
    ImportRunFactory(source=ImportRun.Source.COMMAND, files=[{"name": "cli-dump.jsonl", "size": 10}])
    ImportRunFactory(source=ImportRun.Source.GITHUB, files=[{"name": "octo/widgets"}])
    ImportRunFactory(source=ImportRun.Source.UPLOAD, created_by=admin_user, options={"selection": {"state": "open"}})

    response = admin_client.get(reverse("issues:import_list"))

    for text in ["command line", "cli-dump.jsonl", "GitHub API", "octo/widgets", "web upload", admin_user.username]:
        assert text in response.text
    assert "state open" in response.text


def test_it_pages_the_history_by_25_newest_first(admin_client):
    runs = [ImportRunFactory() for _ in range(26)]

    first = admin_client.get(reverse("issues:import_list"))
    second = admin_client.get(reverse("issues:import_list") + "?page=2", headers={"HX-Request": "true"})

    assert runs[-1].get_absolute_url() + '"' in first.text
    assert runs[0].get_absolute_url() + '"' not in first.text
    assert "Page 1 of 2 (26 imports)" in first.text
    assert runs[0].get_absolute_url() + '"' in second.text
    assert "<html" not in second.text and 'id="import-history"' in second.text


def test_the_history_needs_the_same_queries_for_many_runs(admin_client, django_assert_max_num_queries):
    for _ in range(25):
        ImportRunFactory(created_by=AdminFactory())
    StudyFactory.create_batch(3)

    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("issues:import_list"))

    assert response.text.count("/imports/") >= 25


def test_it_redirects_anonymous_users_to_login(client):
    run = ImportRunFactory()
    for name, args in [
        ("import_list", []),
        ("import_detail", [run.pk]),
        ("import_progress", [run.pk]),
        ("import_errors", [run.pk]),
    ]:
        url = reverse(f"issues:{name}", args=args)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == f"{reverse('login')}?next={url}"


def test_imports_do_not_exist_for_researchers(client, researcher, tmp_path, upload_dir):
    run = ImportRunFactory()
    client.force_login(researcher)
    for name, args in [
        ("import_list", []),
        ("import_detail", [run.pk]),
        ("import_progress", [run.pk]),
        ("import_errors", [run.pk]),
    ]:
        assert client.get(reverse(f"issues:{name}", args=args)).status_code == 404, name

    response = upload(client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]))

    assert response.status_code == 404
    assert ImportRun.objects.count() == 1
    assert left_in(upload_dir) == []


def test_it_has_no_imports_link_for_researchers(client, researcher, admin_user):
    client.force_login(researcher)
    assert reverse("issues:import_list") not in client.get(reverse("studies:list")).text
    client.force_login(admin_user)
    assert reverse("issues:import_list") in client.get(reverse("studies:list")).text


def test_it_rejects_other_methods(admin_client):
    run = ImportRunFactory()
    assert admin_client.put(reverse("issues:import_list")).status_code == 405
    for name in ["import_detail", "import_progress", "import_errors"]:
        assert admin_client.post(reverse(f"issues:{name}", args=[run.pk])).status_code == 405, name


# --- uploading ---


def test_it_imports_an_uploaded_json_lines_file(admin_client, admin_user, immediate_tasks, tmp_path, upload_dir):
    dump = write_jsonl(tmp_path / "widgets.jsonl", [rest_issue(n) for n in (1, 2, 3)])

    response = upload(admin_client, dump)

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == run.get_absolute_url()
    assert (run.source, run.status, run.created_by) == (ImportRun.Source.UPLOAD, ImportRun.Status.DONE, admin_user)
    sha256 = hashlib.sha256(dump.read_bytes()).hexdigest()
    assert run.files == [{"name": "widgets.jsonl", "size": dump.stat().st_size, "sha256": sha256}]
    assert nonzero(run.counts) == {"created": 3}
    assert sorted(Issue.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert left_in(upload_dir) == [], "the task deletes the uploaded files"


def test_its_page_names_a_stray_file_and_the_option_on_the_page_that_reads_it(admin_client, immediate_tasks, tmp_path):
    dump = write_jsonl(tmp_path / "issues.jsonl", [rest_issue(1)])
    stray = tmp_path / "stray.txt"
    stray.write_bytes(b"#!")

    page = admin_client.get(upload(admin_client, dump, stray).url)

    assert "<td>stray.txt</td>" in page.text
    assert "choose its format in the Format option" in page.text
    assert "--format" not in page.text


def test_it_imports_a_gz_upload_and_several_files_at_once(admin_client, immediate_tasks, tmp_path):
    gz = write_jsonl(tmp_path / "a.jsonl.gz", [rest_issue(1), rest_issue(2)], compress=True)
    plain = write_jsonl(tmp_path / "b.jsonl", [rest_issue(3)])

    upload(admin_client, gz, plain)

    run = ImportRun.objects.get()
    assert [file["name"] for file in run.files] == ["a.jsonl.gz", "b.jsonl"]
    assert run.files[0]["sha256"] == hashlib.sha256(gz.read_bytes()).hexdigest()
    assert nonzero(run.counts) == {"created": 3}


def test_it_queues_the_run_with_its_options_for_the_worker(admin_client, tmp_path, upload_dir):
    study = StudyFactory()
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1, state="open"), rest_issue(2, state="closed")])

    upload(
        admin_client,
        dump,
        state="open",
        labels="type:bug, comp:core",
        repository="octo/widgets",
        study=study.slug,
        since="2024-01-01",
        sample="5",
        seed="7",
    )

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.QUEUED
    assert run.options == {
        "repository": "octo/widgets",
        "study": study.slug,
        "selection": {
            "labels": ["type:bug", "comp:core"],
            "state": "open",
            "since": "2024-01-01",
            "sample": 5,
            "seed": 7,
        },
    }
    task = DBTaskResult.objects.get()
    assert task.task_path == "issues.tasks.run_import"
    [name] = task.args_kwargs["args"][1]
    assert (upload_dir / name).read_bytes() == dump.read_bytes(), "kept in the upload storage for the worker"
    assert not left_in(upload_dir / "incoming")


def test_the_task_imports_the_queued_files_with_their_options_and_deletes_them(admin_client, tmp_path, upload_dir):
    study = StudyFactory()
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1, state="open"), rest_issue(2, state="closed")])
    upload(admin_client, dump, state="open", study=study.slug)
    args = DBTaskResult.objects.get().args_kwargs["args"]

    run_import.call(*args)

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE
    assert nonzero(run.counts) == {"created": 1, "skipped: filtered out": 1}
    assert list(StudyIssue.objects.values_list("study", "issue__number")) == [(study.pk, 1)]
    assert left_in(upload_dir) == []


def test_uploads_wait_in_any_storage_backend_the_settings_name(admin_client, tmp_path, upload_dir, settings):
    """An object store has no local paths: the worker imports from a copy, then deletes the stored file."""
    settings.STORAGES = {**settings.STORAGES, "imports": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    storage = storages["imports"]
    dump = write_jsonl(tmp_path / "d.jsonl", [rest_issue(1), rest_issue(2)])
    upload(admin_client, dump)
    [name] = DBTaskResult.objects.get().args_kwargs["args"][1]
    assert storage.open(name).read() == dump.read_bytes()
    assert not left_in(upload_dir / "incoming")

    run_import.call(*DBTaskResult.objects.get().args_kwargs["args"])

    assert nonzero(ImportRun.objects.get().counts) == {"created": 2}
    assert not storage.exists(name)


def test_the_task_does_not_run_a_run_twice(admin_client, immediate_tasks, tmp_path):
    upload(admin_client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]))
    run = ImportRun.objects.get()

    run_import.call(run.pk, [], run.options)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE and nonzero(run.counts) == {"created": 1}


def test_it_redirects_htmx_with_a_header(admin_client, immediate_tasks, tmp_path):
    response = upload(admin_client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), htmx=True)

    assert response.headers["HX-Redirect"] == ImportRun.objects.get().get_absolute_url()


def test_it_refuses_a_file_over_the_size_limit(admin_client, settings, tmp_path, upload_dir):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    small = write_jsonl(tmp_path / "small.jsonl", [{"a": 1}])
    large = write_jsonl(tmp_path / "large.jsonl", [rest_issue(n) for n in range(1, 50)])

    response = upload(admin_client, small, large, labels="kept")

    assert response.status_code == 422
    assert f"The file large.jsonl is larger than the {filesizeformat(100)} limit." in response.content.decode()
    assert 'value="kept"' in response.text, "the other fields are still read"
    assert not ImportRun.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert left_in(upload_dir) == []


def test_it_checks_the_csrf_token_after_installing_its_upload_handler(admin_user, immediate_tasks, tmp_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    client.get(reverse("issues:import_list"))

    token = client.cookies["csrftoken"].value
    response = upload(client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), csrfmiddlewaretoken=token)

    assert response.status_code == 302
    assert ImportRun.objects.get().files[0]["sha256"], "streamed through ImportUploadHandler"


def test_it_refuses_an_upload_without_a_csrf_token_and_keeps_nothing(admin_user, tmp_path, upload_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = upload(client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]))

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
    assert left_in(upload_dir) == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"since": "2024-05-01", "until": "2024-01-01"}, "This date is before “Created on or after”."),
        ({"sample": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"repository": "just-a-name"}, "A repository is written owner/name, not &#x27;just-a-name&#x27;."),
        ({"state": "merged"}, "Select a valid choice."),
        ({"since": "yesterday"}, "Enter a valid date."),
    ],
)
def test_it_shows_bad_filters_as_form_errors(admin_client, tmp_path, upload_dir, fields, error):
    response = upload(admin_client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), **fields)

    assert response.status_code == 422
    assert error in response.text
    assert not ImportRun.objects.exists()
    assert left_in(upload_dir) == []


def test_it_asks_for_a_file(admin_client):
    response = admin_client.post(reverse("issues:import_list"), {"state": "all"})

    assert "Choose one or more dump files." in response.text
    assert not ImportRun.objects.exists()


def test_it_returns_only_the_form_with_its_errors_to_htmx(admin_client, tmp_path):
    response = upload(admin_client, write_jsonl(tmp_path / "d.jsonl", [rest_issue(1)]), htmx=True, sample="0")

    assert response.status_code == 422  # swapped in all the same (base.html's htmx-config)
    assert response.text.lstrip().startswith('<form id="import-form"')
    assert "greater than or equal to 1" in response.text


# --- imports/<pk>/ and its progress ---


def test_it_shows_a_ImportRunFactory(admin_client, admin_user):
    run = ImportRunFactory(
        created_by=admin_user,
        options={"format": "jsonl", "strict": True, "selection": {"any_labels": ["a", "b"]}},
        counts={"created": 5, "updated": 2, "skipped: pull request": 3, "comments created": 4, "failed": 1},
    )
    ImportProblem.objects.create(run=run, source="dump.jsonl", location="line 9", reason="not JSON")

    response = admin_client.get(run.get_absolute_url())

    assert response.status_code == 200
    text = response.text
    expected = ["created", "skipped: pull request", "comments created", "dump.jsonl", "ab" * 32, "1.2\xa0KB"]
    expected += ["labels (any of)", "a, b", "strict", admin_user.username, "line 9", "not JSON"]
    for part in expected:
        assert part in text, part
    assert reverse("issues:import_errors", args=[run.pk]) in text
    assert 'hx-trigger="every 1s"' not in text


def test_it_shows_why_a_run_failed(admin_client):
    run = ImportRunFactory(status=ImportRun.Status.FAILED, error="2 bad records: nothing was imported (strict mode).")

    response = admin_client.get(run.get_absolute_url())

    assert "2 bad records: nothing was imported (strict mode)." in response.text


def test_it_polls_while_a_run_is_going(admin_client):
    run = ImportRunFactory(
        status=ImportRun.Status.RUNNING,
        finished_at=None,
        started_at=timezone.now() - timedelta(seconds=10),
        bytes_total=4_000_000,
        bytes_read=1_000_000,
        records_read=2_000,
        counts={},
    )

    response = admin_client.get(reverse("issues:import_progress", args=[run.pk]), headers={"HX-Request": "true"})

    text = response.text
    assert "<html" not in text
    assert f'hx-get="{reverse("issues:import_progress", args=[run.pk])}"' in text
    assert 'hx-trigger="every 1s"' in text
    assert '<progress class="import-bar" max="100" value="25"' in text
    assert "2,000 records" in text and "200 records/s" in text
    assert "about 30 s left" in text


def test_the_detail_page_polls_a_queued_run(admin_client):
    run = ImportRun.objects.create(source=ImportRun.Source.UPLOAD)

    response = admin_client.get(run.get_absolute_url())

    assert 'hx-trigger="every 1s"' in response.text
    assert "Waiting for the task worker" in response.text


def test_it_stops_polling_when_the_run_is_finished(admin_client):
    run = ImportRunFactory(counts={"created": 300})

    response = admin_client.get(reverse("issues:import_progress", args=[run.pk]), headers={"HX-Request": "true"})

    assert 'id="import-progress"' in response.text
    assert "hx-trigger" not in response.text and "hx-get" not in response.text
    assert '<th scope="row">created</th><td class="number">300</td>' in response.text


def test_a_missing_run_is_404(admin_client):
    for name in ["import_detail", "import_progress", "import_errors"]:
        assert admin_client.get(reverse(f"issues:{name}", args=[999_999])).status_code == 404


# --- imports/<pk>/errors.csv ---


def test_it_downloads_the_bad_records_as_csv(admin_client, immediate_tasks, tmp_path):
    dump = tmp_path / "broken.jsonl"
    dump.write_text(f"{rest_issue(1)!r}\n".replace("'", '"').replace("None", "null") + "{not json\n")
    upload(admin_client, dump)
    run = ImportRun.objects.get()

    response = admin_client.get(reverse("issues:import_errors", args=[run.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="import-{run.pk}-errors.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["file", "where", "reason"]
    assert len(rows) == 2
    assert rows[1][:2] == ["broken.jsonl", "line 2"]
    assert nonzero(run.counts) == {"created": 1, "failed": 1}
