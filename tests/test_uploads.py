"""Uploaded .txt/.csv/.jsonl files become texts; broken files fail with one clear sentence."""

from __future__ import annotations

import csv
import io
import json

import pytest

from seqdemo.inputs import InputError
from seqdemo.uploads import read_texts

TEXTS = ["First review, with a comma.", 'A "quoted" one', "Line one\nline two of the same text", "Last"]


def csv_bytes(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def jsonl_bytes(rows: list[dict[str, object]]) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def test_txt_gives_one_text_per_non_blank_line(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("one\n\n  two  \nthree\n", encoding="utf-8")
    uploaded = read_texts(path, path.name)
    assert uploaded.texts == ("one", "two", "three")
    assert (uploaded.columns, uploaded.column) == ((), None)


def test_csv_reads_the_text_column_by_default_with_quotes_and_line_breaks():
    rows = [{"id": i, "text": text, "label": "pos"} for i, text in enumerate(TEXTS)]
    uploaded = read_texts(csv_bytes(rows), "reviews.csv")
    assert uploaded.texts == tuple(TEXTS)
    assert (uploaded.columns, uploaded.column) == (("id", "text", "label"), "text")


def test_csv_without_a_text_column_defaults_to_the_one_holding_most_text():
    rows = [{"id": i, "review": text, "stars": 5} for i, text in enumerate(TEXTS)]
    assert read_texts(csv_bytes(rows), "r.csv").column == "review"


def test_csv_reads_the_chosen_column():
    rows = [{"text": text, "summary": text.upper()} for text in TEXTS]
    uploaded = read_texts(csv_bytes(rows), "r.csv", column="summary")
    assert uploaded.texts == tuple(text.upper() for text in TEXTS)


def test_jsonl_reads_a_field_and_lists_every_field():
    rows = [{"text": text, "meta": {"n": i}} for i, text in enumerate(TEXTS)] + [{"text": "extra", "lang": "en"}]
    uploaded = read_texts(jsonl_bytes(rows), "data.jsonl")
    assert uploaded.texts == (*TEXTS, "extra")
    assert uploaded.columns == ("text", "meta", "lang")


def test_a_byte_order_mark_is_not_part_of_the_first_column():
    data = "\ufeff".encode() + csv_bytes([{"text": "hello"}])
    assert read_texts(data, "bom.csv").texts == ("hello",)


def test_as_lines_puts_each_text_on_one_line():
    uploaded = read_texts(csv_bytes([{"text": text} for text in TEXTS]), "r.csv")
    lines = uploaded.as_lines().split("\n")
    assert len(lines) == len(TEXTS)
    assert lines[2] == "Line one line two of the same text"


@pytest.mark.parametrize(
    ("data", "filename", "column", "message"),
    [
        ("Café".encode("latin-1"), "latin.txt", None, r"latin.txt is not UTF-8 text \(byte 0xe9 at position 3"),
        (b"", "empty.txt", None, "There is no text in empty.txt"),
        (b"\n  \n", "blank.txt", None, "There is no text in blank.txt"),
        (b"text,label\n", "header.csv", None, "header.csv has no rows"),
        (b"", "empty.csv", None, "empty.csv has no rows"),
        (csv_bytes([{"body": "x", "label": 1}]), "m.csv", "text", r"no column 'text'; its columns are: body, label\."),
        (jsonl_bytes([{"body": "x"}]), "m.jsonl", "text", r"no column 'text'; its columns are: body\."),
        (csv_bytes([{"text": " ", "label": 1}]), "b.csv", "text", "There is no text in column 'text' of b.csv"),
        (b'{"text": "ok"}\n{"text": oops}\n', "bad.jsonl", None, "Line 2 of bad.jsonl is not valid JSON"),
        (b'{"text": "ok"}\n["a list"]\n', "list.jsonl", None, "Line 2 of list.jsonl is not a JSON object"),
        (b"%PDF-1.4", "paper.pdf", None, r"paper.pdf is not a \.txt, \.csv, \.jsonl file"),
    ],
)
def test_bad_files_fail_with_a_clear_message(data, filename, column, message):
    with pytest.raises(InputError, match=message):
        read_texts(data, filename, column)


def test_limits_on_size_and_rows_are_enforced():
    data = "\n".join(f"text {i}" for i in range(11)).encode()
    with pytest.raises(InputError, match=r"has 11 texts; the batching lab takes at most 10\."):
        read_texts(data, "many.txt", max_rows=10)
    with pytest.raises(InputError, match=r"big.txt is .* MB; uploads are limited to"):
        read_texts(b"x" * 11, "big.txt", max_bytes=10)


@pytest.mark.parametrize(
    ("data", "header", "column", "texts"),
    [
        # The issue's file: no header, so "hello world" is a text, not a column name.
        (b"hello world,1\nsecond text,2\nthird,3\n", False, "column 1", ("hello world", "second text", "third")),
        (b'id,review\n1,great film\n2,"bad, boring film"\n', True, "review", ("great film", "bad, boring film")),
        (b"review\ngreat film\nbad film\n", True, "review", ("great film", "bad film")),
        (b"great film\nbad, boring film\n", False, "column 1", ("great film", "bad")),  # a comma starts a new cell
        (b"text\nhello\nworld\n", True, "text", ("hello", "world")),
        (b"cat\ndog\nbird\n", False, "column 1", ("cat", "dog", "bird")),  # one-word texts: no sign of a header
    ],
)
def test_a_csv_header_row_is_detected_not_assumed(data, header, column, texts):
    uploaded = read_texts(data, "f.csv")
    assert (uploaded.header, uploaded.column, uploaded.texts) == (header, column, texts)
    expected = "Its first row was read as column names." if header else "It has no header row"
    assert uploaded.notes().startswith(expected)


def test_a_headerless_csv_numbers_its_columns_and_keeps_its_first_row():
    uploaded = read_texts(b"5,first review text\n3,second review text\n", "r.csv")
    assert uploaded.columns == ("column 1", "column 2")
    assert uploaded.texts == ("first review text", "second review text")


def test_rows_without_the_text_cell_are_skipped_and_listed_by_row():
    data = b"id,review\n1,good\n2,fine\n3\n4,\n5,great\n6\n"
    uploaded = read_texts(data, "r.csv")
    assert uploaded.texts == ("good", "fine", "great")
    assert uploaded.notes() == (
        "Its first row was read as column names. Skipped 2 rows without a `review` cell: rows 4, 7. "
        "Skipped 1 row with an empty `review`: row 5."
    )


def test_json_values_that_are_not_strings_are_skipped_and_listed_not_repr_d():
    rows = [{"text": "ok"}, {"text": {"nested": 1}}, {"text": 5}, {"other": "x"}, {"text": None}, {"text": ["a"]}]
    uploaded = read_texts(jsonl_bytes(rows), "d.jsonl")
    assert uploaded.texts == ("ok",)
    assert "{'nested': 1}" not in uploaded.as_lines()
    assert uploaded.notes() == (
        "Skipped 1 line whose `text` is not a string (JSON object): line 2. "
        "Skipped 1 line whose `text` is not a string (JSON int): line 3. "
        "Skipped 2 lines without a `text` field: lines 4, 5. "
        "Skipped 1 line whose `text` is not a string (JSON list): line 6."
    )


def test_many_skipped_rows_are_counted_after_the_first_ten():
    data = ("id,text\n" + "\n".join(f"{i},ok" if i % 2 else f"{i}," for i in range(30))).encode()
    note = read_texts(data, "r.csv").notes()
    assert note.endswith("Skipped 15 rows with an empty `text`: rows 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 and 5 more.")


def test_txt_and_jsonl_split_lines_at_newlines_only():
    assert read_texts("a\u2028b\x0cc\r\nd".encode(), "t.txt").texts == ("a\u2028b\x0cc", "d")
    line = json.dumps({"text": "x\u2028y"}, ensure_ascii=False)  # JSON allows a raw U+2028 inside a string
    assert read_texts(f"{line}\n{line}".encode(), "d.jsonl").texts == ("x\u2028y", "x\u2028y")
