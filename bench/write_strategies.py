"""COPY + merge (what the importer does) against Django's bulk_create(update_conflicts=True).

Run by bench/imports.py inside its scratch database, on the 10,000-issue dump:
both write the same parsed records into an empty issues table, 1,000 a
transaction; only the writing is timed (bulk_create also needs each payload
as an object, so its json.loads is counted).
"""

import json
import sys
import time
from collections import Counter
from pathlib import Path

from django.db import transaction

from issues.importers.formats import ByteProgress, read_file
from issues.importers.records import IssueRecord
from issues.importers.writer import ISSUE_COLUMNS, IssueWriter
from issues.models import Issue, Repository

FIELDS = [column for column in ISSUE_COLUMNS if column not in ("repository_id", "number")]  # what an update sets


def with_copy(records: list[IssueRecord]) -> None:
    writer = IssueWriter(Counter(), on_problem=print)
    for record in records:
        writer.add_issue(record)
    writer.finish()


def with_bulk_create(records: list[IssueRecord]) -> None:
    repositories = {}
    for start in range(0, len(records), 1000):
        issues = []
        for r in records[start : start + 1000]:
            if r.repository not in repositories:
                repositories[r.repository] = Repository.objects.get_or_create(
                    owner=r.repository[0], name=r.repository[1]
                )[0]
            issues.append(
                Issue(
                    repository=repositories[r.repository],
                    number=r.number,
                    title=r.title,
                    body=r.body,
                    author_login=r.author_login,
                    state=r.state,
                    state_reason=r.state_reason,
                    labels=r.labels,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                    closed_at=r.closed_at,
                    html_url=r.html_url,
                    is_pull_request=r.is_pull_request,
                    payload=json.loads(r.payload_json),
                    import_hash=r.import_hash,
                )
            )
        with transaction.atomic():
            Issue.objects.bulk_create(
                issues, update_conflicts=True, unique_fields=["repository", "number"], update_fields=FIELDS
            )


def main(dump: Path) -> dict:
    records = [r for r in read_file(dump, ByteProgress(dump.stat().st_size)) if isinstance(r, IssueRecord)]
    seconds = {}
    for name, write in (("copy_merge_s", with_copy), ("bulk_create_s", with_bulk_create)):
        Issue.objects.all().delete()
        started = time.monotonic()
        write(records)
        seconds[name] = round(time.monotonic() - started, 2)
    print(json.dumps({"records": len(records), **seconds}))
    return seconds


if __name__ == "__main__":
    main(Path(sys.argv[1]))
