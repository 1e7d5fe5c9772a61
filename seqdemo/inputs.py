"""User text in, validated: one text per line, or one long document, with limits stated up front.

Every tab accepts pasted text; the limits keep a public Space responsive. Problems raise
`InputError` (a ValueError) with one sentence that the UI shows as it is.
"""

from __future__ import annotations

from seqdemo.errors import InputError

__all__ = [
    "MAX_CHARS_PER_TEXT",
    "MAX_DOCUMENT_CHARS",
    "MAX_TEXTS",
    "InputError",
    "check_document",
    "describe_limits",
    "split_texts",
]

MAX_TEXTS = 64
MAX_CHARS_PER_TEXT = 20_000
MAX_DOCUMENT_CHARS = 50_000


def split_texts(raw: str | None, *, max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS_PER_TEXT) -> list[str]:
    """One text per non-blank line, stripped. Raises InputError for no text or too much."""
    texts = [line.strip() for line in (raw or "").splitlines() if line.strip()]
    if not texts:
        raise InputError("Enter at least one text (one per line).")
    if len(texts) > max_texts:
        raise InputError(f"{len(texts):,} texts given; this view takes at most {max_texts} (one per line).")
    for number, text in enumerate(texts, start=1):
        if len(text) > max_chars:
            raise InputError(f"Text {number} has {len(text):,} characters; the limit here is {max_chars:,} per text.")
    return texts


def describe_limits(max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS_PER_TEXT) -> str:
    """The limits in words, for the UI."""
    return f"Up to {max_texts} texts, one per line, {max_chars:,} characters each."


def check_document(text: str | None, max_chars: int = MAX_DOCUMENT_CHARS) -> str:
    """The document stripped; InputError if it is empty or longer than `max_chars` characters."""
    text = (text or "").strip()
    if not text:
        raise InputError("The document is empty: paste a text or pick an example.")
    if len(text) > max_chars:
        raise InputError(f"The document has {len(text):,} characters; this tab takes at most {max_chars:,}.")
    return text
