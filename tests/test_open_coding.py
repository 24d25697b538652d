"""Open coding: "Other…" texts listed with their uses, promoted or merged in one transaction, with a history."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studies.access import StudyAccess
from studies.annotation import annotation_save
from studies.codebook import CodebookError, code_merge, code_promote, codebook_load, open_codes, preset
from studies.models import Annotation, Assignment, CodebookChange, Stage
from tests.factories import AssignmentFactory, MembershipFactory, StudyFactory, StudyIssueFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coded(study):
    """Three annotators typed "Type confusion" / "Type Confusion" / "Optimizer?" under Other…, as in the paper."""
    codebook_load(study, preset("silent-bugs"), screening=False)
    owner = MembershipFactory(study=study, role="owner").user
    annotators = [MembershipFactory(study=study, role="annotator").user for _ in range(3)]
    issue = StudyIssueFactory(study=study).issue
    root_cause, component = study.fields.get(key="root_cause"), study.fields.get(key="component")
    assignments = [AssignmentFactory(study=study, issue=issue, annotator=a, stage=Stage.LABELLING) for a in annotators]
    annotation_save(assignment=assignments[0], field=root_cause, value={"other": "Type Confusion"})
    annotation_save(assignment=assignments[1], field=root_cause, value={"other": "Type Confusion"})
    annotation_save(assignment=assignments[2], field=root_cause, value={"other": "type mismatch"})
    annotation_save(assignment=assignments[0], field=component, value=["Engine", {"other": "Optimizer?"}])
    return study, owner, annotators, root_cause, component


def test_it_lists_every_code_with_its_uses(coded):
    study, owner, _, _, _ = coded

    codes = {(code.field.key, code.text): code.count for code in open_codes(StudyAccess(study, owner))}

    assert codes == {
        ("root_cause", "Type Confusion"): 2,
        ("root_cause", "type mismatch"): 1,
        ("component", "Optimizer?"): 1,
    }


def test_merging_a_code_rewrites_every_annotation_and_is_recorded(coded):
    study, owner, _, root_cause, _ = coded

    changed = code_merge(root_cause, "Type Confusion", "Type confusion", user=owner)

    assert changed == 2
    values = sorted(str(a.value) for a in Annotation.objects.filter(field=root_cause))
    assert values == ["Type confusion", "Type confusion", "{'other': 'type mismatch'}"]
    change = CodebookChange.objects.get()
    assert (change.action, change.source, change.target, change.annotations_changed, change.user) == (
        "merge",
        "Type Confusion",
        "Type confusion",
        2,
        owner,
    )


def test_merging_in_a_list_keeps_one_copy(coded):
    _, owner, _, _, component = coded

    code_merge(component, "Optimizer?", "Engine", user=owner)

    assert Annotation.objects.get(field=component).value == ["Engine"]


def test_promoting_a_code_makes_it_a_choice(coded):
    _, owner, _, _, component = coded

    code_promote(component, "Optimizer?", user=owner)

    assert component.choices.filter(value="Optimizer?").exists()
    assert Annotation.objects.get(field=component).value == ["Engine", "Optimizer?"]
    with pytest.raises(CodebookError, match="has a choice 'Optimizer\\?' already"):
        code_promote(component, "Optimizer?")


def test_merging_a_choice_into_another_deletes_it_and_keeps_the_data(coded):
    study, owner, annotators, root_cause, _ = coded
    assignment = Assignment.objects.get(annotator=annotators[2])
    annotation_save(assignment=assignment, field=root_cause, value="Algorithm")

    code_merge(root_cause, "Algorithm", "Logic error", user=owner, source_is_choice=True)

    assert not root_cause.choices.filter(value="Algorithm").exists()
    assert Annotation.objects.get(assignment=assignment, field=root_cause).value == "Logic error"


def test_codes_on_issues_the_viewer_still_labels_stay_hidden(coded):
    study, _, annotators, _, _ = coded

    codes = {code.text: code.count for code in open_codes(StudyAccess(study, annotators[2]))}

    assert codes == {"type mismatch": 1}  # only their own, until everyone has submitted


def test_the_page_lets_an_owner_merge(client, coded):
    study, owner, _, root_cause, _ = coded
    client.force_login(owner)

    page = client.get(reverse("studies:codebook", args=[study.slug]))
    response = client.post(
        reverse("studies:codebook_merge", args=[study.slug]),
        {"field": "root_cause", "source": "type mismatch", "target": "Type confusion"},
        follow=True,
    )

    assert "Type Confusion" in page.text and "Open codes" in page.text
    assert "merged into" in response.text
    assert Annotation.objects.filter(field=root_cause, value="Type confusion").count() == 1


def test_annotators_read_the_codebook_but_cannot_change_it(client, coded):
    study, _, annotators, root_cause, _ = coded
    client.force_login(annotators[0])

    page = client.get(reverse("studies:codebook", args=[study.slug]))
    merge = client.post(
        reverse("studies:codebook_merge", args=[study.slug]),
        {"field": "root_cause", "source": "type mismatch", "target": "Type confusion"},
    )

    assert page.status_code == 200 and "Open codes" not in page.text and "Wrong save/reload" in page.text
    assert merge.status_code == 404
    assert not CodebookChange.objects.exists()


def test_non_members_get_404_everywhere(client, coded):
    study, _, _, _, _ = coded
    client.force_login(UserFactory())

    for name in ("codebook", "codebook_export"):
        assert client.get(reverse(f"studies:{name}", args=[study.slug])).status_code == 404
    for name in ("codebook_promote", "codebook_merge", "codebook_load", "codebook_copy"):
        assert client.post(reverse(f"studies:{name}", args=[study.slug])).status_code == 404


def test_export_load_and_copy_through_the_page(client, coded):
    study, owner, _, _, _ = coded
    client.force_login(owner)
    target = StudyFactory()
    MembershipFactory(study=target, user=owner, role="owner")
    other = StudyFactory()
    MembershipFactory(study=other, user=owner, role="owner")

    exported = client.get(reverse("studies:codebook_export", args=[study.slug]))
    upload = SimpleUploadedFile("codebook.json", exported.content, content_type="application/json")
    client.post(reverse("studies:codebook_load", args=[target.slug]), {"codebook": upload})
    client.post(reverse("studies:codebook_copy", args=[other.slug]), {"source": study.slug})
    bad = SimpleUploadedFile("codebook.json", b"{not json", content_type="application/json")
    refused = client.post(reverse("studies:codebook_load", args=[other.slug]), {"codebook": bad}, follow=True)

    assert json.loads(exported.content)["format"] == "annotator-codebook"
    assert target.fields.count() == other.fields.count() == study.fields.count()
    assert "Not a JSON file" in refused.text
