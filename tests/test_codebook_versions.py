"""Codebook versions: every change is a numbered version with its diff; answers record the version they were given
under; a change of meaning sends earlier answers back to their annotators; agreement since a version."""

import importlib
import json

import pytest
from django.apps import apps
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from agreement.ratings import field_ratings
from studies.annotation import annotation_save, assignment_submit
from studies.annotation_import import import_annotations
from studies.codebook import codebook_export, codebook_load, field_add, field_update, preset
from studies.codebook_versions import Merge, codebook_diff, rechecks
from studies.models import Annotation, CodebookVersion, Stage, Study
from tests.factories import AdminFactory, AssignmentFactory, MembershipFactory, StudyFactory, StudyIssueFactory
from tests.helpers import all_patterns, as_read

pytestmark = pytest.mark.django_db


# --- the diff, on each kind of change ---


def codebook(*fields) -> dict:
    return {"format": "annotator-codebook", "version": 1, "name": "s", "fields": list(fields)}


IMPACT = {
    "key": "impact",
    "label": "Impact",
    "definition": "How bad it is.",
    "kind": "single",
    "choices": [
        {"value": "crash", "label": "Crash", "definition": "The process dies."},
        {"value": "hang", "label": "Hang"},
        {"value": "wrong", "label": "Wrong output"},
    ],
}


def changes(before, after, **options) -> list[tuple]:
    return [(e["change"], e["field"], e["choice"], e["what"]) for e in codebook_diff(before, after, **options)]


def test_the_diff_names_a_field_added_and_one_removed():
    notes = {"key": "notes", "label": "Notes", "kind": "text"}

    assert changes(codebook(IMPACT), codebook(IMPACT, notes)) == [("added", "notes", None, "")]
    assert changes(codebook(IMPACT, notes), codebook(IMPACT)) == [("removed", "notes", None, "")]
    assert [as_read(e["text"]) for e in codebook_diff(None, codebook(notes))] == ["Field “Notes” added (text)."]


def test_the_diff_tells_a_rename_from_a_redefinition_and_other_changes():
    after = {**IMPACT, "label": "Severity", "definition": "How much the user loses.", "required": True}

    diff = codebook_diff(codebook(IMPACT), codebook(after))

    assert [(e["change"], e["what"]) for e in diff] == [
        ("renamed", "label"),
        ("redefined", "definition"),
        ("changed", "required"),
    ]
    assert as_read(diff[0]["text"]) == "Field “Severity” renamed “Impact” → “Severity”."
    assert (diff[1]["before"], diff[1]["after"]) == ("How bad it is.", "How much the user loses.")
    assert as_read(diff[2]["text"]) == "Field “Severity”: required none → yes."


def test_the_diff_names_choices_added_removed_renamed_and_redefined():
    choices = [
        {"value": "crash", "label": "Crash", "definition": "The process stops."},  # redefined
        {"value": "hang", "label": "Freeze"},  # renamed
        {"value": "slow", "label": "Slow"},  # added; "wrong" removed
    ]

    diff = codebook_diff(codebook(IMPACT), codebook({**IMPACT, "choices": choices}))

    assert [(e["change"], e["choice"]) for e in diff] == [
        ("redefined", "crash"),
        ("renamed", "hang"),
        ("added", "slow"),
        ("removed", "wrong"),
    ]
    assert [as_read(e["text"]) for e in diff][1:] == [
        "“Impact”: choice “Hang” renamed “Hang” → “Freeze”.",
        "“Impact”: choice “Slow” added.",
        "“Impact”: choice “Wrong output” removed.",
    ]


def test_the_diff_says_merged_rather_than_removed_and_keeps_other_codes_out():
    merged = {**IMPACT, "choices": IMPACT["choices"][:2]}

    diff = codebook_diff(
        codebook(IMPACT),
        codebook(merged),
        merged=[Merge("impact", "wrong", "crash"), Merge("impact", "secret typed text", "hang", choice=False)],
    )

    assert [(e["change"], e["choice"], e["after"]) for e in diff] == [
        ("merged", "wrong", "crash"),
        ("merged", None, "hang"),
    ]
    assert as_read(diff[0]["text"]) == "“Impact”: “wrong” merged into “Crash”."
    # An "Other…" text is an annotator's answer: the codebook's history, which every member reads, leaves it out.
    assert "secret" not in json.dumps(diff)


