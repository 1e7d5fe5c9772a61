"""Counts in words: "1 text", "2 texts", "1,024 tokens" — the one way a count is written for people.

English nouns here take an "s" except where `plural` says otherwise ("1 copy", "2 copies").
"""

from __future__ import annotations


def plural(count: int, noun: str, plural: str | None = None) -> str:
    """`count` with thousands separators and `noun`, singular for exactly 1: plural(1, "text") == "1 text"."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
