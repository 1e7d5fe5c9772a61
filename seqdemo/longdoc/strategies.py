"""Long-document strategies: which tokens each one lets a classifier see, and what it answers.

The document is tokenized once, without special tokens; a strategy picks ranges of those
tokens (head, tail, head + tail, sliding windows, or as much as Longformer takes), wraps each
sequence in `<s>` … `</s>` and classifies it. What a model never sees cannot change its
answer: the ranges are the whole story, and they are in tokens, never in characters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from transformers import PreTrainedTokenizerBase

from seqdemo.errors import InputError
from seqdemo.inputs import check_document
from seqdemo.longdoc.classifiers import LONG_ROLE, SHORT_ROLE, Classifier, softmax
from seqdemo.longdoc.sequences import SequenceLogits

AGGREGATIONS = ("mean", "max")


@dataclass(frozen=True)
class Strategy:
    """A way to fit a document into a classifier: which role runs it and which token ranges it takes."""

    key: str
    title: str
    role: str


# Cheapest first, so that a streaming caller reports the fast ones before Longformer.
LONG_DOCUMENT_STRATEGIES: dict[str, Strategy] = {
    strategy.key: strategy
    for strategy in (
        Strategy("head", "head truncation", SHORT_ROLE),
        Strategy("tail", "tail truncation", SHORT_ROLE),
        Strategy("head_tail", "head + tail", SHORT_ROLE),
        Strategy("windows", "sliding windows", SHORT_ROLE),
        Strategy("longformer", "Longformer", LONG_ROLE),
    )
}


@dataclass(frozen=True)
class DocumentTokens:
    """A document tokenized without special tokens: `input_ids` (n,) and `offset_mapping` (n, 2) in characters."""

    text: str
    input_ids: np.ndarray
    offset_mapping: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)


def encode_document(text: str, tokenizer: PreTrainedTokenizerBase) -> DocumentTokens:
    """Tokenize the whole document once (no truncation, no special tokens)."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids = np.asarray(encoded["input_ids"], dtype=np.int64)
    offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    return DocumentTokens(text, ids, offsets)


Ranges = tuple[tuple[int, int], ...]


def head_range(length: int, budget: int) -> Ranges:
    """The first `budget` tokens: `((0, min(length, budget)),)`, half-open."""
    return ((0, min(length, budget)),)


def tail_range(length: int, budget: int) -> Ranges:
    """The last `budget` tokens."""
    return ((max(0, length - budget), length),)


def head_tail_ranges(length: int, budget: int, head_tokens: int) -> Ranges:
    """The first `head_tokens` and the last `budget - head_tokens` tokens; the whole document if it fits."""
    if not 0 <= head_tokens <= budget:
        raise InputError(f"The head takes {head_tokens:,} tokens; choose 0 to {budget:,} (the window's size).")
    if length <= budget:
        return ((0, length),)
    ranges = ((0, head_tokens), (length - (budget - head_tokens), length))
    return tuple((start, end) for start, end in ranges if end > start)


def window_ranges(length: int, budget: int, stride: int) -> Ranges:
    """Windows of `budget` tokens, each sharing `stride` tokens with the one before, to the end.

    The same windows as the tokenizer's `return_overflowing_tokens=True` with this `stride`:
    starts 0, budget - stride, 2 (budget - stride), ...; the last window may be shorter.
    """
    if not 0 <= stride < budget:
        raise InputError(f"stride is {stride:,}; it must be at least 0 and smaller than the window ({budget:,}).")
    step = budget - stride
    windows = [(0, min(length, budget))]
    while windows[-1][1] < length:
        start = windows[-1][0] + step
        windows.append((start, min(length, start + budget)))
    return tuple(windows)


@dataclass(frozen=True)
class StrategySettings:
    """The knobs: the head's share of head + tail, the windows' overlap, and how window logits combine.

    None means a quarter of the window (128 + 382 for RoBERTa's 512, as in Sun et al., 2019).
    """

    head_tokens: int | None = None
    stride: int | None = None
    aggregation: str = "mean"

    def resolved(self, budget: int) -> StrategySettings:
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"Aggregation {self.aggregation!r} is not one of {', '.join(AGGREGATIONS)}.")
        quarter = budget // 4
        return replace(
            self,
            head_tokens=quarter if self.head_tokens is None else self.head_tokens,
            stride=quarter if self.stride is None else self.stride,
        )


def seen_ranges(key: str, length: int, budget: int, settings: StrategySettings) -> Ranges:
    """Ranges of document tokens strategy `key` shows a model whose sequences hold `budget` document tokens."""
    settings = settings.resolved(budget)
    if key in ("head", "longformer"):
        return head_range(length, budget)
    if key == "tail":
        return tail_range(length, budget)
    if key == "head_tail":
        return head_tail_ranges(length, budget, settings.head_tokens)
    if key == "windows":
        return window_ranges(length, budget, settings.stride)
    raise InputError(f"Unknown strategy {key!r}: choose from {', '.join(LONG_DOCUMENT_STRATEGIES)}.")


def strategy_sequences(document: DocumentTokens, key: str, ranges: Ranges) -> list[list[int]]:
    """Document ids per sequence: one per window, else the ranges joined into one sequence."""
    pieces = [document.input_ids[start:end].tolist() for start, end in ranges]
    return pieces if key == "windows" else [[token for piece in pieces for token in piece]]


