"""The model work a long-document request plans, checked against one request's budget before it runs.

A request's work is its distinct sequences, since each runs once: head truncation's sequence is also
the first sliding window, and in a needle sweep a window the passage is not in is the same in every
copy. So a sequence is known by what it holds: a span of the document (before the passage, or after
it, shifted by the passage's length), or a span of one copy that takes in the passage. Lengths are
counted in slots the model computes (`<s>`, `</s>`, Longformer's padding to its window).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from seqdemo.inputs import check_document, check_text
from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    MAX_SWEEP_POSITIONS,
    SHORT_ROLE,
    Classifier,
    Ranges,
    StrategySettings,
    chosen_strategies,
    encode_document,
    insertion_points,
    seen_ranges,
)
from seqdemo.request_budget import Work, check_work

Planned = dict[tuple[str, str, Hashable], int]  # (strategy, role, what a sequence holds) -> its slots


def sequence_slots(classifier: Classifier, document_tokens: int) -> int:
    """Slots one sequence of `document_tokens` takes in `classifier`: special tokens added, Longformer padded."""
    slots = document_tokens + classifier.max_length - classifier.budget
    multiple = classifier.pad_multiple
    return -(-slots // multiple) * multiple if multiple else slots


def strategy_sequences(key: str, ranges: Ranges) -> list[Ranges]:
    """The ranges each of a strategy's sequences holds: a window each, else all of them joined in one."""
    return [(span,) for span in ranges] if key == "windows" else [ranges]


def _plan(planned: Planned, key: str, classifier: Classifier, spans: list[tuple[Hashable, int]]) -> None:
    """Add one sequence, known by `spans` (what each range holds, its length), for strategy `key`."""
    content = tuple(what for what, _ in spans)
    planned[(key, classifier.role, content)] = sequence_slots(classifier, sum(length for _, length in spans))


def _work(planned: Planned) -> tuple[Work, str]:
    """The planned sequences' work, deduplicated across strategies of one role, and which strategy costs most."""
    by_role: dict[str, int] = {}
    by_key: dict[str, int] = {}
    seen: set[tuple[str, Hashable]] = set()
    for (key, role, content), slots in planned.items():
        if (role, content) in seen:
            continue
        seen.add((role, content))
        by_role[role] = by_role.get(role, 0) + slots
        by_key[key] = by_key.get(key, 0) + slots
    work = Work.of(by_role)
    costliest = max(by_key, key=by_key.get)
    share = by_key[costliest] / max(sum(by_key.values()), 1)
    return work, f"Most of it is {LONG_DOCUMENT_STRATEGIES[costliest].title} ({share:.0%})."


def comparison_work(
    document: str, keys: Sequence[str], pair: Mapping[str, Classifier], settings: StrategySettings
) -> tuple[Work, str]:
    """(work, which strategy costs most) of comparing `keys` on `document`; InputError for what it refuses."""
    document = check_document(document)
    planned: Planned = {}
    lengths: dict[str, int] = {}
    for key in chosen_strategies(list(keys)):
        classifier = pair[LONG_DOCUMENT_STRATEGIES[key].role]
        if classifier.role not in lengths:
            lengths[classifier.role] = len(encode_document(document, classifier.tokenizer))
        resolved = settings.resolved(classifier.budget)
        for ranges in strategy_sequences(key, seen_ranges(key, lengths[classifier.role], classifier.budget, resolved)):
            _plan(planned, key, classifier, [((start, end), end - start) for start, end in ranges])
    return _work(planned)


def check_comparison(
    document: str, keys: Sequence[str], pair: Mapping[str, Classifier], settings: StrategySettings
) -> None:
    """InputError, saying what to reduce, when comparing `keys` on `document` is more than one request's work."""
    work, costliest = comparison_work(document, keys, pair, settings)
    check_work(
        work,
        "Comparing these strategies on this document",
        f"{costliest} Shorten the document, lower the sliding windows' stride (fewer windows) or leave a strategy out.",
    )


def _span(start: int, end: int, at: int, passage: int, copy: int) -> tuple[Hashable, int]:
    """What a copy's tokens [start, end) hold: a document span (shifted back past the passage) or this copy's own."""
    if end <= at:
        return ("document", start, end), end - start
    if start >= at + passage:
        return ("document", start - passage, end - passage), end - start
    return ("copy", copy, start, end), end - start


def sweep_work(
    passage: str,
    document: str,
    keys: Sequence[str],
    pair: Mapping[str, Classifier],
    positions: int,
    settings: StrategySettings,
) -> tuple[Work, str]:
    """(work, which strategy costs most) of sweeping `passage` through `document` at `positions` points."""
    document = check_document(document)
    short = pair[SHORT_ROLE]
    points = insertion_points(encode_document(document, short.tokenizer), positions)
    planned: Planned = {}
    _plan(planned, "head", short, [(("passage",), len(encode_document(passage, short.tokenizer)))])  # its label
    encoded: dict[str, tuple[int, int, list[int]]] = {}  # role -> document tokens, passage tokens, insertion tokens
    for key in chosen_strategies(list(keys)):
        classifier = pair[LONG_DOCUMENT_STRATEGIES[key].role]
        if classifier.role not in encoded:
            tokens = encode_document(document, classifier.tokenizer)
            starts = np.searchsorted(tokens.offset_mapping[:, 0], points).tolist()  # each copy's passage, in tokens
            encoded[classifier.role] = len(tokens), len(encode_document(passage, classifier.tokenizer)), starts
        document_length, passage_length, starts = encoded[classifier.role]
        resolved = settings.resolved(classifier.budget)
        length = document_length + passage_length
        for copy, at in enumerate(starts):
            for ranges in strategy_sequences(key, seen_ranges(key, length, classifier.budget, resolved)):
                _plan(planned, key, classifier, [_span(start, end, at, passage_length, copy) for start, end in ranges])
    return _work(planned)


def check_sweep(
    passage: str | None,
    document: str | None,
    keys: Sequence[str],
    pair: Mapping[str, Classifier],
    positions: int,
    settings: StrategySettings,
) -> None:
    """InputError, saying what to reduce, when the sweep is more than one request's work.

    The passage is checked as a text field; an empty passage or a count of positions the sweep
    refuses is left for `sweep_needle` to refuse in its own words.
    """
    passage = check_text(passage, "Passage (the needle)").strip()
    if not passage or not 2 <= positions <= MAX_SWEEP_POSITIONS:
        return
    work, costliest = sweep_work(passage, document or "", keys, pair, positions, settings)
    check_work(
        work,
        f"Sweeping the passage through this document at {positions} positions",
        f"{costliest} Use fewer positions, a shorter document, a lower stride or fewer strategies.",
    )