def test_the_diff_notices_a_new_order_and_nothing_when_nothing_changed():
    reordered = {**IMPACT, "choices": list(reversed(IMPACT["choices"]))}
    notes = {"key": "notes", "label": "Notes", "kind": "text"}

    assert changes(codebook(IMPACT), codebook(reordered)) == [("reordered", "impact", None, "")]
    assert changes(codebook(IMPACT, notes), codebook(notes, IMPACT)) == [("reordered", None, None, "")]
    assert codebook_diff(codebook(IMPACT), codebook(IMPACT)) == []


# --- every path that changes a codebook makes a version ---


@pytest.fixture
def coded(study):
    """The silent-bugs codebook (version 1), an owner, and an annotator who answered with an "Other…" code."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    annotator = MembershipFactory(study=study, role="annotator").user
    issue = StudyIssueFactory(study=study).issue
    assignment = AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    fields = {field.key: field for field in study.fields.all()}
    annotation_save(assignment=assignment, field=fields["root_cause"], value={"other": "Tensor aliasing"})
    annotation_save(assignment=assignment, field=fields["impact"], value="3")
    return study, owner, annotator, assignment, fields


def url(study, name, *args):
    return reverse(f"studies:{name}", args=[study.slug, *args])


def codebook_file(study, **changes):
    data = codebook_export(study)
    data["fields"][0] |= changes
    return SimpleUploadedFile("codebook.json", json.dumps(data).encode(), content_type="application/json")


def field_form(field, **changes):
    return {"label": field.label, "definition": field.definition, "position": field.position, **changes}


# Every page that changes the codebook, with what to post to change it.
CHANGES_BY_PAGE = {
    "field_new": lambda s, f: (
        url(s, "field_new"),
        {"key": "notes", "label": "Notes", "kind": "text", "stage": "labelling"},
    ),
    "field_edit": lambda s, f: (url(s, "field_edit", "impact"), field_form(f["impact"], label="Severity")),
    "field_remove": lambda s, f: (
        url(s, "field_remove", field_add(s, {"key": "spare", "label": "Spare", "kind": "text"}).key),
        {},
    ),
    "choice_new": lambda s, f: (url(s, "choice_new", "scenario"), {"value": "Leak", "label": "Memory leak"}),
    "choice_edit": lambda s, f: (
        url(s, "choice_edit", "scenario", f["scenario"].choices.first().pk),
        {"label": "Renamed", "position": 0},
    ),
    "choice_remove": lambda s, f: (url(s, "choice_remove", "scenario", f["scenario"].choices.last().pk), {}),
    "codebook_promote": lambda s, f: (url(s, "codebook_promote"), {"field": "root_cause", "text": "Tensor aliasing"}),
    "codebook_merge": lambda s, f: (
        url(s, "codebook_merge"),
        {"field": "root_cause", "source": "Tensor aliasing", "target": f["root_cause"].choices.first().value},
    ),
    "codebook_load": lambda s, f: (url(s, "codebook_load"), {"codebook": codebook_file(s, label="Loaded label")}),
    "codebook_load_preset": lambda s, f: (url(s, "codebook_load_preset"), {"preset": "silent-bugs"}),
    "codebook_copy": lambda s, f: (url(s, "codebook_copy"), {"source": s.copy_from.slug}),
}


def test_every_page_that_changes_the_codebook_is_walked_below():
    """A codebook page added later without a case in CHANGES_BY_PAGE fails here, so none is left unchecked."""
    readers = {"codebook", "codebook_export", "codebook_versions", "codebook_version"}
    pages = {key.split(":")[1] for route, key in all_patterns() if "/codebook/" in route}

    assert pages - readers == set(CHANGES_BY_PAGE)


@pytest.mark.parametrize("name", sorted(CHANGES_BY_PAGE))
def test_every_page_that_changes_the_codebook_makes_a_version(client, coded, name):
    study, owner, *_, fields = coded
    if name == "codebook_load_preset":  # a study whose codebook is older than the preset gets what is new
        field_update(fields["impact"], {"definition": "an older wording"})
    if name == "codebook_copy":
        study.copy_from = StudyFactory()
        codebook_load(study.copy_from, preset("silent-bugs"), screening=False)
        study.copy_from.fields.filter(key="impact").update(definition="The copied definition.")
        MembershipFactory(study=study.copy_from, user=owner, role="owner")
    client.force_login(owner)
    address, data = CHANGES_BY_PAGE[name](study, fields)
    before = study.codebook_versions.count()

    response = client.post(address, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    version = study.codebook_versions.first()
    assert version.number == before + 1
    assert version.diff, name
    assert version.user == owner
    assert version.snapshot == {k: v for k, v in codebook_export(study).items() if k != "export_profiles"}


def test_a_refused_change_makes_no_version(client, coded):
    study, owner, *_ = coded
    client.force_login(owner)

    response = client.post(url(study, "field_remove", "impact"))  # it has answers: it stays

    assert response.status_code == 302
    assert study.codebook_versions.count() == 1


def test_saving_a_field_unchanged_makes_no_version(client, coded):
    study, owner, *_, fields = coded
    client.force_login(owner)

    client.post(url(study, "field_edit", "impact"), field_form(fields["impact"]))

    assert study.codebook_versions.count() == 1


def test_an_annotation_upload_that_adds_choices_makes_a_version(coded):
    study, _, annotator, assignment, _ = coded
    issue = assignment.issue
    text = f"issue,annotator,field,value\n{issue.html_url},{annotator.username},scenario,Brand new scenario\n"

    import_annotations(study, text, create_choices=True, replace=True)

    version = study.codebook_versions.first()
    assert (version.number, [e["change"] for e in version.diff]) == (2, ["added"])
    assert version.summary == "Choices added by an annotation upload"


def test_an_edit_in_the_admin_makes_a_version(client, coded):
    study, *_, fields = coded
    impact = fields["impact"]
    client.force_login(AdminFactory())
    form = client.get(reverse("admin:studies_codebookfield_change", args=[impact.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "study"}
    data |= {"label": "Severity", "choices-TOTAL_FORMS": 0, "choices-INITIAL_FORMS": 0}

    response = client.post(reverse("admin:studies_codebookfield_change", args=[impact.pk]), data)

    assert response.status_code == 302
    assert [as_read(e["text"]) for e in study.codebook_versions.first().diff] == [
        "Field “Severity” renamed “Impact” → “Severity”."
    ]
    assert site.is_registered(CodebookVersion) is False  # versions are written by the rule, never by hand


def test_a_study_made_with_a_preset_starts_at_version_1(client):
    call_command("create_study", "from-shell", "--name", "From the shell", "--preset", "silent-bugs", "--no-screening")

    version = Study.objects.get(slug="from-shell").codebook_versions.get()
    assert (version.number, version.summary) == (1, "Loaded the silent-bugs preset")
    assert {e["change"] for e in version.diff} == {"added"}


def test_a_codebook_older_than_versions_is_version_1_before_its_first_change(client, coded):
    """A codebook made before versions existed (the migration records one; a script may not have): its first
    change records it as it was, as version 1, and the change as version 2."""
    study, owner, annotator, assignment, fields = coded
    study.codebook_versions.all().delete()
    client.force_login(owner)

    client.post(url(study, "field_edit", "impact"), field_form(fields["impact"], definition="New."))

    first, second = study.codebook_versions.order_by("number")
    assert first.snapshot["fields"][2]["definition"] != "New."
    assert [e["change"] for e in second.diff] == ["redefined"]


# --- answers record their version ---


def test_annotations_and_final_values_record_the_version_they_were_given_under(client, coded):
    study, owner, annotator, assignment, fields = coded
    client.force_login(owner)
    client.post(url(study, "field_edit", "scenario"), field_form(fields["scenario"], definition="Sharper."))

    annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")

    held = dict(Annotation.objects.values_list("field__key", "codebook_version"))
    assert held == {"root_cause": 1, "impact": 1, "scenario": 2}


def test_the_versions_download_and_one_versions_codebook(client, coded):
    study, owner, annotator, _, fields = coded
    client.force_login(owner)
    client.post(url(study, "field_edit", "impact"), field_form(fields["impact"], label="Severity"))
    client.force_login(annotator)

    every = client.get(url(study, "codebook_versions")).json()
    first = client.get(url(study, "codebook_version", 1))

    assert [(v["number"], v["user"]) for v in every["versions"]] == [(1, None), (2, owner.username)]
    assert as_read(every["versions"][1]["diff"][0]["text"]) == "Field “Severity” renamed “Impact” → “Severity”."
    assert "attachment" in first["Content-Disposition"]
    assert [f["label"] for f in first.json()["fields"] if f["key"] == "impact"] == ["Impact"]
    assert client.get(url(study, "codebook_version", 3)).status_code == 404


def test_the_codebook_page_lists_each_version_with_its_changes_in_words(client, coded):
    study, owner, annotator, _, fields = coded
    client.force_login(owner)
    client.post(url(study, "field_edit", "impact"), field_form(fields["impact"], label="Severity"))
    client.force_login(annotator)

    page = client.get(url(study, "codebook")).content.decode()

    assert "This is version 2." in page
    assert "Field “Severity” renamed “Impact” → “Severity”." in as_read(page)


# --- re-checks ---


@pytest.fixture
def rechecking(coded):
    """Two annotators who each answered Impact; the owner."""
    study, owner, annotator, assignment, fields = coded
    other = MembershipFactory(study=study, role="annotator").user
    theirs = AssignmentFactory(study=study, issue=assignment.issue, annotator=other, stage=Stage.LABELLING)
    annotation_save(assignment=theirs, field=fields["impact"], value="2")
    return study, owner, annotator, other, fields


def redefine(client, study, owner, field, *, meaning: bool, definition: str = "Only what the user sees."):
    client.force_login(owner)
    data = field_form(field, definition=definition) | ({"changes_meaning": "on"} if meaning else {})
    return client.post(url(study, "field_edit", field.key), data)


def test_a_change_of_meaning_queues_earlier_answers_for_their_own_annotators(client, rechecking):
    study, owner, annotator, other, fields = rechecking

    redefine(client, study, owner, fields["impact"], meaning=True)

    assert [(a.field.key, a.value) for a in rechecks(study, annotator)] == [("impact", 3)]
    assert [(a.field.key, a.value) for a in rechecks(study, other)] == [("impact", 2)]
    assert study.codebook_versions.first().meaning_changed == ["impact"]


def test_a_change_not_marked_as_one_of_meaning_queues_nothing(client, rechecking):
    study, owner, annotator, other, fields = rechecking

    redefine(client, study, owner, fields["impact"], meaning=False)

    assert not rechecks(study, annotator).exists()
    client.force_login(owner)
    assert (
        "Answers waiting to be re-checked by their annotators:\n    none."
        in client.get(url(study, "codebook")).content.decode()
    )


def test_the_recheck_page_shows_both_definitions_and_only_ones_own_answer(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    before = fields["impact"].definition
    redefine(client, study, owner, fields["impact"], meaning=True)
    client.force_login(annotator)

    page = client.get(url(study, "recheck")).content.decode()

    assert "Then: version 1" in page and "Now: version 2" in page
    assert before.split("\n")[0][:40] in page and "Only what the user sees." in page
    assert page.count('class="card recheck"') == 1  # the other annotator's answer is theirs to re-check


def test_keeping_an_answer_moves_it_to_the_new_version_unchanged(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    redefine(client, study, owner, fields["impact"], meaning=True)
    mine = rechecks(study, annotator).get()
    client.force_login(annotator)

    response = client.post(url(study, "recheck_keep", mine.pk), {"version": mine.version})

    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.value, mine.codebook_version) == (3, 2)
    assert not rechecks(study, annotator).exists()
    assert rechecks(study, other).exists()


def test_changing_an_answer_on_re_check_saves_it_under_the_new_version_even_once_submitted(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    mine = rechecks(study, annotator).model.objects.get(assignment__annotator=annotator, field__key="impact")
    for key, value in (("scenario", "Wrong shape"), ("component", ["Engine"])):
        annotation_save(assignment=mine.assignment, field=fields[key], value=value)
    assignment_submit(assignment=mine.assignment)
    redefine(client, study, owner, fields["impact"], meaning=True)
    client.force_login(annotator)

    response = client.post(url(study, "recheck_change", mine.pk), {"version": mine.version, "value": "1"})

    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.value, mine.codebook_version) == (1, 2)


def test_a_refused_change_on_re_check_says_why_and_keeps_the_answer(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    redefine(client, study, owner, fields["impact"], meaning=True)
    mine = rechecks(study, annotator).get()
    client.force_login(annotator)

    response = client.post(url(study, "recheck_change", mine.pk), {"version": mine.version, "value": "9"})

    assert response.status_code == 422
    assert "Impact is a level from 1, 2, 3, 4, not '9'." in as_read(response.content.decode())
    mine.refresh_from_db()
    assert (mine.value, mine.codebook_version) == (3, 1)


def test_a_re_check_from_a_stale_page_is_refused_with_409(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    redefine(client, study, owner, fields["impact"], meaning=True)
    mine = rechecks(study, annotator).get()
    client.force_login(annotator)

    response = client.post(url(study, "recheck_keep", mine.pk), {"version": mine.version - 1})

    assert response.status_code == 409
    assert "Changed meanwhile (another tab?) to “3 — model works differently”." in response.content.decode()
    mine.refresh_from_db()
    assert mine.codebook_version == 1


def test_a_change_of_a_choices_meaning_queues_the_fields_answers(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    level = fields["impact"].choices.get(value="3")
    client.force_login(owner)

    client.post(
        url(study, "choice_edit", "impact", level.pk),
        {"label": level.label, "definition": "Narrower.", "position": level.position, "changes_meaning": "on"},
    )

    assert rechecks(study, annotator).count() == rechecks(study, other).count() == 1


def test_nobody_re_checks_anothers_answer(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    redefine(client, study, owner, fields["impact"], meaning=True)
    theirs = rechecks(study, other).get()

    for user in (annotator, owner):
        client.force_login(user)
        assert client.post(url(study, "recheck_keep", theirs.pk), {"version": theirs.version}).status_code == 404
        assert client.post(url(study, "recheck_change", theirs.pk), {"version": 1, "value": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.value, theirs.codebook_version) == (2, 1)


def test_next_issue_leads_to_the_re_checks_first(client, rechecking):
    study, owner, annotator, other, fields = rechecking
    redefine(client, study, owner, fields["impact"], meaning=True)
    client.force_login(annotator)

    assert client.get(url(study, "next"))["Location"] == url(study, "recheck")
    assert "1 answer to re-check" in client.get(url(study, "detail")).content.decode()


def test_non_members_find_no_versions_and_no_re_checks(client, coded):
    study, *_ = coded
    client.force_login(MembershipFactory(role="owner").user)  # the owner of another study

    for address in (url(study, "codebook_versions"), url(study, "codebook_version", 1), url(study, "recheck")):
        assert client.get(address).status_code == 404


# --- agreement since a version ---


@pytest.fixture
def rated(rechecking, client):
    """Both annotators submitted; the owner then changed what Impact means; only one kept their answer since."""
    study, owner, annotator, other, fields = rechecking
    for assignment in study.assignments.all():
        for key, value in (("scenario", "Wrong shape"), ("component", ["Engine"])):
            annotation_save(assignment=assignment, field=fields[key], value=value)
        assignment_submit(assignment=assignment)
    redefine(client, study, owner, fields["impact"], meaning=True)
    mine = rechecks(study, annotator).get()
    client.force_login(annotator)
    client.post(url(study, "recheck_keep", mine.pk), {"version": mine.version})
    return study, owner, fields


def test_agreement_counts_only_answers_since_a_version(rated):
    study, owner, fields = rated

    assert len(field_ratings(study, fields["impact"]).units) == 1
    assert len(field_ratings(study, fields["impact"], since_version=2).units) == 0  # one answer is left: no pair
    assert len(field_ratings(study, fields["impact"], since_version=1).units) == 1


def test_the_agreement_page_and_its_downloads_filter_by_version(client, rated):
    study, owner, fields = rated
    client.force_login(owner)
    address = reverse("agreement:report", args=[study.slug])

    page = client.get(address, {"since_version": 2}).content.decode()
    since = client.get(address, {"since_version": 2, "format": "json"}).json()
    every = client.get(address, {"format": "json"}).json()

    assert "under codebook version 2 or later" in page
    assert (every["fields"]["impact"]["items"], since["fields"]["impact"]["items"]) == (1, 0)


def test_the_agreement_command_filters_by_version(rated, capsys):
    study, *_ = rated

    call_command("agreement", "--study", study.slug, "--field", "impact", "--since-version", "2", "--json")

    assert json.loads(capsys.readouterr().out)["fields"]["impact"]["items"] == 0


def test_the_upgrade_makes_each_existing_codebook_version_1_as_the_export_writes_it(coded):
    """The data migration (studies/migrations/0013) writes the snapshot with a copy of the rule, as a migration must:
    its snapshot is the one codebook_snapshot() writes, and the answers already given are under it."""
    migration = importlib.import_module("studies.migrations.0013_first_codebook_versions")
    study, *_ = coded
    expected = study.codebook_versions.get().snapshot
    study.codebook_versions.all().delete()

    migration.first_versions(apps, None)

    version = study.codebook_versions.get()
    assert (version.number, version.snapshot) == (1, expected)
    assert set(Annotation.objects.values_list("codebook_version", flat=True)) == {1}
