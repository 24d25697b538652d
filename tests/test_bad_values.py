"""Bad values, for every kind of codebook field: refused with a message that names the field and the value, and
nothing of them stored — through the annotation page, the annotation import and the codebook file; also the texts
of the reconciliation page, and an issue dump's html_url (the one value of a dump our pages use as a link).

Covered elsewhere and not repeated here: clean_value's own refusals (tests/test_codebook.py: a choice not in the
codebook, a maximum, repeats, a level out of range, a bad vote, URL, SHA, version); a wrong value on the page
(tests/test_annotate_views.py: too many choices); the import's unknown issue, user, field, choice, stage and repeats
(tests/test_annotation_import.py); a codebook without its format, with a bad kind, key, choice or level
(tests/test_codebook.py); NUL and invalid UTF-8 in issue dumps (tests/test_import_bad_input.py).
"""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from issues.models import Issue
from studies.codebook import codebook_export, codebook_load, preset
from studies.models import Annotation, Assignment, Choice, CodebookField, DiscussionComment, FinalValue, Stage
from tests.factories import (
    AssignmentFactory,
    CodebookFieldFactory,
    IssueFactory,
    MembershipFactory,
    StudyIssueFactory,
)
from tests.helpers import FormPage, as_read, import_paths, label, page, problems, rest_issue, write_json, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(study):
    """The silent-bugs codebook plus a free-text, a vote, a URL list and a version field; one issue assigned to
    "ann", not started."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    CodebookFieldFactory(study=study, key="summary", label="Summary", kind=CodebookField.Kind.TEXT)
    CodebookFieldFactory(study=study, key="works", label="Works as documented", kind=CodebookField.Kind.VOTE)
    CodebookFieldFactory(study=study, key="links", label="Reproduction links", kind=CodebookField.Kind.URLS)
    CodebookFieldFactory(study=study, key="found_in", label="Found in", kind=CodebookField.Kind.VERSION)
    issue = IssueFactory(repository__owner="tf", repository__name="tf")
    StudyIssueFactory(study=study, issue=issue)
    annotator = MembershipFactory(study=study, role="annotator", user__username="ann").user
    assignment = AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    owner = MembershipFactory(study=study, role="owner").user
    return study, issue, assignment, owner


def database_state(study) -> dict:
    """Everything a refused value could have left behind."""
    return {
        "annotations": list(Annotation.objects.values_list("field__key", "value", "note", "uncertain", "version")),
        "assignments": list(Assignment.objects.values_list("status", "started_at", "submitted_at")),
        "stages": list(study.study_issues.values_list("issue_id", "stage")),
        "users": sorted(get_user_model().objects.values_list("username", flat=True)),
        "codebook": codebook_export(study),
    }


# --- the annotation page ---

SAVE_CASES = [
    (
        "single, Other with a NUL",
        "scenario",
        {"value": "__other__", "other": "dtype\x00"},
        "“Other” of Scenario contains a NUL character (\\x00), which cannot be stored.",
    ),
    (
        "single, Other too long to become a choice",
        "scenario",
        {"value": "__other__", "other": "x" * 201},
        "“Other” of Scenario is at most 200 characters, not 201.",
    ),
    (
        "multiple, a choice not in the codebook",
        "component",
        {"value": ["Engine", "Keras"]},
        "'Keras' is not a value of Component.",
    ),
    ("ordinal, out of range", "impact", {"value": "5"}, "Impact is a level from 1, 2, 3, 4, not '5'."),
    ("ordinal, a digit that is not 0-9", "impact", {"value": "²"}, "Impact is a level from 1, 2, 3, 4, not '²'."),
    ("vote, neither yes nor no", "works", {"vote": "maybe"}, "A vote is yes or no; Works as documented got 'maybe'."),
    (
        "vote, a comment with a NUL",
        "works",
        {"vote": "yes", "comment": "silent\x00"},
        "The comment on Works as documented contains a NUL character",
    ),
    ("text, a NUL", "summary", {"value": "wrong\x00loss"}, "Summary contains a NUL character"),
    ("text, too long", "summary", {"value": "x" * 10_001}, "Summary is at most 10,000 characters, not 10,001."),
    ("version, a NUL", "found_in", {"value": "2.1\x00"}, "Found in contains a NUL character"),
    (
        "urls, not http",
        "links",
        {"value": "https://gist.github.com/a/1\njavascript:alert(1)"},
        "Enter a valid URL (http or https) in Reproduction links: 'javascript:alert(1)'",
    ),
    ("commits, not hex", "fixing_commits", {"value": "abc1234 zzz"}, "Not a commit SHA (7 to 40 hex digits): zzz."),
    (
        "any field, a note with a NUL",
        "impact",
        {"value": "3", "note": "on GPU\x00"},
        "The note on Impact contains a NUL character",
    ),
    (
        "any field, a note too long",
        "impact",
        {"value": "3", "note": "n" * 10_001},
        "The note on Impact is at most 10,000 characters, not 10,001.",
    ),
]


def save(client, study, issue, key, data):
    """As the page sends it: a first answer, at version 0."""
    repository = issue.repository
    url = reverse("studies:save_field", args=[study.slug, repository.owner, repository.name, issue.number, key])
    return client.post(url, {"version": "0", **data}, headers={"HX-Request": "true"})


@pytest.mark.parametrize(("key", "data", "message"), [case[1:] for case in SAVE_CASES], ids=[c[0] for c in SAVE_CASES])
def test_the_page_refuses_a_bad_value_by_name_and_stores_nothing(client, setup, key, data, message):
    study, issue, assignment, _ = setup
    client.force_login(assignment.annotator)
    before = database_state(study)

    response = save(client, study, issue, key, data)

    assert response.status_code == 422
    assert message in as_read(response.text)
    assert database_state(study) == before  # not even started: the assignment is still "assigned"


def test_a_refused_save_leaves_the_earlier_answer_and_note_as_they_were(client, setup):
    study, issue, assignment, _ = setup
    client.force_login(assignment.annotator)
    save(client, study, issue, "impact", {"value": "2", "note": "on GPU only", "version": "0"})
    before = database_state(study)

    response = save(client, study, issue, "impact", {"value": "9", "note": "changed my mind", "version": "1"})

    assert response.status_code == 422
    assert database_state(study) == before
    assert Annotation.objects.get().note == "on GPU only"


# --- the annotation import ---


def csv_of(*rows: str) -> str:
    return "issue,annotator,field,value,uncertain,note,kind,stage,comment\n" + "\n".join(rows) + "\n"


IMPORT_CASES = [
    (
        "single, two values",
        ["scenario,Wrong shape,,,,,", "scenario,Wrong structure,,,,,"],
        "line 3: scenario: several values for a field that takes one",
    ),
    (
        "single, Other with a NUL",
        ["scenario,Other: dt\x00ype,,,,,"],
        "line 3: “Other” of scenario contains a NUL character",
    ),
    (
        "multiple, too many",
        ["component,Engine,,,,,", "component,Model,,,,,", "component,Layers,,,,,"],
        "line 3: component: at most 2 values",
    ),
    (
        "multiple, a new choice too long",
        ["component," + "c" * 201 + ",,,,,"],
        "line 3: a new choice of component is at most 200 characters, not 201.",
    ),
    ("ordinal, out of range", ["impact,0,,,,,"], "line 3: '0' is not a choice of impact"),
    ("ordinal, a NUL", ["impact,3\x00,,,,,"], "line 3: '3\\x00' is not a choice of impact"),
    ("vote, neither yes nor no", ["works,maybe,,,,,"], "line 3: a vote is yes or no, not 'maybe'"),
    (
        "vote, a comment with a NUL",
        ["works,yes,,,,,silent\x00"],
        "line 3: works: The comment on Works as documented contains a NUL character",
    ),
    ("text, a NUL", ["summary,wrong\x00loss,,,,,"], "line 3: summary: Summary contains a NUL character"),
    (
        "text, too long",
        ["summary," + "x" * 10_001 + ",,,,,"],
        "line 3: summary: Summary is at most 10,000 characters, not 10,001.",
    ),
    (
        "version, too long",
        ["found_in," + "9" * 101 + ",,,,,"],
        "line 3: found_in: Found in is at most 100 characters, not 101.",
    ),
    (
        "urls, not http",
        ["links,ftp://example.org/x,,,,,"],
        "line 3: links: Enter a valid URL (http or https) in Reproduction links: 'ftp://example.org/x'",
    ),
    (
        "commits, not hex",
        ["fixing_commits,not-a-sha,,,,,"],
        "line 3: fixing_commits: Not a commit SHA (7 to 40 hex digits): not-a-sha.",
    ),
    (
        "any field, a note with a NUL",
        ["root_cause,Processing,,on GPU\x00,,,"],
        "line 3: the note contains a NUL character",
    ),
]


@pytest.mark.parametrize(("rows", "message"), [case[1:] for case in IMPORT_CASES], ids=[c[0] for c in IMPORT_CASES])
def test_the_import_refuses_a_bad_value_by_line_and_writes_nothing(setup, tmp_path, rows, message):
    study, issue, _, _ = setup
    reference = f"tf/tf#{issue.number}"
    # A good row first: a file with one error writes none of its rows.
    text = csv_of(f"{reference},ann,impact,3,,,,,", *(f"{reference},ann,{row}" for row in rows))
    path = tmp_path / "annotations.csv"
    path.write_text(text, encoding="utf-8")
    before = database_state(study)
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_annotations", str(path), "--study", study.slug, "--create-choices", stderr=err)

    assert message in as_read(err.getvalue())
    assert database_state(study) == before


def test_the_import_refuses_a_username_it_cannot_create(setup, tmp_path):
    study, issue, _, _ = setup
    path = tmp_path / "annotations.csv"
    path.write_text(csv_of(f"tf/tf#{issue.number},bad name!,impact,3,,,,,"), encoding="utf-8")
    before = database_state(study)
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: 1 error."):
        call_command("import_annotations", str(path), "--study", study.slug, "--create-users", stderr=err)

    assert "line 2: 'bad name!' cannot be a username (letters, digits and @.+-_, at most 150)" in err.getvalue()
    assert database_state(study) == before


def invalid_utf8(setup) -> bytes:
    _, issue, _, _ = setup
    return csv_of(f"tf/tf#{issue.number},ann,summary,caf\xe9,,,,,").encode("latin-1")


def test_the_import_command_refuses_a_file_that_is_not_utf8(setup, tmp_path):
    study = setup[0]
    path = tmp_path / "annotations.csv"
    path.write_bytes(invalid_utf8(setup))
    before = database_state(study)

    with pytest.raises(CommandError, match=r"annotations.csv is not UTF-8 text: .* byte 0xe9 in position"):
        call_command("import_annotations", str(path), "--study", study.slug)

    assert database_state(study) == before


def test_the_import_page_refuses_a_file_that_is_not_utf8(client, setup):
    study, _, _, owner = setup
    client.force_login(owner)
    before = database_state(study)

    response = client.post(
        reverse("studies:annotations_upload", args=[study.slug]),
        {"csv": SimpleUploadedFile("annotations.csv", invalid_utf8(setup))},
    )

    shown = FormPage(response.text).errors_at("upload-csv")
    assert response.status_code == 422
    assert len(shown) == 1 and shown[0].startswith("The file is not UTF-8 text: 'utf-8' codec can't decode byte 0xe9")
    assert database_state(study) == before


# --- the codebook file ---


def renamed_then(change):
    """The preset with a harmless rename of the first field, then the bad change: the rename must not stay."""

    def changed(data):
        data["fields"][0]["label"] = "Renamed"
        change(data)

    return changed


def set_in(field: int, **values):
    return renamed_then(lambda data: data["fields"][field].update(values))


def set_in_choice(field: int, choice: int, **values):
    return renamed_then(lambda data: data["fields"][field]["choices"][choice].update(values))


CODEBOOK_CASES = [
    (
        "fields not a list",
        renamed_then(lambda data: data.update(fields={"key": "x"})),
        'A codebook needs a "fields" list.',
    ),
    (
        "key not text",
        set_in(2, key=["component"]),
        "field 3 (['component']): key must be text, not list ['component']",
    ),
    (
        "label with a NUL",
        set_in(2, label="Comp\x00onent"),
        "field 3 (component): label: contains a NUL character (\\x00)",
    ),
    ("definition with a NUL", set_in(2, definition="\x00"), "field 3 (component): definition: contains a NUL"),
    (
        "definition not text",
        set_in(2, definition={"md": "x"}),
        "field 3 (component): definition must be text, not dict {'md': 'x'}",
    ),
    (
        "required neither true nor false",
        set_in(2, required="maybe"),
        "field 3 (component): required: “maybe” value must be either True or False.",
    ),
    (
        "maximum not a number",
        set_in(2, max_choices="lots"),
        "field 3 (component): max_choices: “lots” value must be an integer.",
    ),
    (
        "label too long",
        set_in(2, label="L" * 201),
        "field 3 (component): label: Ensure this value has at most 200 characters (it has 201).",
    ),
    (
        "choice value not text",
        set_in_choice(2, 0, value={"a": 1}),
        "field 3 (component), choice 1: needs a value (text)",
    ),
    (
        "choice value with a NUL",
        set_in_choice(2, 0, value="Eng\x00ine"),
        "field 3 (component), choice 'Eng\\x00ine': value: contains a NUL",
    ),
    (
        "choice value too long",
        set_in_choice(2, 0, value="v" * 201),
        "value: Ensure this value has at most 200 characters (it has 201).",
    ),
    (
        "choice examples not text",
        set_in_choice(2, 0, examples=["a", "b"]),
        "field 3 (component), choice 1: examples must be text, not list ['a', 'b']",
    ),
    (
        "ordinal level not 0-9",
        renamed_then(lambda data: data["fields"][3]["choices"].append({"value": "²"})),
        "field 4 (impact): the levels of an ordinal scale are numbers 1, 2, 3…",
    ),
]


def load_codebook(client, study, content: bytes):
    """The errors the codebook page shows at its file input after the upload."""
    response = client.post(
        reverse("studies:codebook_load", args=[study.slug]),
        {"codebook": SimpleUploadedFile("codebook.json", content, content_type="application/json")},
    )
    assert response.status_code == 422
    return FormPage(response.text).errors_at("load-codebook")


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in CODEBOOK_CASES], ids=[c[0] for c in CODEBOOK_CASES])
def test_a_bad_codebook_file_is_refused_by_name_and_loads_nothing(client, setup, change, message):
    study, _, _, owner = setup
    client.force_login(owner)
    data = preset("silent-bugs")
    change(data)
    before = database_state(study)

    shown = load_codebook(client, study, json.dumps(data).encode())

    assert len(shown) == 1 and message in shown[0]
    assert database_state(study) == before


def test_a_codebook_file_that_is_not_utf8_is_refused(client, setup):
    study, _, _, owner = setup
    client.force_login(owner)
    content = json.dumps(preset("silent-bugs")).replace("Scenario", "Scénario").encode("latin-1")
    before = database_state(study)

    shown = load_codebook(client, study, content)

    assert shown == [
        "Not a JSON file: 'utf-8' codec can't decode byte 0xe9 in position "
        f"{content.index(b'\xe9')}: invalid continuation byte"
    ]
    assert database_state(study) == before


def test_ordinal_levels_written_as_numbers_are_the_same_levels_loaded_again(setup):
    """Levels are text in the file we write; a hand-written file with numbers means the same levels."""
    study = setup[0]
    data = preset("silent-bugs")
    data["fields"][3]["choices"] = [{"value": level} for level in (1, 2, 3, 4)]

    codebook_load(study, data)
    codebook_load(study, data)

    assert list(Choice.objects.filter(field__key="impact").values_list("value", flat=True)) == ["1", "2", "3", "4"]


def test_a_new_user_is_not_created_by_a_refused_import(setup, tmp_path):
    study, issue, _, _ = setup
    path = tmp_path / "annotations.csv"
    path.write_text(csv_of(f"tf/tf#{issue.number},newcomer,impact,3,,,,,", f"tf/tf#{issue.number},ann,impact,9,,,,,"))

    with pytest.raises(CommandError):
        call_command("import_annotations", str(path), "--study", study.slug, "--create-users", stderr=io.StringIO())

    assert not get_user_model().objects.filter(username="newcomer").exists()


# --- the reconciliation page: final values, decisions and the discussion ---

RECONCILE_CASES = [
    (
        "final value, a rationale with a NUL",
        "studies:final_value",
        ["impact"],
        {"value": "3", "rationale": "GPU\x00", "version": "0"},
        "The rationale for Impact contains a NUL character",
    ),
    (
        "final value, a rationale too long",
        "studies:final_value",
        ["impact"],
        {"value": "3", "rationale": "r" * 10_001, "version": "0"},
        "The rationale for Impact is at most 10,000 characters, not 10,001.",
    ),
    (
        "decision, a rationale with a NUL",
        "studies:decision",
        [],
        {"decision": "exclude", "reason": "other", "note": "why\x00"},
        "The rationale contains a NUL character",
    ),
    (
        "discussion, a NUL",
        "studies:discussion_comment",
        [],
        {"body": "@ann look\x00"},
        "A comment cannot hold a NUL character (\\x00).",
    ),
]


@pytest.mark.parametrize(
    ("name", "extra", "data", "message"), [c[1:] for c in RECONCILE_CASES], ids=[c[0] for c in RECONCILE_CASES]
)
def test_the_reconciliation_page_refuses_a_bad_text_by_name_and_stores_nothing(
    client, labelled, name, extra, data, message
):
    study_issue, adjudicator, _, assignments = labelled
    for assignment, impact in zip(assignments, ("2", "3"), strict=True):
        label(assignment, impact=impact)
    client.force_login(adjudicator)
    study_issue.refresh_from_db()
    before = (
        database_state(study_issue.study),
        list(FinalValue.objects.values_list("value", "rationale")),
        DiscussionComment.objects.count(),
        study_issue.decision_note,
        study_issue.version,
    )

    response = client.post(page(study_issue, name, *extra), {"version": study_issue.version, **data}, follow=True)

    assert message in as_read(response.text)
    study_issue.refresh_from_db()
    assert before == (
        database_state(study_issue.study),
        list(FinalValue.objects.values_list("value", "rationale")),
        DiscussionComment.objects.count(),
        study_issue.decision_note,
        study_issue.version,
    )


# --- the issue import: the one value of a dump that our pages use as a link ---


@pytest.mark.parametrize("html_url", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,x", 42])
def test_an_issue_whose_link_is_not_http_is_refused_by_name(tmp_path, html_url):
    dump = write_json(tmp_path / "dump.json", [rest_issue(1), rest_issue(2, html_url=html_url)])

    run = import_paths(dump)

    assert problems(run) == [f"dump.json, item 2: issue 2: html_url must be an http(s) URL, not {html_url!r}"]
    assert list(Issue.objects.values_list("number", flat=True)) == [1]


def test_a_gh_cli_issue_whose_url_is_not_http_is_refused(tmp_path):
    issue = {"number": 3, "title": "t", "url": "javascript:alert(1)", "state": "OPEN", "createdAt": "2024-03-01"}
    dump = write_jsonl(tmp_path / "gh.jsonl", [issue])

    run = import_paths(dump, repository=("octo", "widgets"))

    assert problems(run) == ["gh.jsonl, line 1: issue 3: html_url must be an http(s) URL, not 'javascript:alert(1)'"]
    assert not Issue.objects.exists()
