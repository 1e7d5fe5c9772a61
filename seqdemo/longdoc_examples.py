"""Example documents for the long-documents lesson, generated from the synthetic task, sized to the windows in force.

The texts come from one fixed seed; their lengths are measured in the short classifier's
tokens, so "the verdict sits past the short window" holds for the Hub pair (512 tokens) and
for the offline pair (smaller windows) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from seqdemo.errors import InputError
from seqdemo.offline.longdoc_task import decisive_passage, filler_sentence

EXAMPLE_SEED = 4
POSITIVE, NEGATIVE = 1, 0
# A passage for the needle sweep: positive, and short enough for any window.
SWEEP_PASSAGE = "Honestly, the film is wonderful, brilliant and charming. I loved every minute of it."


LATE, EARLY, MIXED, SHORT = (
    "Verdict at the end (past the short window)",
    "Verdict at the start",
    "Mixed: praise early, criticism late",
    "Short review",
)
# Example name -> what it shows, in the order the examples are offered.
EXAMPLE_NOTES = {
    LATE: "The only opinion sits near the end: head truncation never reads it; tail truncation and Longformer do.",
    EARLY: "The opinion opens the review: head truncation is enough, and tail truncation reads only plot.",
    MIXED: "Two opinions that disagree: each strategy answers with whichever it happens to read.",
    SHORT: "Fits in every window: all strategies read the same tokens, so the short classifier's answers agree.",
}


def _filler(rng: np.random.Generator, count_tokens: Callable[[str], int], tokens: int) -> list[str]:
    """Neutral sentences adding up to at most `tokens` tokens (but at least one sentence)."""
    sentences = [filler_sentence(rng)]
    used = count_tokens(sentences[0])
    while True:
        sentence = filler_sentence(rng)
        used += count_tokens(" " + sentence)
        if used > tokens:
            return sentences
        sentences.append(sentence)


def check_windows(short_budget: int, long_budget: int) -> None:
    """Raise ValueError unless the long window holds four short ones, which the examples and the sweep need.

    The long examples and the sweep's filler run 2.5 short windows, and Longformer must
    read them whole: only then does the lesson show the short window's cliff and not the long one's.
    """
    if long_budget < 4 * short_budget:
        raise ValueError(
            f"The long classifier reads {long_budget:,} document tokens, fewer than four windows of the short one "
            f"({short_budget:,}): the long-document examples and the sweep need four."
        )


def _examples(count_tokens: Callable[[str], int], short_budget: int, long_budget: int) -> Iterator[tuple[str, str]]:
    """(name, text) of each example in EXAMPLE_NOTES' order, generated one after the other from one seed."""
    check_windows(short_budget, long_budget)
    rng = np.random.default_rng(EXAMPLE_SEED)
    length = 5 * short_budget // 2
    sentences = {
        LATE: lambda: [*_filler(rng, count_tokens, length - 60), decisive_passage(rng, NEGATIVE), filler_sentence(rng)],
        EARLY: lambda: [decisive_passage(rng, POSITIVE), *_filler(rng, count_tokens, length - 30)],
        MIXED: lambda: [
            filler_sentence(rng),
            decisive_passage(rng, POSITIVE),
            *_filler(rng, count_tokens, length - 60),
            decisive_passage(rng, NEGATIVE),
        ],
        SHORT: lambda: [filler_sentence(rng), decisive_passage(rng, POSITIVE), filler_sentence(rng)],
    }
    for name in EXAMPLE_NOTES:
        yield name, " ".join(sentences[name]())


def example_documents(count_tokens: Callable[[str], int], short_budget: int, long_budget: int) -> dict[str, str]:
    """Example name -> text, for windows of `short_budget` and `long_budget` document tokens (`check_windows`).

    `count_tokens(text)` counts tokens without special tokens. The long examples are about 2.5
    short windows long and so fit the long window, which Longformer reads whole.
    """
    return dict(_examples(count_tokens, short_budget, long_budget))


def example_document(name: str, count_tokens: Callable[[str], int], short_budget: int, long_budget: int) -> str:
    """The text of the example called `name`, as in `example_documents`; only it and those before it are generated.

    Raises InputError for a name that is not one of EXAMPLE_NOTES.
    """
    if name not in EXAMPLE_NOTES:
        raise InputError(f"Unknown example {name!r}: choose one of {', '.join(EXAMPLE_NOTES)}.")
    return next(text for example, text in _examples(count_tokens, short_budget, long_budget) if example == name)


def sweep_document(count_tokens: Callable[[str], int], short_budget: int, long_budget: int) -> str:
    """Neutral filler for the needle sweep: two and a half short windows, less room for the passage twice.

    Two and a half windows show every cliff: head truncation reads the first, tail the last,
    and between them lies a stretch neither reads; sliding windows dilute one decisive window
    among three. A copy runs about 1,280 slots on Longformer's 256-token blocks, where three
    windows ran 1,536: the sweep fits its budget at base size on the Space's 2 CPUs.
    """
    check_windows(short_budget, long_budget)
    rng = np.random.default_rng(EXAMPLE_SEED + 1)
    tokens = 5 * short_budget // 2 - 2 * count_tokens(SWEEP_PASSAGE)
    return " ".join(_filler(rng, count_tokens, tokens))
