#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    from django.core.management import execute_from_command_line

    from annotator import embedded_postgres

    # Before Django reads the settings, which need DATABASE_URL: the embedded server's, unless it is set.
    embedded_postgres.start_if_needed()
    execute_from_command_line(sys.argv)
