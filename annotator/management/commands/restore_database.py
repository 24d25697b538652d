import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from annotator.pg_tools import ToolMissing, environment, tool


class Command(BaseCommand):
    help = "Replace the whole database with a backup made by backup_database (stop the web server first)."

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument("--yes", action="store_true", help="yes, replace everything in the database")

    def handle(self, *args, backup: Path, yes: bool, **options):
        if not backup.is_file():
            raise CommandError(f"No such file: {backup}")
        if not yes:
            raise CommandError("This replaces everything in the database with the backup: run again with --yes.")
        try:
            command = [
                tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(backup),
            ]
        except ToolMissing as error:
            raise CommandError(str(error)) from None
        env = environment()
        connection.close()  # our own session must not hold a lock on what is dropped
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise CommandError(f"pg_restore failed, nothing was changed: {done.stderr.strip()}")
        self.stdout.write(f"Restored {backup}.")
