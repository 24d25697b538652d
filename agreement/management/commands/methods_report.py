from django.core.management.base import BaseCommand, CommandError

from agreement.methods import methods_report, report_intervals
from agreement.methods.render import latex, markdown
from studies.access import StudyAccess
from studies.models import Study

FORMATS = {"markdown": markdown, "latex": latex}


class Command(BaseCommand):
    help = "Write a study's methods section and its checklist, generated from the study's data, to standard output."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="SLUG")
        parser.add_argument("--format", choices=sorted(FORMATS), default="markdown")

    def handle(self, *args, study: str, format: str, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        access = StudyAccess.everything(found)  # the shell reads the whole study, as an admin would
        self.stdout.write(FORMATS[format](methods_report(access, intervals=report_intervals(access))), ending="")
