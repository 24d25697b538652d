"""Every study with a codebook gets version 1: its codebook as it is now, and every annotation and final value
already recorded is said to be made under it (the column's default, 1).

The codebook's earlier states were never recorded as versions, so "as it is now" is the one snapshot there is;
an answer cannot be placed under an older state that no snapshot holds. Later changes are versions 2, 3…
Written against the models as they are here (not studies/codebook_versions.py), so that it still runs once the
code moves on; the snapshot is the codebook export's fields, as codebook_snapshot() writes them.
"""

from django.db import migrations

FIELD_ATTRIBUTES = ("label", "definition", "kind", "stage", "required", "max_choices", "allow_other")
CHOICE_ATTRIBUTES = ("label", "definition", "examples")
CHOICE_KINDS = {"single", "multiple", "ordinal"}


def first_versions(apps, schema_editor):
    Study = apps.get_model("studies", "Study")
    CodebookField = apps.get_model("studies", "CodebookField")
    CodebookVersion = apps.get_model("studies", "CodebookVersion")
    for study in Study.objects.filter(fields__isnull=False).distinct().iterator():
        fields = []
        for field in CodebookField.objects.filter(study=study).order_by("position", "id").prefetch_related("choices"):
            item = {"key": field.key}
            item |= {name: getattr(field, name) for name in FIELD_ATTRIBUTES if getattr(field, name) not in (None, "")}
            if field.kind in CHOICE_KINDS:
                item["choices"] = [
                    {"value": choice.value}
                    | {name: getattr(choice, name) for name in CHOICE_ATTRIBUTES if getattr(choice, name)}
                    for choice in sorted(field.choices.all(), key=lambda choice: (choice.position, choice.id))
                ]
            fields.append(item)
        snapshot = {"format": "annotator-codebook", "version": 1, "name": study.name, "fields": fields}
        CodebookVersion.objects.create(
            study=study, number=1, snapshot=snapshot, summary="The codebook before versions were recorded"
        )


class Migration(migrations.Migration):
    dependencies = [("studies", "0012_codebook_versions")]

    operations = [migrations.RunPython(first_versions, migrations.RunPython.noop)]
