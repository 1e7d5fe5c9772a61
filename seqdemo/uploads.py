"""Texts from an uploaded file: `.txt` one per line, one column of a `.csv` / field of a `.jsonl`, or one document.

Files come from strangers, so every way a file can be wrong (not UTF-8, too big, too many
rows, no such column, not JSON, not text at all) raises `InputError` with one sentence naming
the file and, for a missing column, the columns it does have.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from seqdemo.errors import InputError
from seqdemo.inputs import MAX_DOCUMENT_CHARS, check_document

SUFFIXES = (".txt", ".csv", ".jsonl")
MAX_UPLOAD_BYTES = 5_000_000
MAX_ROWS = 5_000


@dataclass(frozen=True)
class UploadedTexts:
    """The non-blank texts of a file; for .csv/.jsonl also every column and the one read."""

    texts: tuple[str, ...]
    columns: tuple[str, ...] = ()
    column: str | None = None

    def as_lines(self) -> str:
        """One text per line, line breaks inside a text turned into spaces."""
        return "\n".join(" ".join(text.splitlines()) for text in self.texts)


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


def _csv_rows(text: str, filename: str) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = list(reader)
    except csv.Error as err:
        raise InputError(f"{filename} is not a readable CSV file ({err}).") from None
    columns = tuple(name for name in reader.fieldnames or () if name)
    if not columns:
        raise InputError(f"{filename} has no header row naming its columns.")
    return columns, rows


def _jsonl_rows(text: str, filename: str) -> tuple[tuple[str, ...], list[dict[str, object]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"Line {number} of {filename} is not valid JSON ({err.msg}).") from None
        if not isinstance(row, dict):
            raise InputError(f"Line {number} of {filename} is not a JSON object with named fields.")
        rows.append(row)
    return tuple(dict.fromkeys(key for row in rows for key in row)), rows


def _default_column(columns: tuple[str, ...], rows: list[dict]) -> str:
    """`text` if there is one, else the column holding the most characters of text."""
    if "text" in columns:
        return "text"
    return max(columns, key=lambda name: sum(len(row[name]) for row in rows if isinstance(row.get(name), str)))


def read_texts(
    source: str | Path | bytes,
    filename: str,
    column: str | None = None,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
) -> UploadedTexts:
    """The texts in `source` (a path or the file's bytes); `filename` decides the format.

    `column` picks the CSV column or JSONL field; None picks `_default_column`. Blank texts
    are dropped. Raises InputError for a file the user must fix.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{filename} is not a {', '.join(SUFFIXES)} file.")
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) > max_bytes:
        raise InputError(f"{filename} is {len(data) / 1e6:.1f} MB; uploads are limited to {max_bytes / 1e6:g} MB.")
    text = _decode(data, filename)
    if suffix == ".txt":
        columns: tuple[str, ...] = ()
        values: list[object] = list(text.splitlines())
    else:
        columns, rows = (_csv_rows if suffix == ".csv" else _jsonl_rows)(text, filename)
        if not rows:
            raise InputError(f"{filename} has no rows.")
        column = column or _default_column(columns, rows)
        if column not in columns:
            raise InputError(f"{filename} has no column {column!r}; its columns are: {', '.join(columns)}.")
        values = [row.get(column) for row in rows]
    texts = tuple(str(value).strip() for value in values if value is not None and str(value).strip())
    if not texts:
        where = f"column {column!r} of {filename}" if columns else filename
        raise InputError(f"There is no text in {where}.")
    if len(texts) > max_rows:
        raise InputError(f"{filename} has {len(texts):,} texts; the batching lab takes at most {max_rows:,}.")
    return UploadedTexts(texts, columns, column if columns else None)


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
