"""The needle sweep: one decisive passage moved through a document, and each strategy's answer at every point.

Where the passage leaves a strategy's window, its probability for the passage's label drops
to a guess: the truncation cliff. Insertion points sit at sentence boundaries spread evenly
over the document's tokens; positions are reported in the short classifier's tokens. Most
copies share most sequences (the windows away from the passage), and each runs once.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from seqdemo.errors import InputError
from seqdemo.inputs import check_document
from seqdemo.longdoc.classifiers import SHORT_ROLE, Classifier
from seqdemo.longdoc.sequences import SequenceLogits
from seqdemo.longdoc.strategies import (
    LONG_DOCUMENT_STRATEGIES,
    DocumentTokens,
    StrategySettings,
    answer,
    chosen_strategies,
    encode_document,
    run_strategy,
    seen_ranges,
    strategy_sequences,
)

MAX_SWEEP_POSITIONS = 24
# New tokens per streamed update: about eight 512-token windows, a second or so of base-sized work on 2 cores.
UPDATE_TOKENS = 4096


def insert_passage(text: str, passage: str, at: int) -> tuple[str, int]:
    """(`text` with `passage` inserted at character `at`, one space either side; the passage's first character)."""
    before, after = text[:at].rstrip(), text[at:].lstrip()
    document = " ".join(part for part in (before, passage, after) if part)
    return document, len(before) + 1 if before else 0


def insertion_points(tokens: DocumentTokens, count: int) -> list[int]:
    """Up to `count` distinct character offsets spread evenly over the document's tokens, from start to end.

    Each sits at a sentence boundary, or between words when the text has too few sentences;
    two targets that snap to the same boundary give one point.
    """
    text = tokens.text
    boundaries = [0, *(m.end() for m in re.finditer(r"[.!?]\s+", text)), len(text)]
    if len(boundaries) < count:
        boundaries = [0, *(m.end() for m in re.finditer(r"\s+", text)), len(text)]
    starts = np.append(tokens.offset_mapping[:, 0], len(text))
    targets = starts[np.linspace(0, len(tokens), count).round().astype(int)]
    candidates = np.asarray(boundaries)
    return sorted({int(candidates[np.abs(candidates - target).argmin()]) for target in targets})


@dataclass(frozen=True)
class NeedleSweep:
    """Each strategy's probability for the passage's label as the passage moves through a document.

    `positions`: (points,) document-token index where the passage starts in each swept document;
    `document_tokens`: (points,) their lengths; `probabilities[key]`: (points,) P(`passage_label`)
    for each strategy started so far, NaN where its point is not computed yet (`done[key]` are);
    `budgets[key]`: document tokens one sequence of its model holds.
    """

    passage_label: str
    passage_probability: float
    passage_tokens: int
    positions: np.ndarray
    document_tokens: np.ndarray
    probabilities: dict[str, np.ndarray]
    budgets: dict[str, int]
    keys: tuple[str, ...]
    done: dict[str, int]

    @property
    def complete(self) -> bool:
        return all(self.done.get(key, 0) == len(self.positions) for key in self.keys)


def coarse_to_fine(count: int) -> list[int]:
    """0 to `count` - 1, both ends first, then each gap's middle, breadth first: 0, 9, 4, 2, 6, 1, 3, 5, 7, 8 for 10.

    Points computed in this order span the document from the first update, and each later one
    halves a gap, so a slow strategy's curve has its whole shape early and sharpens as it fills in.
    """
    order = [0, count - 1][: min(count, 2)]
    gaps = deque([(0, count - 1)])
    while gaps:
        start, end = gaps.popleft()
        if end - start > 1:
            middle = (start + end) // 2
            order.append(middle)
            gaps.extend(((start, middle), (middle, end)))
    return order


def _update_groups(copies: Sequence[list[list[int]]], computed: SequenceLogits) -> Iterator[list[int]]:
    """Indices of copies, coarse to fine, in groups that each bring about UPDATE_TOKENS of sequences not run yet.

    The first group is the two ends at most, so a strategy's first update comes soon and spans the document.
    """
    group: list[int] = []
    pending: set[tuple[int, ...]] = set()
    tokens = 0
    for step, index in enumerate(coarse_to_fine(len(copies)), start=1):
        group.append(index)
        for sequence in map(tuple, copies[index]):
            if sequence not in pending and not computed.has(sequence):
                pending.add(sequence)
                tokens += len(sequence)
        if tokens >= UPDATE_TOKENS or step == 2:
            yield group
            group, tokens = [], 0
    if group:
        yield group


def sweep_needle(
    passage: str,
    document: str,
    keys: Sequence[str],
    classifiers: Mapping[str, Classifier],
    positions: int,
    settings: StrategySettings = StrategySettings(),  # noqa: B008 (frozen, so one shared default is safe)
) -> Iterator[NeedleSweep]:
    """Insert `passage` at `positions` evenly spread points of `document` and run each strategy on every copy.

    The passage's label is what the short classifier answers for the passage alone. Every
    distinct sequence runs once, whichever copies and strategies share it (a window the passage
    is not in is the same in every copy), and what is new runs in batches. Yields the sweep as
    points complete, strategy by strategy, cheapest first: the short classifier's curves come
    whole or in a few steps, Longformer's points fill in a few at a time, coarse to fine (its
    first update spans the document; each later one fills gaps).
    """
    passage = (passage or "").strip()
    if not passage:
        raise InputError("Enter the passage to move through the document.")
    document = check_document(document)
    if not 2 <= positions <= MAX_SWEEP_POSITIONS:
        raise InputError(f"The sweep takes 2 to {MAX_SWEEP_POSITIONS} positions; {positions} were asked for.")
    chosen = chosen_strategies(keys)
    short = classifiers[SHORT_ROLE]
    computed = {SHORT_ROLE: SequenceLogits(short)}  # role -> the sequences run for this sweep
    passage_tokens = encode_document(passage, short.tokenizer)
    alone = run_strategy("head", passage_tokens, short, measure=False, computed=computed[SHORT_ROLE])
    if not alone.sees_everything:
        raise InputError(
            f"The passage is {alone.document_tokens:,} tokens; the short classifier's window holds "
            f"{short.budget:,}, so no strategy of it could read the passage whole. Shorten it."
        )
    label = alone.label
    points = insertion_points(encode_document(document, short.tokenizer), positions)
    texts, starts = zip(*(insert_passage(document, passage, at) for at in points), strict=True)
    encoded = {SHORT_ROLE: [encode_document(text, short.tokenizer) for text in texts]}  # role -> swept documents
    located = np.array(
        [
            int(np.searchsorted(tokens.offset_mapping[:, 0], start))
            for tokens, start in zip(encoded[SHORT_ROLE], starts, strict=True)
        ]
    )
    probabilities: dict[str, np.ndarray] = {}
    done: dict[str, int] = {}
    budgets = {key: classifiers[LONG_DOCUMENT_STRATEGIES[key].role].budget for key in chosen}
    for key in chosen:
        classifier = classifiers[LONG_DOCUMENT_STRATEGIES[key].role]
        if label not in classifier.label_names:
            raise InputError(
                f"{classifier.role} has no label {label!r} (its labels: {', '.join(classifier.label_names)}), "
                "so its answers cannot be compared with the short classifier's."
            )
        if classifier.role not in encoded:
            encoded[classifier.role] = [encode_document(text, classifier.tokenizer) for text in texts]
            computed[classifier.role] = SequenceLogits(classifier)
        memo, index = computed[classifier.role], classifier.label_names.index(label)
        resolved = settings.resolved(classifier.budget)
        copies = [
            strategy_sequences(tokens, key, seen_ranges(key, len(tokens), classifier.budget, resolved))
            for tokens in encoded[classifier.role]
        ]
        probabilities[key] = np.full(len(texts), np.nan)
        done[key] = 0
        for group in _update_groups(copies, memo):
            memo.run([sequence for copy in group for sequence in copies[copy]])  # the group's new sequences, batched
            for copy in group:
                logits = memo.run(copies[copy]).logits  # all computed now: looked up
                probabilities[key][copy] = answer(key, logits, resolved.aggregation)[index]
            done[key] += len(group)
            yield NeedleSweep(
                passage_label=label,
                passage_probability=float(alone.probabilities.max()),
                passage_tokens=alone.document_tokens,
                positions=located,
                document_tokens=np.array([len(tokens) for tokens in encoded[SHORT_ROLE]]),
                probabilities={name: values.copy() for name, values in probabilities.items()},
                budgets=budgets,
                keys=tuple(chosen),
                done=dict(done),
            )
