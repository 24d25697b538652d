from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.annotation_import import AnnotationImportError, import_annotations
from studies.models import Study


class Command(BaseCommand):
    help = (
        "Import annotations made elsewhere from a long CSV (issue,annotator,field,value[,uncertain,note,kind,stage,"
        "comment]): all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--study", required=True, metavar="SLUG")
        parser.add_argument("--create-users", action="store_true", help="unknown annotators become inactive accounts")
        parser.add_argument("--create-choices", action="store_true", help="unknown values become new choices")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="change submitted answers and decided issues too (versioned and in the history)",
        )

    def handle(self, *args, file: Path, study, create_users, create_choices, dry_run, replace, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8 text: {error}") from None
        try:
            result = import_annotations(
                found,
                text,
                create_users=create_users,
                create_choices=create_choices,
                dry_run=dry_run,
                replace=replace,
            )
        except AnnotationImportError as error:
            for problem in error.errors:
                self.stderr.write(f"  {problem}")
            raise CommandError(str(error)) from None
        for warning in result.warnings:
            self.stderr.write(f"  warning: {warning}")
        if dry_run:
            self.stdout.write("The file is fine (dry run: nothing was written).")
            return
        self.stdout.write(
            f"{result.annotations} annotations and {result.final_values} final values imported; "
            f"{len(result.users_created)} users and {len(result.choices_created)} choices created."
        )
