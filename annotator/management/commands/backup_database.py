import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.pg_tools import ToolMissing, environment, tool


class Command(BaseCommand):
    help = "Back up the whole database (pg_dump, custom format), the embedded one included."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", type=Path, required=True, help="the backup file to write")

    def handle(self, *args, output: Path, **options):
        try:
            command = [tool("pg_dump"), "--format=custom", "--no-owner", f"--file={output}"]
        except ToolMissing as error:
            raise CommandError(str(error)) from None
        done = subprocess.run(command, env=environment(), capture_output=True, text=True)
        if done.returncode:
            raise CommandError(f"pg_dump failed: {done.stderr.strip()}")
        self.stdout.write(f"Backed up to {output} ({output.stat().st_size / 1e6:.1f} MB).")
