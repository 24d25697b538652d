"""Final values of issues labelled before 0009 say where they came from, and issues in reconciliation get their
agreed final values, as if they had arrived after 0009.

A final value already set (reconciled or decided issues) that equals what every annotator gave is marked agreed,
with who agreed; its value and who set it stay. A field still without one, on an issue in reconciliation, gets the
agreed value. Written against the models as they are here (not studies/workflow.py), so that it still runs once the
code moves on; the rule is workflow.agreed_values's: every submitted annotator gave the same value, not "no answer".
"""

from django.db import migrations


def same_value(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(repr, a)) == sorted(map(repr, b))
    return a == b


def fill_agreed_final_values(apps, schema_editor):
    StudyIssue = apps.get_model("studies", "StudyIssue")
    Assignment = apps.get_model("studies", "Assignment")
    Annotation = apps.get_model("studies", "Annotation")
    CodebookField = apps.get_model("studies", "CodebookField")
    FinalValue = apps.get_model("studies", "FinalValue")
    for study_issue in StudyIssue.objects.filter(stage__in=["reconciliation", "decided"]).iterator():
        assignments = list(
            Assignment.objects.filter(
                study_id=study_issue.study_id, issue_id=study_issue.issue_id, stage="labelling", status="submitted"
            ).select_related("annotator")
        )
        if not assignments:
            continue
        names = sorted(assignment.annotator.username for assignment in assignments)
        answers = {
            (assignment_id, field_id): value
            for assignment_id, field_id, value in Annotation.objects.filter(assignment__in=assignments).values_list(
                "assignment_id", "field_id", "value"
            )
        }
        finals = {final.field_id: final for final in FinalValue.objects.filter(study_issue=study_issue)}
        new = []
        for field in CodebookField.objects.filter(study_id=study_issue.study_id, stage="labelling"):
            values = [answers.get((assignment.pk, field.pk)) for assignment in assignments]
            if values[0] is None or not all(same_value(value, values[0]) for value in values):
                continue
            final = finals.get(field.pk)
            if final is not None and same_value(final.value, values[0]):
                FinalValue.objects.filter(pk=final.pk).update(source="agreed", agreed_by=names)
            elif final is None and study_issue.stage == "reconciliation":
                new.append(
                    FinalValue(study_issue=study_issue, field=field, value=values[0], source="agreed", agreed_by=names)
                )
        FinalValue.objects.bulk_create(new)


class Migration(migrations.Migration):
    dependencies = [("studies", "0010_final_values_agreed_or_adjudicated")]

    operations = [migrations.RunPython(fill_agreed_final_values, migrations.RunPython.noop)]
