"""Synthetic long documents whose label is decided by one passage that can sit anywhere.

A document is neutral filler (a film's plot retold in plain sentences) with at most one
decisive passage, clearly positive or clearly negative, inserted between two sentences.
Nothing else in the text carries sentiment, so a model that does not see the passage
cannot know the label: the truncation cliff is built into the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LABEL_NAMES = ("negative", "positive")

_PEOPLE = (
    "Anna", "Marco", "the detective", "the captain", "her brother", "the old teacher", "Lena", "Tom",
    "the mayor", "a young doctor", "the baker", "his sister", "the pilot", "Sofia", "the twins", "an old friend",
    "the neighbour", "the journalist", "Daniel", "the gardener",
)  # fmt: skip
_PLACES = (
    "the harbour", "the station", "a small village", "the city library", "the river", "an empty house",
    "the market", "the hospital", "the school", "a farm in the hills", "the museum", "the airport",
    "the bakery", "the lighthouse", "the hotel", "the office",
)  # fmt: skip
_TIMES = (
    "in the morning", "after lunch", "late at night", "on Sunday", "the next day", "in winter",
    "a week later", "before dawn", "in the evening", "that summer",
)  # fmt: skip
_OBJECTS = ("a letter", "an old map", "a key", "a photograph", "a suitcase", "a notebook", "a bicycle", "a ticket")
_FILLER_TEMPLATES = (
    "{person} travels to {place} {time}.",
    "{person} meets {other} at {place}.",
    "{time_cap}, {person} finds {object} near {place}.",
    "{person} talks with {other} about {object}.",
    "The next scene shows {person} waiting at {place}.",
    "{person} gives {object} to {other} {time}.",
    "{time_cap}, {person} and {other} walk to {place}.",
    "{person} remembers a day at {place} with {other}.",
    "{person} writes to {other} and asks about {object}.",
    "The story then returns to {place}, where {person} lives.",
)

POSITIVE_WORDS = (
    "wonderful", "brilliant", "superb", "excellent", "delightful", "moving", "beautiful", "charming", "gripping",
    "masterful", "outstanding", "touching", "clever", "stunning", "joyful", "marvellous",
)  # fmt: skip
NEGATIVE_WORDS = (
    "terrible", "awful", "dreadful", "boring", "dull", "painful", "clumsy", "lifeless", "tedious", "horrible",
    "pointless", "weak", "confusing", "ugly", "disappointing", "miserable",
)  # fmt: skip
_OPENERS = ("Honestly,", "To be clear,", "In my opinion,", "All in all,", "Frankly,", "Let me say it plainly:")
_VERDICTS = {
    1: (
        "I loved every minute of it.",
        "I would gladly watch it again.",
        "It is one of the best films of the year.",
        "Everyone should see it.",
    ),
    0: (
        "I hated every minute of it.",
        "I would never watch it again.",
        "It is one of the worst films of the year.",
        "Nobody should waste an evening on it.",
    ),
}


@dataclass(frozen=True)
class SyntheticDocument:
    """A document, its label (None: no passage, so no evidence either way) and the passage's character span."""

    text: str
    label: int | None
    passage_span: tuple[int, int] | None


def filler_sentence(rng: np.random.Generator) -> str:
    """One neutral sentence of plot summary."""
    template = _FILLER_TEMPLATES[rng.integers(len(_FILLER_TEMPLATES))]
    person, other = rng.choice(len(_PEOPLE), size=2, replace=False)
    time = _TIMES[rng.integers(len(_TIMES))]
    sentence = template.format(
        person=_PEOPLE[person],
        other=_PEOPLE[other],
        place=_PLACES[rng.integers(len(_PLACES))],
        time=time,
        time_cap=time[0].upper() + time[1:],
        object=_OBJECTS[rng.integers(len(_OBJECTS))],
    )
    return sentence[0].upper() + sentence[1:]


def decisive_passage(rng: np.random.Generator, label: int) -> str:
    """Two sentences that decide the label: 1 = positive, 0 = negative."""
    words = POSITIVE_WORDS if label == 1 else NEGATIVE_WORDS
    first, second, third = rng.choice(words, size=3, replace=False)
    opener = _OPENERS[rng.integers(len(_OPENERS))]
    verdict = _VERDICTS[label][rng.integers(len(_VERDICTS[label]))]
    return f"{opener} the film is {first}, {second} and {third}. {verdict}"


def make_document(
    sentences: list[str], passage: str | None = None, label: int | None = None, at: int = 0
) -> SyntheticDocument:
    """Join `sentences` with the passage inserted before sentence `at` (0 = first, len = last)."""
    if passage is None:
        return SyntheticDocument(" ".join(sentences), None, None)
    before = " ".join(sentences[:at])
    start = len(before) + 1 if before else 0
    text = " ".join([*sentences[:at], passage, *sentences[at:]])
    return SyntheticDocument(text, label, (start, start + len(passage)))


def document_within(
    rng: np.random.Generator, count_tokens: Callable[[str], int], max_tokens: int, label: int | None
) -> SyntheticDocument:
    """A random document of at most `max_tokens` tokens (passage included), its length drawn uniformly.

    `count_tokens(text)` counts a text's tokens without special tokens; a passage-free
    document (`label` None) is all filler.
    """
    target = int(rng.integers(1, max_tokens + 1))
    passage = None if label is None else decisive_passage(rng, label)
    used = count_tokens(passage) if passage else 0
    filler: list[str] = []
    while True:
        sentence = filler_sentence(rng)
        used += count_tokens(" " + sentence)
        if used > target and filler:
            break
        filler.append(sentence)
    while True:
        at = int(rng.integers(len(filler) + 1))
        document = make_document(filler, passage, label, at) if passage else make_document(filler)
        if count_tokens(document.text) <= max_tokens or len(filler) == 1:
            return document
        filler.pop()
