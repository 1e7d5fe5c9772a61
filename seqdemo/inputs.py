"""User text in, validated: one text per line, or one long document, with limits stated up front.

Every tab accepts pasted text; the limits keep a public Space responsive. Problems raise
`InputError` (a ValueError) with one sentence that the UI shows as it is. A line ends at `\n`
(or `\r\n`) and nowhere else: `str.splitlines` would also split at form feeds, U+2028, NEL…,
which a person reads as one line. Every text field passes `check_text`: a lone surrogate is refused.
"""

from __future__ import annotations

import re

from seqdemo.errors import InputError
from seqdemo.plural import plural

__all__ = [
    "MAX_CHARS_PER_TEXT",
    "MAX_DOCUMENT_CHARS",
    "MAX_TEXTS",
    "MAX_TOTAL_CHARS",
    "InputError",
    "check_document",
    "check_text",
    "describe_limits",
    "split_lines",
    "split_texts",
]

MAX_TEXTS = 64
MAX_CHARS_PER_TEXT = 20_000
MAX_DOCUMENT_CHARS = 50_000
MAX_TOTAL_CHARS = 5_000_000  # all texts of one request together: what the largest upload (5 MB) can hold


SURROGATES = re.compile("[\ud800-\udfff]")  # in a str only unpaired: a JSON pair decodes to one character


def split_lines(text: str) -> list[str]:
    """`text` cut at each `\n` (a `\r\n` counts as one); every other character stays inside its line.

    split_lines("a\r\nb\x0cc\u2028d") == ["a", "b\x0cc\u2028d"]; split_lines("") == [""].
    """
    return text.replace("\r\n", "\n").split("\n")


def check_text(text: str | None, field: str) -> str:
    """`text` as given ("" for None); InputError naming `field` and the place of a lone surrogate.

    A lone surrogate (U+D800-U+DFFF without its pair, e.g. "abc\\ud800def" in JSON) is half of a
    character that UTF-8 cannot encode and no tokenizer accepts. It is refused rather than replaced,
    because the lessons show exactly the characters given: a silent U+FFFD would be a token the user
    never typed.
    """
    text = text or ""
    found = SURROGATES.search(text)
    if found:
        lines = split_lines(text[: found.start()])
        where = (
            f"line {len(lines)}, character {len(lines[-1]) + 1}" if len(lines) > 1 else f"character {found.start() + 1}"
        )
        raise InputError(
            f"{field}: {where} is U+{ord(found.group()):04X}, half of a surrogate pair without its other half, "
            "which is not a character; delete it or copy the text again from its source."
        )
    return text


def split_texts(
    raw: str | None,
    *,
    max_texts: int = MAX_TEXTS,
    max_chars: int = MAX_CHARS_PER_TEXT,
    field: str = "Texts",
) -> list[str]:
    """One text per non-blank line (`split_lines`), stripped; InputError, naming `field`, for no text or too much."""
    raw = check_text(raw, field)
    if len(raw) > MAX_TOTAL_CHARS:
        raise InputError(f"{field}: {len(raw):,} characters in all; one request takes at most {MAX_TOTAL_CHARS:,}.")
    texts = [line.strip() for line in split_lines(raw) if line.strip()]
    if not texts:
        raise InputError(f"{field}: enter at least one text (one per line).")
    if len(texts) > max_texts:
        raise InputError(
            f"{field}: {plural(len(texts), 'text')} given; this view takes at most {max_texts} (one per line)."
        )
    for number, text in enumerate(texts, start=1):
        if len(text) > max_chars:
            characters = plural(len(text), "character")
            raise InputError(f"{field}: text {number} has {characters}; the limit here is {max_chars:,} per text.")
    return texts


def describe_limits(max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS_PER_TEXT) -> str:
    """The limits in words, for the UI."""
    return f"Up to {max_texts} texts, one per line, {max_chars:,} characters each."


def check_document(text: str | None, max_chars: int = MAX_DOCUMENT_CHARS, field: str = "Document") -> str:
    """The document stripped; InputError naming `field` if it is empty, too long or not all characters."""
    text = check_text(text, field).strip()
    if not text:
        raise InputError(f"The {field.lower()} is empty: paste a text or pick an example.")
    if len(text) > max_chars:
        characters = plural(len(text), "character")
        raise InputError(f"The {field.lower()} has {characters}; this tab takes at most {max_chars:,}.")
    return text
