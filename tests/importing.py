"""Helpers for the import tests: write dump files the way mining scripts do, and import them."""

import gzip
import json
from pathlib import Path

from issues.importers.run import ImportOptions, ImportService
from issues.importers.selection import Selection
from issues.models import ImportRun
from tests.conftest import DATA

# Issue objects of the fictional deepflow/deepflow, one per file as the REST API returns them, and the
# comments of the first one in a file of their own (tests/data/README.md).
SAMPLES = sorted((DATA / "github-issues/deepflow").glob("issue_*.json"))


def sample(index: int = 0) -> dict:
    return json.loads(SAMPLES[index].read_text(encoding="utf-8"))


def rest_issue(number: int, *, repo: str = "octo/widgets", **fields) -> dict:
    """A REST issue object with the keys importers rely on (and a few they do not)."""
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{repo}",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "id": 9000 + number,
        "number": number,
        "title": f"Issue {number}",
        "user": {"login": "reporter", "id": 1},
        "labels": [{"name": "type:bug", "color": "d73a4a"}],
        "state": "open",
        "comments": 0,
        "created_at": "2024-03-01T10:00:00Z",
        "updated_at": "2024-03-02T10:00:00Z",
        "closed_at": None,
        "body": f"Body of {number}",
        "reactions": {"total_count": 0},
        **fields,
    }


def rest_comment(comment_id: int, number: int, *, repo: str = "octo/widgets", **fields) -> dict:
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
        "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "id": comment_id,
        "user": {"login": "helper"},
        "created_at": "2024-03-03T10:00:00Z",
        "updated_at": "2024-03-03T10:00:00Z",
        "body": f"Comment {comment_id}",
        **fields,
    }


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path


def write_jsonl(path: Path, objects, *, compress: bool = False) -> Path:
    text = "".join(json.dumps(obj) + "\n" for obj in objects)
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def import_paths(*paths: Path, study=None, **options) -> ImportRun:
    """Import as the command and the web upload do; selection options go to the Selection."""
    selection_names = set(Selection.__dataclass_fields__) - {"_folded"}
    selection = Selection(**{name: value for name, value in options.items() if name in selection_names})
    other = {name: value for name, value in options.items() if name not in selection_names}
    run = ImportRun.objects.create(source=ImportRun.Source.COMMAND)
    return ImportService(run, ImportOptions(selection=selection, study=study, **other)).import_files(list(paths))


def problems(run: ImportRun) -> list[str]:
    return [f"{problem.source}, {problem.location}: {problem.reason}" for problem in run.problems.all()]
