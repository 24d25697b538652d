import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from studies.models import Study
from studies.transfer import describe, export_study


class Command(BaseCommand):
    help = (
        "Write everything a study owns (codebook, issues with their comments and payloads, members, assignments, "
        "annotations, decisions, discussion, surveys and their responses, history) to one gzip'd JSON file, for "
        "import_study on another instance."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", type=Path, required=True, help="the file to write, e.g. study.json.gz")

    def handle(self, *args, slug: str, output: Path, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study {slug!r}.")
        # Written aside and renamed when complete: a failed export never leaves a file that looks whole.
        partial = output.with_name(output.name + ".partial")
        try:
            with (
                partial.open("wb") as file,
                tqdm(unit=" records", file=sys.stderr, disable=not sys.stderr.isatty()) as bar,
            ):
                counts = export_study(study, file, on_progress=bar.update)
            partial.replace(output)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from None
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Wrote {output} ({output.stat().st_size:,} bytes): {describe(counts)}.")
