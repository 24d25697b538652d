"""Every CSV the app writes goes through here: RFC 4180, an optional BOM for Excel, and no formulas.

Issue titles, notes, comments, Other texts and even file names are untrusted
text. A cell that a spreadsheet would run as a formula (OWASP "CSV
injection": it starts with =, +, -, @, a tab or a carriage return) gets a
leading apostrophe; a plain number, negative ones included, stays a number.
"""

import csv
import re
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
BOM = "\ufeff"


def safe_cell(value) -> str:
    """The value as a cell no spreadsheet runs: None is empty, formula-looking text gets a leading '."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def unquoted(cell: str) -> str:
    """What safe_cell() was given, read back from a cell it wrote (for a lossless round trip)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def csv_lines(
    columns: list[str],
    rows: Iterable[Iterable],
    *,
    excel: bool = False,
    delimiter: str = ",",
    lineterminator: str = "\r\n",
) -> Iterator[str]:
    """The CSV a line at a time (for streaming responses); `excel` starts it with a UTF-8 BOM. An export profile
    may choose another separator (a `;` for the European Excel) and line end (LF, as a dataset published from
    pandas on Linux has it)."""
    writer = csv.writer(_Line(), lineterminator=lineterminator, delimiter=delimiter)
    if excel:
        yield BOM
    yield writer.writerow([safe_cell(column) for column in columns])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def write_csv(file, columns: list[str], rows: Iterable[Iterable], *, excel: bool = False) -> None:
    """The CSV into a text file (or an HttpResponse)."""
    for line in csv_lines(columns, rows, excel=excel):
        file.write(line)


class _Line:
    """csv.writer's file: hands each written line back instead of storing it."""

    def write(self, line: str) -> str:
        return line
