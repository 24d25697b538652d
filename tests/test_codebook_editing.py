"""Editing a codebook in the browser after annotation has started: labels are free, recorded values stay valid."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.urls import reverse

from annotator.bidi import isolate
from issues.models import Issue
from studies.annotation import annotation_save
from studies.codebook import CodebookError, codebook_export, codebook_load, preset
from studies.models import Annotation, Choice, CodebookChange, FinalValue, Stage, Study
from tests.factories import AssignmentFactory, CodebookFieldFactory, MembershipFactory, StudyFactory, StudyIssueFactory
from tests.helpers import FormPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(study):
    """The silent-bugs codebook, with one annotator who has answered scenario, component, impact and root cause."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    annotator = MembershipFactory(study=study, role="annotator").user
    issue = StudyIssueFactory(study=study).issue
    assignment = AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    fields = {field.key: field for field in study.fields.all()}
    annotation_save(assignment=assignment, field=fields["scenario"], value="Wrong shape")
    annotation_save(assignment=assignment, field=fields["component"], value=["Engine", "Model"])
    annotation_save(assignment=assignment, field=fields["impact"], value="3")
    annotation_save(assignment=assignment, field=fields["root_cause"], value={"other": "Type confusion"})
    return study, owner, annotator, issue, fields


def url(study, name, *args):
    return reverse(f"studies:{name}", args=[study.slug, *args])


def values():
    return sorted((a.field.key, repr(a.value)) for a in Annotation.objects.select_related("field"))


def test_renaming_a_field_and_a_choice_keeps_every_annotation_and_is_recorded(client, started):
    study, owner, annotator, issue, fields = started
    before = values()
    scenario = fields["scenario"]
    shape = scenario.choices.get(value="Wrong shape")
    client.force_login(owner)

    client.post(
        url(study, "field_edit", "scenario"),
        {
            "label": "Effect",
            "definition": "What the user *sees*.",
            "required": "on",
            "position": scenario.position,
        },
    )
    client.post(
        url(study, "choice_edit", "scenario", shape.pk),
        {
            "label": "Wrong output shape",
            "definition": "",
            "examples": "",
            "position": shape.position,
            "value": "HACKED",  # the value is not editable: annotations hold it
        },
    )

    assert values() == before
    assert Choice.objects.get(pk=shape.pk).value == "Wrong shape"
    assert list(CodebookChange.objects.values_list("action", "source", "target").order_by("id")) == [
        ("rename", "Scenario", "Effect"),
        ("rename", "Wrong shape", "Wrong output shape"),
    ]
    client.force_login(annotator)
    repository = issue.repository
    page = client.get(reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number]))
    assert "Effect" in page.text and "Wrong output shape" in page.text
    assert 'value="Wrong shape" checked' in page.text


def test_a_choice_in_use_is_deleted_only_after_merging_it(client, started):
    study, owner, _, _, fields = started
    model = fields["component"].choices.get(value="Model")
    client.force_login(owner)

    refused = client.post(url(study, "choice_remove", "component", model.pk), follow=True)
    client.post(
        url(study, "codebook_merge"),
        {"field": "component", "source": "Model", "target": "Layers", "source_is_choice": "1"},
    )

    assert "“Model” is held by 1 recorded value; merge it into another choice first." in refused.text
    assert not Choice.objects.filter(pk=model.pk).exists()
    assert Annotation.objects.get(field__key="component").value == ["Engine", "Layers"]


def test_an_unused_choice_is_deleted_and_recorded(client, started):
    study, owner, _, _, fields = started
    unused = fields["component"].choices.get(value="Estimator")
    client.force_login(owner)

    client.post(url(study, "choice_remove", "component", unused.pk))

    assert not Choice.objects.filter(pk=unused.pk).exists()
    assert CodebookChange.objects.filter(action="delete", source="Estimator").exists()


def test_no_way_around_deletes_a_choice_in_use(started):
    study, *_ = started
    in_use = Choice.objects.filter(field__study=study, value__in=["Engine", "3"])

    with pytest.raises(ProtectedError), transaction.atomic():
        in_use.delete()  # as the admin's bulk delete or a script would

    assert in_use.count() == 2


