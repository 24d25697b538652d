from django.core.management.base import BaseCommand, CommandError

from agreement.rounds import CSV_COLUMNS, csv_rows, rounds_summary
from annotator.csv_writer import write_csv
from studies.models import Study


class Command(BaseCommand):
    help = "A study's calibration rounds: one CSV row per round and field, as the rounds page downloads it."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="SLUG")

    def handle(self, *args, study, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        write_csv(self.stdout, CSV_COLUMNS, csv_rows(rounds_summary(found)))
