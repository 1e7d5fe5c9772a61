"""Text fields: one line rule everywhere, lone surrogates refused by name and place, counts in good English."""

from __future__ import annotations

import re

import pytest

from seqdemo.inputs import InputError, check_document, check_text, split_lines, split_texts
from seqdemo.padding import split_text_pairs
from seqdemo.plural import plural

# One line to a person: form feed, file separator, U+2028 (line separator), NEL, vertical tab, U+2029.
ONE_LINE = "one\x0ctwo\x1cthree\u2028four\x85five\x0bsix\u2029seven"


def test_only_newline_and_crlf_end_a_line():
    assert len(ONE_LINE.splitlines()) == 7  # what str.splitlines would make of it
    assert split_lines(ONE_LINE) == [ONE_LINE]
    assert split_lines("a\nb\r\nc") == ["a", "b", "c"]
    assert split_texts(f"{ONE_LINE}\r\nsecond\n\n") == [ONE_LINE, "second"]


def test_a_lone_carriage_return_stays_inside_its_line():
    assert split_texts("a\rb\nc") == ["a\rb", "c"]


def test_sentence_pairs_follow_the_same_rule():
    texts, pairs = split_text_pairs(f"{ONE_LINE}\nb", "x\u2028y\nz")
    assert texts == [ONE_LINE, "b"] and pairs == ["x\u2028y", "z"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("abc\ud800def", "character 4 is U+D800"),
        ("first line\nab\udfffc", "line 2, character 3 is U+DFFF"),
        ("\udc80", "character 1 is U+DC80"),
    ],
)
def test_a_lone_surrogate_is_refused_naming_the_field_and_where(text, where):
    where = re.escape(where)
    with pytest.raises(InputError, match=rf"^Texts: {where}, half of a surrogate pair"):
        split_texts(text)
    with pytest.raises(InputError, match=rf"^Document: {where}"):
        check_document(text)
    with pytest.raises(InputError, match=rf"^Passage \(the needle\): {where}"):
        check_text(text, "Passage (the needle)")


def test_a_surrogate_pair_is_one_character_and_accepted():
    emoji = "\ud83d\ude80".encode("utf-16", "surrogatepass").decode("utf-16")  # the pair JSON's "\ud83d\ude80" means
    assert emoji == "🚀"
    assert split_texts(f"rocket {emoji}") == ["rocket 🚀"]


def test_the_second_box_is_checked_under_its_own_name():
    with pytest.raises(InputError, match=r"^Second texts: character 2"):
        split_text_pairs("a", "b\ud800")


@pytest.mark.parametrize(
    ("count", "noun", "plural_form", "expected"),
    [
        (0, "text", None, "0 texts"),
        (1, "text", None, "1 text"),
        (2, "text", None, "2 texts"),
        (1_000, "token", None, "1,000 tokens"),
        (1, "batch", "batches", "1 batch"),
        (3, "batch", "batches", "3 batches"),
    ],
)
def test_plural_is_singular_for_one_only(count, noun, plural_form, expected):
    assert plural(count, noun, plural_form) == expected


def test_all_texts_together_are_bounded_before_they_are_split():
    message = r"^Texts: 5,000,001 characters in all; one request takes at most 5,000,000\.$"
    with pytest.raises(InputError, match=message):
        split_texts("x\n" * 2_500_000 + "x", max_texts=10_000_000, max_chars=10)
