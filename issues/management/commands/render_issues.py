import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from issues.models import Issue
from issues.rendering import issues_in_studies, render_stale_bodies


class Command(BaseCommand):
    help = (
        "Render the bodies and comments of the issues in studies to HTML ahead of time (the background worker "
        "does this after imports; run it after upgrading the Markdown libraries, or with --all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every imported issue, not only those in studies")

    def handle(self, *args, **options):
        ids = list(Issue.objects.values_list("id", flat=True)) if options["all"] else issues_in_studies()
        with tqdm(total=len(ids), unit="issue", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
            rendered = render_stale_bodies(ids, on_progress=bar.update)
        self.stdout.write(f"{rendered:,} bodies and comments rendered for {len(ids):,} issues.")