def test_the_maximum_cannot_drop_below_what_was_recorded(client, started):
    study, owner, _, _, fields = started
    component = fields["component"]
    client.force_login(owner)

    response = client.post(
        url(study, "field_edit", "component"),
        {"label": "Part", "max_choices": 1, "position": component.position},
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("field-component-max_choices") == [
        f"1 annotation of {isolate('Part')} hold more than 1 values; the maximum stays until they are changed."
    ]
    assert (page.value("field-component-label"), page.value("field-component-max_choices")) == ("Part", "1")
    assert not page.checked("field-component-allow_other")  # as sent: unticked
    component.refresh_from_db()
    assert (component.label, component.max_choices) == ("Component", 2)


def test_other_stays_on_while_codes_use_it_and_the_page_says_so_at_the_box(client, started):
    study, owner, _, _, fields = started
    root_cause = fields["root_cause"]
    client.force_login(owner)

    response = client.post(
        url(study, "field_edit", "root_cause"),
        {"label": "Cause", "definition": "Why.", "required": "on", "position": root_cause.position},
    )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at("field-root_cause-allow_other") == [
        f"1 annotation of {isolate('Cause')} use “Other…”; promote or merge those codes first."
    ]
    assert (page.value("field-root_cause-label"), page.value("field-root_cause-definition")) == ("Cause", "Why.")
    assert page.checked("field-root_cause-required")
    assert study.fields.get(key="root_cause").allow_other


def test_other_cannot_be_turned_off_while_codes_use_it(started):
    study, *_ = started
    codebook = codebook_export(study)
    root_cause = next(field for field in codebook["fields"] if field["key"] == "root_cause")
    root_cause["allow_other"] = False
    root_cause["label"] = "Cause"

    with pytest.raises(CodebookError, match="use “Other…”; promote or merge those codes first"):
        codebook_load(study, codebook)

    field = study.fields.get(key="root_cause")
    assert field.allow_other and field.label == "Root cause"  # the whole load is undone


def test_a_field_with_answers_stays_and_one_without_can_go(client, started):
    study, owner, _, _, _ = started
    client.force_login(owner)

    kept = client.post(url(study, "field_remove", "impact"), follow=True)
    client.post(url(study, "field_remove", "reproduced"))

    assert f"{isolate('Impact')} has 1 answer; it stays." in kept.text
    assert study.fields.filter(key="impact").exists() and not study.fields.filter(key="reproduced").exists()


def test_an_owner_adds_a_field_and_its_choices(client, started):
    study, owner, _, _, _ = started
    client.force_login(owner)

    client.post(url(study, "field_new"), {"key": "api", "label": "API", "kind": "single", "stage": "labelling"})
    client.post(url(study, "choice_new", "api"), {"value": "tf.keras.Model.fit", "label": "fit"})
    duplicate = client.post(url(study, "choice_new", "api"), {"value": "tf.keras.Model.fit", "label": "Fit again"})
    bad_level = client.post(url(study, "choice_new", "impact"), {"value": "high", "definition": "Very bad."})

    api = study.fields.get(key="api")
    assert api.position == study.fields.count() - 1  # after the others
    assert list(api.choices.values_list("value", "label")) == [("tf.keras.Model.fit", "fit")]
    assert duplicate.status_code == bad_level.status_code == 422
    page = FormPage(duplicate.text)
    assert page.errors_at("new-choice-api-value") == [
        f"{isolate('API')} has a choice “{isolate('tf.keras.Model.fit')}” already."
    ]
    assert (page.value("new-choice-api-value"), page.value("new-choice-api-label")) == (
        "tf.keras.Model.fit",
        "Fit again",
    )
    page = FormPage(bad_level.text)
    assert page.errors_at("new-choice-impact-value") == ["The levels of an ordinal scale are numbers 1, 2, 3…"]
    assert (page.value("new-choice-impact-value"), page.value("new-choice-impact-definition")) == ("high", "Very bad.")
    assert not study.fields.get(key="impact").choices.filter(value="high").exists()


def test_a_refused_new_field_keeps_what_was_typed(client, started):
    study, owner, *_ = started
    client.force_login(owner)
    typed = {
        "key": "API!",
        "label": "API",
        "kind": "multiple",
        "stage": "labelling",
        "definition": "Which *API* breaks.",
        "required": "on",
        "max_choices": "2",
    }

    response = client.post(url(study, "field_new"), typed)
    taken = client.post(url(study, "field_new"), {**typed, "key": "impact"})

    page = FormPage(response.text)
    assert response.status_code == taken.status_code == 422
    assert page.errors_at("new-field-key") == ["Use lower-case letters, digits and _, starting with a letter."]
    assert {name: page.value(f"new-field-{name}") for name in typed if name != "required"} == {
        name: value for name, value in typed.items() if name != "required"
    }
    assert page.checked("new-field-required") and not page.checked("new-field-allow_other")
    assert FormPage(taken.text).errors_at("new-field-key") == ["There is a field “impact” already."]
    assert not study.fields.filter(label="API").exists()


def test_an_over_long_choice_label_is_refused_and_kept(client, started, django_assert_max_num_queries):
    study, owner, _, _, fields = started
    shape = fields["scenario"].choices.get(value="Wrong shape")
    client.force_login(owner)

    with django_assert_max_num_queries(
        16
    ):  # a form for every field and choice, none with a query of its own; the versions
        response = client.post(
            url(study, "choice_edit", "scenario", shape.pk),
            {"label": "x" * 201, "definition": "The output has the wrong shape.", "examples": "", "position": 0},
        )

    page = FormPage(response.text)
    assert response.status_code == 422
    assert page.errors_at(f"choice-{shape.pk}-label") == ["Ensure this value has at most 200 characters (it has 201)."]
    assert page.value(f"choice-{shape.pk}-label") == "x" * 201
    assert page.value(f"choice-{shape.pk}-definition") == "The output has the wrong shape."
    assert '<details class="edit" open><summary>Edit “<bdi>Wrong shape</bdi>”</summary>' in response.text
    assert Choice.objects.get(pk=shape.pk).label == "Wrong shape"


def test_a_codebook_file_that_cannot_load_is_refused_at_the_file_input(client, started):
    study, owner, *_ = started
    codebook = codebook_export(study)
    next(field for field in codebook["fields"] if field["key"] == "impact")["kind"] = "text"
    client.force_login(owner)

    response = client.post(
        url(study, "codebook_load"), {"codebook": SimpleUploadedFile("c.json", json.dumps(codebook).encode())}
    )

    assert response.status_code == 422
    assert FormPage(response.text).errors_at("load-codebook") == [
        "field 3 (impact): its kind cannot change from ordinal to text"
    ]


def test_copying_a_codebook_that_does_not_fit_is_refused_at_the_field(client, started):
    study, owner, *_ = started
    other = StudyFactory()
    MembershipFactory(study=other, user=owner, role="owner")
    CodebookFieldFactory(study=other, key="impact", label="Impact", kind="text")
    client.force_login(owner)

    response = client.post(url(other, "codebook_copy"), {"source": study.slug})
    unknown = client.post(url(other, "codebook_copy"), {"source": StudyFactory().slug})

    page = FormPage(response.text)
    assert response.status_code == 422 and unknown.status_code == 404
    assert page.errors_at("copy-source") == ["field 3 (impact): its kind cannot change from text to ordinal"]
    assert page.value("copy-source") == study.slug
    assert list(other.fields.values_list("key", flat=True)) == ["impact"]


def test_a_refused_promotion_or_merge_says_why_in_its_row(client, started):
    study, owner, *_ = started
    client.force_login(owner)

    promoted = client.post(url(study, "codebook_promote"), {"field": "root_cause", "text": "Type confusion"})
    merged = client.post(
        url(study, "codebook_merge"),
        {"field": "component", "source": "Model", "target": "Nope", "source_is_choice": "1"},
    )

    nothing = client.post(url(study, "codebook_promote"), {"field": "root_cause"})  # from no row of the page

    assert promoted.status_code == merged.status_code == nothing.status_code == 422
    assert (
        f"{isolate('Root cause')} has a choice &#x27;Type confusion&#x27; already; merge into it instead."
        in promoted.text
    )
    assert f"&#x27;Nope&#x27; is not a choice of {isolate('Component')}." in merged.text
    required = '<p class="error" role="alert">This field is required.</p>'
    assert nothing.text.index("<h1>Codebook</h1>") < nothing.text.index(required) < nothing.text.index("<section")
    assert not CodebookChange.objects.exists()


def test_annotators_read_the_codebook_but_cannot_edit_it(client, started):
    study, _, annotator, _, fields = started
    client.force_login(annotator)

    page = client.get(url(study, "codebook")).text
    response = client.post(url(study, "field_edit", "scenario"), {"label": "Mine", "position": 0})

    assert "Edit Scenario" not in page and "Add a field" not in page
    assert response.status_code == 404 and study.fields.get(key="scenario").label == "Scenario"


def test_no_way_around_deletes_a_field_with_answers(started):
    study, *_ = started

    with pytest.raises(RestrictedError), transaction.atomic():
        study.fields.filter(key="impact").delete()  # as the admin's bulk delete or a script would

    assert study.fields.filter(key="impact").exists() and values()


def test_an_admin_deletes_a_whole_study_answers_choices_and_final_values_with_it(client, started, admin_user):
    study, _, _, issue, fields = started
    FinalValue.objects.create(study_issue=study.study_issues.get(), field=fields["impact"], value="3")
    client.force_login(admin_user)

    response = client.post(reverse("admin:studies_study_delete", args=[study.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Study.objects.filter(pk=study.pk).exists()
    assert not Annotation.objects.exists() and not FinalValue.objects.exists() and not Choice.objects.exists()
    assert Issue.objects.filter(pk=issue.pk).exists(), "the imported issue stays for other studies"
