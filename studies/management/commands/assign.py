import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.assignment import AssignmentError, assign_balanced, assign_from_rows
from studies.models import Stage, Study


class Command(BaseCommand):
    help = "Assign a study's issues to its annotators: balanced at random, or from a CSV (issue,annotator)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument("--per-issue", type=int, metavar="K", help="K annotators per issue, loads evened out")
        how.add_argument("--csv", dest="csv_file", type=Path, metavar="FILE", help="a CSV with header issue,annotator")
        parser.add_argument("--seed", type=int, default=0, help="random seed of --per-issue (default 0)")
        parser.add_argument("--stage", choices=Stage.values, help="default: screening if the study screens")

    def handle(self, *args, slug, per_issue, csv_file: Path | None, seed, stage, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study {slug!r}.")
        stage = stage or (Stage.SCREENING if study.screening else Stage.LABELLING)
        try:
            if csv_file is None:
                result = assign_balanced(study, per_issue=per_issue, stage=stage, seed=seed)
            else:
                result = assign_from_rows(study, _read_rows(csv_file), stage=stage)
        except AssignmentError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{result.created} assignments made ({stage}); {result.kept} were there already.")


def _read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        if not reader.fieldnames or {"issue", "annotator"} - {name.strip() for name in reader.fieldnames}:
            raise CommandError(f"{path}: the header must be issue,annotator")
        return [{key.strip(): value for key, value in row.items() if key} for row in reader]
