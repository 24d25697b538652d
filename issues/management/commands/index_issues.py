from django.core.management.base import BaseCommand

from issues.search import index_stale_issues


class Command(BaseCommand):
    help = "Build the full-text search documents of issues imported or changed since they were last indexed."

    def handle(self, *args, **options):
        indexed = index_stale_issues()
        self.stdout.write(f"{indexed:,} issue{'s' if indexed != 1 else ''} indexed.")
