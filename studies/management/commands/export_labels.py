from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.csv_writer import csv_lines
from studies.access import StudyAccess
from studies.exports import LONG_COLUMNS, json_lines, long_rows, wide_columns, wide_rows
from studies.models import Study


class Command(BaseCommand):
    help = "Export a study's labelled dataset: one row per issue with its decision and final values."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="SLUG")
        parser.add_argument(
            "--layout",
            choices=["wide", "long"],
            default="wide",
            help="wide: a row per issue; long: a row per annotation value, as import_annotations reads it",
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--with-annotators", action="store_true", help="add each annotator's values")
        parser.add_argument("--excel", action="store_true", help="CSV with a UTF-8 byte order mark, for Excel")
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, study, layout, format, with_annotators, excel, output, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        access = StudyAccess.everything(found)  # the shell reads what an admin may
        if layout == "long":
            columns, rows = LONG_COLUMNS, long_rows(access)
        else:
            columns, rows = (
                wide_columns(found, with_annotators=with_annotators),
                wide_rows(access, with_annotators=with_annotators),
            )
        lines = json_lines(columns, rows) if format == "json" else csv_lines(columns, rows, excel=excel)
        if output is None:
            for line in lines:
                self.stdout.write(line, ending="")
            return
        with output.open("w", newline="", encoding="utf-8") as file:
            file.writelines(lines)
        self.stderr.write(f"Wrote {output}.")
