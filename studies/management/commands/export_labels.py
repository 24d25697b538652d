from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.csv_writer import csv_lines
from studies.access import StudyAccess
from studies.export_profiles import profile_lines
from studies.exports import LONG_COLUMNS, json_lines, long_rows, wide_columns, wide_rows
from studies.models import ExportProfile, Study


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
        parser.add_argument(
            "--profile", metavar="NAME", help="the study's export profile NAME: its columns, separator and rows"
        )
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, study, layout, format, with_annotators, excel, profile, output, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        access = StudyAccess.everything(found)  # the shell reads what an admin may
        if profile is not None:
            if layout != "wide" or format != "csv" or with_annotators or excel:
                raise CommandError(
                    "A profile says how the file is laid out: leave out --layout, --format, "
                    "--with-annotators and --excel."
                )
            lines = profile_lines(access, _profile(found, profile))
        elif layout == "long":
            lines = _write(format, LONG_COLUMNS, long_rows(access), excel)
        else:
            columns = wide_columns(found, with_annotators=with_annotators)
            lines = _write(format, columns, wide_rows(access, with_annotators=with_annotators), excel)
        if output is None:
            for line in lines:
                self.stdout.write(line, ending="")
            return
        with output.open("w", newline="", encoding="utf-8") as file:
            file.writelines(lines)
        self.stderr.write(f"Wrote {output}.")


def _profile(study: Study, name: str) -> ExportProfile:
    profile = study.export_profiles.filter(name=name).first()
    if profile is None:
        names = ", ".join(study.export_profiles.values_list("name", flat=True)) or "none"
        raise CommandError(f"Study {study.slug!r} has no export profile {name!r}; it has: {names}.")
    return profile


def _write(format: str, columns: list[str], rows, excel: bool):
    return json_lines(columns, rows) if format == "json" else csv_lines(columns, rows, excel=excel)
