import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from studies.transfer import TransferError, describe, import_study


class Command(BaseCommand):
    help = (
        "Recreate a study from a file written by export_study, all or nothing. Users are matched by username "
        "(missing ones are created without a password, and listed); issues by repository and number."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--slug", metavar="NEW", help="import under this slug instead of the exported one")

    def handle(self, *args, file: Path, slug: str | None, **options):
        size = file.stat().st_size if file.is_file() else None
        with tqdm(
            total=size, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, disable=not sys.stderr.isatty()
        ) as bar:
            try:
                result = import_study(file, slug=slug, on_progress=lambda done: bar.update(done - bar.n))
            except TransferError as error:
                raise CommandError(f"{error} Nothing was imported.") from None
        study = result.study
        self.stdout.write(
            f"Imported study {study.slug} ({study.name}): {describe(result.counts)}; "
            f"{result.issues_created:,} of the issues were new here."
        )
        for note in result.notes:
            self.stdout.write(note)
        if result.users_created:
            self.stdout.write(
                f"{len(result.users_created)} new accounts, without a password until an admin sets one "
                "(manage.py changepassword USERNAME, or the admin):"
            )
            for username in result.users_created:
                self.stdout.write(f"  {username}")
