"""User text in, validated: split into one text per line, with limits stated up front.

Every tab accepts pasted text; the limits keep a public Space responsive. Problems raise
`InputError` (a ValueError) with one sentence that the UI shows as it is.
"""

from __future__ import annotations

from seqdemo.errors import InputError

__all__ = ["MAX_CHARS_PER_TEXT", "MAX_TEXTS", "InputError", "describe_limits", "split_texts"]

MAX_TEXTS = 64
MAX_CHARS_PER_TEXT = 20_000


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
