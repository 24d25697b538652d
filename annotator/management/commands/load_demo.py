from django.core.management.base import BaseCommand, CommandError

from annotator.demo import DEMO_PASSWORD, DemoNotAllowed, database_is_empty, demo_load, demo_logins


class Command(BaseCommand):
    help = "Load the demo issues, study and accounts (demo mode only; into an empty database unless --force)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even if the database already has data.")

    def handle(self, *args, force: bool = False, **options):
        if not force and not database_is_empty():
            self.stdout.write("The database already has data; the demo was not loaded.")
            return
        try:
            study = demo_load()
        except DemoNotAllowed as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"Loaded the demo study “{study.name}” with {study.issues.count()} issues.")
        )
        for username, description in demo_logins():
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   ({description})")
