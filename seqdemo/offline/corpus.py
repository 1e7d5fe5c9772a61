"""The English text the offline kit's tokenizers are trained on, shipped with the package.

`prose.txt` is everyday English written for the project (plus a few lines of other scripts
and emoji); `python_docs.txt` and `python_docstrings.txt` are prose paragraphs taken from
Python's reference documentation and standard-library docstrings (PSF licence).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_FILES = ("prose.txt", "python_docs.txt", "python_docstrings.txt")
# The everyday prose is small next to the documentation; counting it twice lets common
# words ("movie", "restaurant") become whole tokens, as they are in the Hub vocabularies.
PROSE_WEIGHT = 2


def corpus_lines() -> list[str]:
    """All corpus lines in a fixed order (prose first, PROSE_WEIGHT times), blank lines dropped."""
    lines: list[str] = []
    for name in CORPUS_FILES:
        text = (CORPUS_DIR / name).read_text(encoding="utf-8")
        repeat = PROSE_WEIGHT if name == "prose.txt" else 1
        lines.extend([line for line in text.splitlines() if line.strip()] * repeat)
    return lines


def corpus_fingerprint() -> str:
    """A short hash of the corpus, so the kit is rebuilt when its training text changes."""
    digest = hashlib.sha256(str(PROSE_WEIGHT).encode())
    for name in CORPUS_FILES:
        digest.update((CORPUS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]
