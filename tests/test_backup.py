"""Backing up and restoring the whole database with PostgreSQL's own tools, on the embedded server too."""

import io

import pytest
from django.core.management import CommandError, call_command

from studies.models import Study, StudyEvent
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_backup_restores_what_was_deleted_after_it_history_included(tmp_path):
    kept = StudyFactory(name="Months of judgement")
    backup = tmp_path / "annotator.dump"
    out = io.StringIO()
    call_command("backup_database", "-o", str(backup), stdout=out)
    Study.objects.filter(pk=kept.pk).delete()
    StudyFactory(name="Made after the backup")

    call_command("restore_database", str(backup), "--yes", stdout=out)

    assert list(Study.objects.values_list("name", flat=True)) == ["Months of judgement"]
    assert StudyEvent.objects.filter(pgh_obj_id=kept.pk, pgh_label="insert").exists()
    assert "Backed up to" in out.getvalue() and "Restored" in out.getvalue()


def test_restoring_needs_a_file_and_a_yes(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("restore_database", str(tmp_path / "missing.dump"), "--yes")
    (tmp_path / "x.dump").write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="run again with --yes"):
        call_command("restore_database", str(tmp_path / "x.dump"))
    with pytest.raises(CommandError, match="pg_restore failed, nothing was changed"):
        call_command("restore_database", str(tmp_path / "x.dump"), "--yes")