def aggregate_windows(logits: np.ndarray, aggregation: str) -> np.ndarray:
    """Class probabilities (labels,) from window logits (windows, labels): softmax of their mean or per-class max."""
    combined = logits.mean(axis=0) if aggregation == "mean" else logits.max(axis=0)
    return softmax(combined)


def answer(key: str, logits: np.ndarray, aggregation: str) -> np.ndarray:
    """Strategy `key`'s class probabilities (labels,) from its sequences' logits (sequences, labels)."""
    return aggregate_windows(logits, aggregation) if key == "windows" else softmax(logits[0])


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy saw and answered.

    `seen`: half-open ranges of document tokens (no special tokens) the model read, and
    `seen_characters` the same ranges in characters of the document: from where a range's first
    token begins to where the token after it begins (the document's end after the last token);
    `sequence_logits`: (sequences, labels), one row per window or a single row;
    `probabilities`: (labels,). `tokens_processed` counts every slot the model computed for
    this strategy, `<s>`/`</s>` and padding included, and `latency_s` is that one run's: building
    the batches and the forward passes. Sequences an earlier strategy of the same request ran
    already (`shared_with` names them) cost nothing again; `computed_sequences` ran for this one.
    `peak_memory_bytes` is None when not measured or when nothing ran.
    """

    key: str
    role: str
    label_names: tuple[str, ...]
    probabilities: np.ndarray
    sequence_logits: np.ndarray
    seen: Ranges
    seen_characters: Ranges
    document_tokens: int
    max_length: int
    tokens_processed: int
    latency_s: float
    peak_memory_bytes: int | None
    memory_method: str
    computed_sequences: int
    shared_with: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return LONG_DOCUMENT_STRATEGIES[self.key].title

    @property
    def label(self) -> str:
        return self.label_names[int(np.argmax(self.probabilities))]

    @property
    def tokens_seen(self) -> int:
        """Distinct document tokens read: overlapping windows count once."""
        covered = np.zeros(self.document_tokens, dtype=bool)
        for start, end in self.seen:
            covered[start:end] = True
        return int(covered.sum())

    @property
    def sees_everything(self) -> bool:
        return self.seen == ((0, self.document_tokens),)


def run_strategy(
    key: str,
    tokens: DocumentTokens,
    classifier: Classifier,
    settings: StrategySettings = StrategySettings(),
    *,
    measure: bool = True,
    computed: SequenceLogits | None = None,
) -> StrategyResult:
    """Classify a document, tokenized by `classifier`'s tokenizer, with strategy `key`: the model runs once.

    `computed` holds the request's sequences run so far (for `classifier`): those are looked up,
    not run again. With `measure`, peak memory is traced during that one run. Latency covers
    building the batches and the forward passes, not tokenizing the document.
    """
    settings = settings.resolved(classifier.budget)
    seen = seen_ranges(key, len(tokens), classifier.budget, settings)
    computed = computed or SequenceLogits(classifier)
    run = computed.run(strategy_sequences(tokens, key, seen), LONG_DOCUMENT_STRATEGIES[key].title, memory=measure)
    logits = run.logits
    starts = np.append(tokens.offset_mapping[:, 0], len(tokens.text))  # where each token begins, then the end
    probabilities = answer(key, logits, settings.aggregation)
    return StrategyResult(
        key=key,
        role=classifier.role,
        label_names=classifier.label_names,
        probabilities=probabilities,
        sequence_logits=logits,
        seen=seen,
        seen_characters=tuple((int(starts[start]), int(starts[end])) for start, end in seen),
        document_tokens=len(tokens),
        max_length=classifier.max_length,
        tokens_processed=run.tokens_processed,
        latency_s=run.seconds,
        peak_memory_bytes=run.peak_memory_bytes,
        memory_method=run.memory_method,
        computed_sequences=run.computed,
        shared_with=run.shared_with,
    )


def chosen_strategies(keys: Sequence[str]) -> list[str]:
    """The strategies asked for, in LONG_DOCUMENT_STRATEGIES' order; InputError for none or an unknown one."""
    unknown = [key for key in keys if key not in LONG_DOCUMENT_STRATEGIES]
    if unknown:
        raise InputError(f"Unknown strategy {unknown[0]!r}: choose from {', '.join(LONG_DOCUMENT_STRATEGIES)}.")
    if not keys:
        raise InputError("Choose at least one strategy.")
    return [key for key in LONG_DOCUMENT_STRATEGIES if key in keys]


def compare_long_document_strategies(
    document: str,
    keys: Sequence[str],
    classifiers: Mapping[str, Classifier],
    settings: StrategySettings = StrategySettings(),
) -> Iterator[StrategyResult]:
    """Run the chosen strategies cheapest first (LONG_DOCUMENT_STRATEGIES' order), yielding each result when ready.

    Every distinct sequence runs once: one a strategy shares with an earlier one (head
    truncation's is the first sliding window) is looked up, its cost counted for the earlier.
    """
    document = check_document(document)
    encoded: dict[str, DocumentTokens] = {}  # role -> the document in its tokenizer's tokens
    computed: dict[str, SequenceLogits] = {}  # role -> the sequences run for this request
    for key in chosen_strategies(keys):
        classifier = classifiers[LONG_DOCUMENT_STRATEGIES[key].role]
        if classifier.role not in encoded:
            encoded[classifier.role] = encode_document(document, classifier.tokenizer)
            computed[classifier.role] = SequenceLogits(classifier)
        yield run_strategy(key, encoded[classifier.role], classifier, settings, computed=computed[classifier.role])
