"""Each distinct sequence through a classifier once per request: what is asked again is looked up, the rest batched.

Within one request sequences repeat: head truncation's sequence is the first sliding window,
a short document is every strategy's one sequence, and in a needle sweep a window the passage
is not in is the same for every copy. `SequenceLogits.run` computes only what it has not seen,
longest first in batches of WINDOW_BATCH_SIZE, and reports that work: a shared sequence's cost is
counted once, for whoever asked for it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqdemo.longdoc.classifiers import Classifier, sequence_logits
from seqdemo.longdoc.measurement import measure_run


@dataclass(frozen=True)
class SequenceRun:
    """What one `run` answered and cost.

    `logits`: (sequences, labels) in the order asked; `computed`: how many of them ran now;
    `shared_with`: who first asked for the others, in order, without repeats; `tokens_processed`:
    slots of the batches that ran, specials and padding included; `seconds` and the peak memory
    are those batches' (None when memory was not measured, or nothing ran).
    """

    logits: np.ndarray
    computed: int
    shared_with: tuple[str, ...]
    tokens_processed: int
    seconds: float
    peak_memory_bytes: int | None
    memory_method: str


class SequenceLogits:
    """Logits of document-id sequences for one classifier, each distinct sequence computed once.

    One per request: it holds every sequence's logits until the request ends.
    """

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self._logits: dict[tuple[int, ...], np.ndarray] = {}
        self._owner: dict[tuple[int, ...], str] = {}

    def has(self, sequence: Sequence[int]) -> bool:
        """Whether `sequence` was computed already."""
        return tuple(int(token) for token in sequence) in self._logits

    def run(self, sequences: Sequence[Sequence[int]], owner: str = "", *, memory: bool = False) -> SequenceRun:
        """Logits for `sequences` (document ids, no specials; at least one), running only those not seen before.

        `owner` names who asks (a strategy's title), so later requests for the same sequence say
        whom they share it with; with `memory`, the run's peak tensor memory is traced.
        """
        keys = [tuple(int(token) for token in sequence) for sequence in sequences]
        new = sorted(dict.fromkeys(key for key in keys if key not in self._logits), key=len, reverse=True)
        shared_with = tuple(dict.fromkeys(self._owner[key] for key in keys if key in self._owner))
        processed, seconds, peak, method = 0, 0.0, None, ""
        if new:
            measured = measure_run(
                lambda: sequence_logits(self.classifier, new), self.classifier.model.device, memory=memory
            )
            logits, processed = measured.result
            seconds, peak, method = measured.seconds, measured.peak_memory_bytes, measured.memory_method
            for key, row in zip(new, logits, strict=True):
                self._logits[key] = row
                self._owner[key] = owner
        logits = np.stack([self._logits[key] for key in keys])
        return SequenceRun(logits, len(new), shared_with, processed, seconds, peak, method)
