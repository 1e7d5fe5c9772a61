"""Texts from an uploaded file: `.txt` one per line, one column of a `.csv` / field of a `.jsonl`, or one document.

Files come from strangers, so every way a file can be wrong (not UTF-8, too big, too many
rows, no such column, not JSON, not text at all) raises `InputError` with one sentence naming
the file and, for a missing column, the columns it does have. Rows that cannot give a text
(no such cell, a JSON value that is not a string) are left out and listed; a CSV's header row
is detected (`has_header_row`), not assumed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqdemo.errors import InputError
from seqdemo.inputs import MAX_DOCUMENT_CHARS, check_document, split_lines
from seqdemo.plural import plural

SUFFIXES = (".txt", ".csv", ".jsonl")
MAX_UPLOAD_BYTES = 5_000_000
MAX_ROWS = 5_000


NAME = re.compile(r"[A-Za-z_][\w.-]{0,63}")  # how a column name looks: `text`, `review_body`, `label.1`
MAX_LISTED_ROWS = 10  # row numbers named per reason; the rest are counted


@dataclass(frozen=True)
class Skipped:
    """Rows (CSV records, JSONL lines; the first is 1) left out of an upload, and why: `reason` ends "…in `text`"."""

    reason: str
    rows: tuple[int, ...]
    unit: str = "row"

    def sentence(self) -> str:
        """ "Skipped 2 rows without text in `review`: rows 4, 9."."""
        shown = ", ".join(str(row) for row in self.rows[:MAX_LISTED_ROWS])
        more = f" and {len(self.rows) - MAX_LISTED_ROWS:,} more" if len(self.rows) > MAX_LISTED_ROWS else ""
        units = self.unit if len(self.rows) == 1 else f"{self.unit}s"
        return f"Skipped {plural(len(self.rows), self.unit)} {self.reason}: {units} {shown}{more}."


@dataclass(frozen=True)
class UploadedTexts:
    """The non-blank texts of a file; for .csv/.jsonl also every column, the one read, and what was skipped.

    `header` says whether a CSV's first row was read as column names (None for other formats);
    without one, columns are called `column 1`, `column 2` … and the first row is a text.
    """

    texts: tuple[str, ...]
    columns: tuple[str, ...] = ()
    column: str | None = None
    header: bool | None = None
    skipped: tuple[Skipped, ...] = ()

    def as_lines(self) -> str:
        """One text per line, line breaks inside a text turned into spaces."""
        return "\n".join(" ".join(split_lines(text)) for text in self.texts)

    def notes(self) -> str:
        """How the file was read, in sentences: the header decision and every skip."""
        header = {
            True: "Its first row was read as column names.",
            False: "It has no header row (its first row is data), so its columns are numbered.",
            None: "",
        }[self.header]
        return " ".join(part for part in (header, *(skip.sentence() for skip in self.skipped)) if part)


def describe_upload_limits(max_bytes: int = MAX_UPLOAD_BYTES, max_rows: int = MAX_ROWS) -> str:
    """The upload limits in words, for the UI."""
    return f"Files up to {max_bytes / 1e6:g} MB and {max_rows:,} texts, UTF-8 encoded."


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{filename} is not UTF-8 text (byte 0x{data[err.start]:02x} at position {err.start:,}); "
            "save it as UTF-8 and upload it again."
        ) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return False
    return True


def has_header_row(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first of a CSV's non-blank `rows` names its columns.

    First the rule of `csv.Sniffer.has_header`, on the rows as read: a column whose cells are all
    numbers says yes when its first cell is not a number, no when it is. Where every column holds
    text that rule cannot tell, so: yes when every first-row cell looks like a column name (`text`,
    `review_body`: one word) and some column's other cells do not (prose has spaces); a file of
    one-word texts therefore reads as having no header, and the UI says which way it went.
    """
    first, rest = rows[0], rows[1:]
    for index, cell in enumerate(first):
        below = [row[index] for row in rest if index < len(row) and row[index].strip()]
        if below and all(_is_number(value) for value in below):
            return not _is_number(cell)
    names = [cell.strip() for cell in first if cell.strip()]
    if not all(NAME.fullmatch(name) for name in names):
        return False
    prose = (cell.strip() for row in rest for cell in row[: len(first)] if cell.strip())
    return "text" in names or not rest or any(not NAME.fullmatch(cell) for cell in prose)


def _column_names(first: Sequence[str], header: bool) -> tuple[str, ...]:
    """The header's names (blank ones numbered, repeats suffixed), or `column 1` … without a header."""
    names: list[str] = []
    for number, cell in enumerate(first, start=1):
        name = cell.strip() if header and cell.strip() else f"column {number}"
        while name in names:
            name = f"{name} ({number})"
        names.append(name)
    return tuple(names)


