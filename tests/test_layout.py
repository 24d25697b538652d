"""The seams of the code, checked: which app may import which, and code left to the formatter."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("annotator", "issues", "studies", "agreement", "surveys")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(app: str) -> list[Path]:
    return [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


@pytest.mark.parametrize(
    ("app", "never"), [("issues", ("studies", "agreement", "surveys")), ("studies", ("agreement", "surveys"))]
)
def test_an_app_imports_none_of_the_apps_built_on_it(app, never):
    """issues/ is the ground floor: an import tells studies what it added through issues/importers/destinations.py."""
    offending = {
        str(path.relative_to(ROOT)): sorted(name for name in imports_of(path) if name.split(".")[0] in never)
        for path in sources(app)
    }

    assert {path: names for path, names in offending.items() if names} == {}


def test_the_study_models_import_no_module_that_imports_them():
    names = {name for name in imports_of(ROOT / "studies" / "models.py") if name.startswith("studies.")}

    assert names == {"studies.versions"}
    assert not {name for name in imports_of(ROOT / "studies" / "versions.py") if name.startswith("studies")}


def test_app_code_is_left_to_the_formatter():
    skipped = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in (*APPS, "bench", "tests")
        for path in sources(app)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "fmt: " + "skip" in line or "fmt: " + "off" in line
    ]

    assert skipped == []


def test_every_csv_the_app_writes_goes_through_the_formula_safe_writer():
    """A csv.writer of its own would let an issue title or a username such as "=HYPERLINK(…)" run in a spreadsheet."""
    own_writers = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in sources(app)
        if path != ROOT / "annotator" / "csv_writer.py"
        and any(name in path.read_text(encoding="utf-8") for name in ("csv.writer(", "csv.DictWriter("))
    ]

    assert own_writers == []
