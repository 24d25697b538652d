"""Codebooks: the silent-bugs preset, JSON export/import/copy, and the values each kind of field accepts."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from annotator.bidi import isolate
from studies.codebook import CodebookError, codebook_copy, codebook_export, codebook_load, preset
from studies.models import CodebookField, Stage
from tests.factories import ChoiceFactory, CodebookFieldFactory, StudyFactory
from tests.helpers import DATA, SHARED

pytestmark = pytest.mark.django_db
# The study's codebook: field keys and category names, transcribed with their source.
CODEBOOK = json.loads((DATA / "silent-bugs-codebook.json").read_text(encoding="utf-8"))


def test_the_preset_has_the_studys_fields_and_values(study):
    codebook_load(study, preset("silent-bugs"))

    fields = {field.key: field for field in study.fields.prefetch_related("choices")}
    values = {key: [choice.value for choice in field.choices.all()] for key, field in fields.items()}
    assert list(fields) == CODEBOOK["field_keys"]  # in the codebook's order
    kinds = {key: CODEBOOK[key]["kind"] for key in CODEBOOK["field_keys"] if key in CODEBOOK}
    assert {key: fields[key].kind for key in kinds} == kinds
    assert fields["silent_bug"].stage == Stage.SCREENING == CODEBOOK["silent_bug"]["stage"]
    assert values["scenario"] == list(CODEBOOK["scenario"]["counts_among_77_bugs"])
    assert values["component"] == list(CODEBOOK["component"]["counts_over_component_1_and_2"])
    assert fields["component"].max_choices == CODEBOOK["component"]["max_choices"]
    assert values["impact"] == list(CODEBOOK["impact"]["final_level_among_70_rated_bugs"])
    for key in ("root_cause", "reproduced", "rejection_reason"):
        assert values[key] == CODEBOOK[key]["values"], key
        assert fields[key].allow_other == CODEBOOK[key].get("other_with_free_text", False), key
    assert all(field.definition for field in fields.values())


@pytest.mark.shared
def test_the_transcribed_codebook_agrees_with_the_studys_codebook_in_shared():
    text = (SHARED / "codebooks/silent-bugs.md").read_text(encoding="utf-8")

    keys = re.search(r"uses these stable field keys.*?:\n(.*?)\. Choice", text, re.S)[1]
    assert re.findall(r"`(\w+)`", keys) == CODEBOOK["field_keys"]
    scenarios = re.findall(r"^\| (Wrong [\w/ ]+|Performance degradation) \|.*\| (\d+) \|$", text, re.M)
    assert [(name, int(count)) for name, count in scenarios] == list(
        CODEBOOK["scenario"]["counts_among_77_bugs"].items()
    )
    components = re.search(r"up to 2 values, 14 observed\n(.*?)\(Counts", text, re.S)[1]
    assert [(name, int(count)) for name, count in re.findall(r"(\w+) \((\d+)\)", components)] == list(
        CODEBOOK["component"]["counts_over_component_1_and_2"].items()
    )
    impact = re.search(r"final level over the 70 rated bugs: (.*)\.", text)[1]
    assert [(level, int(count)) for level, count in re.findall(r"(\d): (\d+)", impact)] == list(
        CODEBOOK["impact"]["final_level_among_70_rated_bugs"].items()
    )
    root_causes = re.search(r"### Root cause.*?\n(.*?); plus \"Other\"", text, re.S)[1]
    assert re.split(r",\s+", root_causes.strip()) == CODEBOOK["root_cause"]["values"]
    assert "reproduced: yes / no / not sure" in text


def test_without_screening_the_vote_is_left_out(study):
    codebook_load(study, preset("silent-bugs"), screening=False)

    assert not study.fields.filter(stage=Stage.SCREENING).exists()
    assert study.fields.filter(key="scenario").exists()


def test_export_then_load_into_another_study_gives_the_same_codebook(study):
    codebook_load(study, preset("silent-bugs"))
    other = StudyFactory()

    codebook_copy(study, other)

    assert codebook_export(other)["fields"] == codebook_export(study)["fields"]
    assert json.loads(json.dumps(codebook_export(other)))  # plain JSON


def test_loading_again_updates_labels_by_key_and_deletes_nothing(study):
    codebook_load(study, preset("silent-bugs"))
    data = preset("silent-bugs")
    data["fields"] = [field for field in data["fields"] if field["key"] == "scenario"]
    data["fields"][0]["label"] = "Effect on the program"
    data["fields"][0]["choices"] = [{"value": "Wrong shape", "label": "Shape is wrong"}]

    codebook_load(study, data)

    scenario = study.fields.get(key="scenario")
    assert scenario.label == "Effect on the program"
    assert scenario.choices.get(value="Wrong shape").label == "Shape is wrong"
    assert scenario.choices.count() == 7
    assert study.fields.count() == 11


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data.pop("format"), "Not a codebook"),
        (lambda data: data["fields"][1].update(kind="colour"), "field 2 (scenario): kind: Value 'colour' is not"),
        (lambda data: data["fields"][1].update(key="Bad Key"), "field 2 (Bad Key): key: Use lower-case letters"),
        (lambda data: data["fields"][1]["choices"].append({"label": "no value"}), "choice 8: needs a value"),
        (lambda data: data["fields"][3]["choices"].append({"value": "high"}), "levels of an ordinal scale"),
    ],
)
def test_a_bad_codebook_is_refused_whole_with_a_clear_message(study, change, message):
    data = preset("silent-bugs")
    change(data)

    with pytest.raises(CodebookError, match=re.escape(message)):
        codebook_load(study, data)

    assert not study.fields.exists()


def test_a_fields_kind_cannot_change_once_it_exists(study):
    codebook_load(study, preset("silent-bugs"))
    data = preset("silent-bugs")
    data["fields"][1]["kind"] = "multiple"

    with pytest.raises(CodebookError, match="kind cannot change from single to multiple"):
        codebook_load(study, data)


# --- the values a field accepts ---


def choice_field(kind=CodebookField.Kind.SINGLE, **options):
    field = CodebookFieldFactory(kind=kind, label="Scenario", **options)
    for value in ("Wrong shape", "Wrong calculation", "Wrong structure"):
        ChoiceFactory(field=field, value=value)
    return field


def test_a_single_choice_takes_one_of_its_values_or_other_text_when_allowed():
    strict, open_coded = choice_field(), choice_field(allow_other=True)

    assert strict.clean_value("Wrong shape") == "Wrong shape"
    assert open_coded.clean_value({"other": "  Wrong dtype "}) == {"other": "Wrong dtype"}
    with pytest.raises(ValidationError) as refused:
        strict.clean_value("Wrong Shape")  # the spreadsheet's two spellings become one value
    assert refused.value.messages == [f"'Wrong Shape' is not a value of {isolate('Scenario')}."]
    with pytest.raises(ValidationError):
        strict.clean_value({"other": "anything"})


def test_a_multiple_choice_respects_its_maximum_and_refuses_repeats():
    field = choice_field(CodebookField.Kind.MULTIPLE, max_choices=2)

    assert field.clean_value(["Wrong shape", "Wrong structure"]) == ["Wrong shape", "Wrong structure"]
    with pytest.raises(ValidationError, match="At most 2 values"):
        field.clean_value(["Wrong shape", "Wrong structure", "Wrong calculation"])
    with pytest.raises(ValidationError, match="given twice"):
        field.clean_value(["Wrong shape", "Wrong shape"])


def test_an_ordinal_scale_takes_a_level_as_a_number():
    field = CodebookFieldFactory(kind=CodebookField.Kind.ORDINAL, label="Impact")
    for level in "1234":
        ChoiceFactory(field=field, value=level)

    assert field.clean_value("3") == 3
    assert field.clean_value(4) == 4
    with pytest.raises(ValidationError) as refused:
        field.clean_value(5)
    assert refused.value.messages == [f"{isolate('Impact')} is a level from 1, 2, 3, 4, not 5."]


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("vote", {"vote": True, "comment": " silent, wrong loss "}, {"vote": True, "comment": "silent, wrong loss"}),
        ("vote", False, {"vote": False, "comment": ""}),
        ("text", "  Processing  ", "Processing"),
        ("version", "2.0.0-rc0", "2.0.0-rc0"),
        ("urls", "https://gist.github.com/a/1\nhttps://colab.research.google.com/x", None),
        (
            "commits",
            "ABCDEF1\n0123456789abcdef0123456789abcdef01234567",
            ["abcdef1", "0123456789abcdef0123456789abcdef01234567"],
        ),
        ("text", "   ", None),
    ],
)
def test_the_other_kinds_normalise_what_they_are_given(kind, given, stored):
    field = CodebookFieldFactory(kind=kind)

    cleaned = field.clean_value(given)

    if kind == "urls":
        assert cleaned == ["https://gist.github.com/a/1", "https://colab.research.google.com/x"]
    else:
        assert cleaned == stored


@pytest.mark.parametrize(
    ("kind", "given", "message"),
    [
        ("vote", "maybe", "A vote is yes or no"),
        ("urls", "javascript:alert(1)", "Enter a valid URL"),
        ("commits", "abc123 xyz", "Not a commit SHA (7 to 40 hex digits): abc123, xyz"),
        ("version", "9" * 101, "at most 100 characters"),
    ],
)
def test_the_other_kinds_refuse_what_is_wrong(kind, given, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        CodebookFieldFactory(kind=kind).clean_value(given)