Rows = list[tuple[int, dict[str, object]]]  # (row or line number, its values by column)


def _csv_rows(text: str, filename: str) -> tuple[tuple[str, ...], Rows, bool]:
    try:
        records = list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as err:
        raise InputError(f"{filename} is not a readable CSV file ({err}).") from None
    records = [(number, row) for number, row in records if any(cell.strip() for cell in row)]
    if not records:
        raise InputError(f"{filename} has no rows.")
    header = has_header_row([row for _, row in records])
    columns = _column_names(records[0][1], header)
    rows = [(number, dict(zip(columns, row, strict=False))) for number, row in records[header:]]
    return columns, rows, header


def _jsonl_rows(text: str, filename: str) -> tuple[tuple[str, ...], Rows, None]:
    rows: Rows = []
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"Line {number} of {filename} is not valid JSON ({err.msg}).") from None
        if not isinstance(row, dict):
            raise InputError(f"Line {number} of {filename} is not a JSON object with named fields.")
        rows.append((number, row))
    return tuple(dict.fromkeys(key for _, row in rows for key in row)), rows, None


def _default_column(columns: tuple[str, ...], rows: Rows) -> str:
    """`text` if there is one, else the column holding the most characters of text."""
    if "text" in columns:
        return "text"
    return max(columns, key=lambda name: sum(len(row[name]) for _, row in rows if isinstance(row.get(name), str)))


def _read_column(rows: Rows, column: str, unit: str) -> tuple[list[str], tuple[Skipped, ...]]:
    """The column's texts, stripped, and the rows skipped: no such cell, not a string, or blank."""
    texts: list[str] = []
    skipped: dict[str, list[int]] = {}
    for number, row in rows:
        value = row.get(column)
        if value is None:
            reason = f"without a `{column}` {'cell' if unit == 'row' else 'field'}"
        elif not isinstance(value, str):
            reason = f"whose `{column}` is not a string (JSON {type(value).__name__.replace('dict', 'object')})"
        elif not value.strip():
            reason = f"with an empty `{column}`"
        else:
            texts.append(value.strip())
            continue
        skipped.setdefault(reason, []).append(number)
    return texts, tuple(Skipped(reason, tuple(numbers), unit) for reason, numbers in skipped.items())


def read_texts(
    source: str | Path | bytes,
    filename: str,
    column: str | None = None,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
) -> UploadedTexts:
    """The texts in `source` (a path or the file's bytes); `filename` decides the format.

    `column` picks the CSV column or JSONL field; None picks `_default_column`. Blank texts, and
    for .csv/.jsonl rows without the column or whose value is not a string, are left out and
    listed in `skipped`. Raises InputError for a file the user must fix.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{filename} is not a {', '.join(SUFFIXES)} file.")
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) > max_bytes:
        raise InputError(f"{filename} is {len(data) / 1e6:.1f} MB; uploads are limited to {max_bytes / 1e6:g} MB.")
    text = _decode(data, filename)
    if suffix == ".txt":
        texts = [line.strip() for line in split_lines(text) if line.strip()]
        columns, header, skipped = (), None, ()
    else:
        columns, rows, header = (_csv_rows if suffix == ".csv" else _jsonl_rows)(text, filename)
        if not rows:
            raise InputError(f"{filename} has no rows.")
        column = column or _default_column(columns, rows)
        if column not in columns:
            raise InputError(f"{filename} has no column {column!r}; its columns are: {', '.join(columns)}.")
        texts, skipped = _read_column(rows, column, "row" if suffix == ".csv" else "line")
    if not texts:
        where = f"column {column!r} of {filename}" if columns else filename
        raise InputError(f"There is no text in {where}.")
    if len(texts) > max_rows:
        raise InputError(f"{filename} has {plural(len(texts), 'text')}; the batching lab takes at most {max_rows:,}.")
    return UploadedTexts(tuple(texts), columns, column if columns else None, header, skipped)


def read_document_file(path: str | Path, max_chars: int = MAX_DOCUMENT_CHARS) -> str:
    """The whole text of an uploaded document, checked like a pasted one (`check_document`).

    InputError if the file is larger than such a document could be, holds NUL bytes (a binary
    file) or is not UTF-8.
    """
    path = Path(path)
    if path.stat().st_size > 4 * max_chars:  # UTF-8 takes at most 4 bytes a character
        raise InputError(f"{path.name} is larger than a document of {max_chars:,} characters could be.")
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path.name} is not a text file: upload plain UTF-8 text (.txt, .md).")
    return check_document(_decode(data, path.name), max_chars)
