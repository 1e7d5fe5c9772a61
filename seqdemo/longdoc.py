"""Long documents: which tokens each strategy lets a classifier see, and what it answers.

The document is tokenized once, without special tokens; a strategy picks ranges of those
tokens (head, tail, head + tail, sliding windows, or as much as Longformer takes), wraps each
sequence in `<s>` … `</s>` and classifies it. What a model never sees cannot change its
answer: the ranges are the whole story, and they are in tokens, never in characters.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from seqdemo.inputs import InputError
from seqdemo.models import ModelStore

SHORT_ROLE = "short-classifier"
LONG_ROLE = "long-classifier"
AGGREGATIONS = ("mean", "max")
MAX_DOCUMENT_CHARS = 50_000
WINDOW_BATCH_SIZE = 8  # windows per forward pass: fewer passes, bounded memory
MAX_SWEEP_POSITIONS = 24
TIMED_RUNS = 2


@dataclass(frozen=True)
class Strategy:
    """A way to fit a document into a classifier: which role runs it and which token ranges it takes."""

    key: str
    title: str
    role: str


# Cheapest first, so that a streaming caller reports the fast ones before Longformer.
STRATEGIES: dict[str, Strategy] = {
    strategy.key: strategy
    for strategy in (
        Strategy("head", "head truncation", SHORT_ROLE),
        Strategy("tail", "tail truncation", SHORT_ROLE),
        Strategy("head_tail", "head + tail", SHORT_ROLE),
        Strategy("windows", "sliding windows", SHORT_ROLE),
        Strategy("longformer", "Longformer", LONG_ROLE),
    )
}


def sequence_limit(tokenizer: PreTrainedTokenizerBase, config: PretrainedConfig) -> int:
    """Tokens one sequence may hold, special tokens included.

    The smaller of the tokenizer's `model_max_length` and the model's positions: RoBERTa-family
    models number positions from `pad_token_id + 1`, so 514 position embeddings hold 512 tokens.
    """
    return min(tokenizer.model_max_length, config.max_position_embeddings - config.pad_token_id - 1)


@dataclass(frozen=True)
class Classifier:
    """A role's tokenizer and sequence-classification model, its class names and its limit."""

    role: str
    tokenizer: PreTrainedTokenizerBase
    model: Any
    label_names: tuple[str, ...]
    max_length: int

    @property
    def budget(self) -> int:
        """Document tokens one sequence holds: `max_length` less `<s>` and `</s>`."""
        return self.max_length - self.tokenizer.num_special_tokens_to_add()

    @property
    def attention_window(self) -> int | None:
        """Longformer's local attention window (the largest over layers); None for full attention."""
        window = getattr(self.model.config, "attention_window", None)
        return max(window) if isinstance(window, list | tuple) else window


def load_classifier(store: ModelStore, role: str) -> Classifier:
    """The role's classifier from the store (loaded once per process)."""
    model = store.model(role)
    tokenizer = store.tokenizer(role)
    return Classifier(role, tokenizer, model, store.label_names(role), sequence_limit(tokenizer, model.config))


def load_pair(store: ModelStore) -> dict[str, Classifier]:
    """Both classifiers of the showdown, by role."""
    return {role: load_classifier(store, role) for role in (SHORT_ROLE, LONG_ROLE)}


@dataclass(frozen=True)
class DocumentTokens:
    """A document tokenized without special tokens: `input_ids` (n,) and `offset_mapping` (n, 2) in characters."""

    text: str
    input_ids: np.ndarray
    offset_mapping: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)


def check_document(text: str | None, max_chars: int = MAX_DOCUMENT_CHARS) -> str:
    """The document stripped; InputError if it is empty or longer than `max_chars` characters."""
    text = (text or "").strip()
    if not text:
        raise InputError("The document is empty: paste a text or pick an example.")
    if len(text) > max_chars:
        raise InputError(f"The document has {len(text):,} characters; this tab takes at most {max_chars:,}.")
    return text


def read_document_file(path: str | Path, max_chars: int = MAX_DOCUMENT_CHARS) -> str:
    """The text of an uploaded file, checked like a pasted document; InputError if it is not UTF-8 text."""
    path = Path(path)
    if path.stat().st_size > 4 * max_chars:  # UTF-8 takes at most 4 bytes a character
        raise InputError(f"{path.name} is larger than a document of {max_chars:,} characters could be.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise InputError(f"{path.name} is not a text file: upload plain UTF-8 text (.txt, .md).")
    return check_document(text, max_chars)


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
    raise InputError(f"Unknown strategy {key!r}: choose from {', '.join(STRATEGIES)}.")


class _TensorMemoryPeak(TorchDispatchMode):
    """Traces every tensor storage an operator creates inside the block; `peak` is the most bytes alive at once.

    Storages that existed before (weights, inputs) are not counted, nor are views and in-place
    results, which allocate nothing; scratch space a fused kernel frees before returning is unseen.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._tracked: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self._refs: set[weakref.ref] = set()

    def _freed(self, size: int, ref: weakref.ref) -> None:
        self.live -= size
        self._refs.discard(ref)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 (torch's signature)
        out = func(*args, **(kwargs or {}))
        if func.is_view:
            return out
        inputs = {t.untyped_storage().data_ptr() for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for tensor in tree_leaves(out):
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            size = storage.nbytes()
            if size == 0 or storage in self._tracked or storage.data_ptr() in inputs:
                continue
            self._tracked[storage] = size
            self._refs.add(weakref.ref(storage, lambda ref, size=size: self._freed(size, ref)))
            self.live += size
            self.peak = max(self.peak, self.live)
        return out


def measure_peak_memory(run: Callable[[], object], device: torch.device) -> tuple[int, str]:
    """(bytes of tensor memory `run()` needs at its peak beyond what was allocated before, how it was measured)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before, "torch.cuda.max_memory_allocated"
    with _TensorMemoryPeak() as tracker:
        run()
    return tracker.peak, "tensor storages traced with a TorchDispatchMode"


def _sequences(document: DocumentTokens, key: str, ranges: Ranges) -> list[list[int]]:
    """Document ids per sequence: one per window, else the ranges joined into one sequence."""
    pieces = [document.input_ids[start:end].tolist() for start, end in ranges]
    return pieces if key == "windows" else [[token for piece in pieces for token in piece]]


@torch.inference_mode()
def sequence_logits(classifier: Classifier, sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, int]:
    """(logits (sequences, labels), tokens processed) for document-id sequences wrapped in `<s>` … `</s>`.

    Sequences run WINDOW_BATCH_SIZE at a time, each batch padded to its longest; Longformer's
    batches are padded on to a multiple of its attention window, with global attention on `<s>`.
    Tokens processed counts every slot of every batch: special tokens and padding included.
    """
    tokenizer, model = classifier.tokenizer, classifier.model
    rows = [[tokenizer.cls_token_id, *sequence, tokenizer.sep_token_id] for sequence in sequences]
    logits, processed = [], 0
    for first in range(0, len(rows), WINDOW_BATCH_SIZE):
        batch = tokenizer.pad(
            {"input_ids": rows[first : first + WINDOW_BATCH_SIZE]},
            padding=True,
            pad_to_multiple_of=classifier.attention_window,
            return_tensors="pt",
        ).to(model.device)
        if classifier.attention_window:
            batch["global_attention_mask"] = torch.zeros_like(batch["input_ids"])
            batch["global_attention_mask"][:, 0] = 1  # <s>, whose vector the classification head reads
        processed += batch["input_ids"].numel()
        logits.append(model(**batch).logits.float().cpu().numpy())
    return np.concatenate(logits), processed


def warm_up(classifier: Classifier, runs: int = 3) -> None:
    """Run the model a few times on a few tokens, so one-off set-up is not timed as the first strategy's latency.

    The first forward passes in a process are several times slower than later ones
    (allocator and kernel set-up); a timed comparison should not start cold.
    """
    for _ in range(runs):
        sequence_logits(classifier, [[classifier.tokenizer.unk_token_id] * 8])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def aggregate_windows(logits: np.ndarray, aggregation: str) -> np.ndarray:
    """Class probabilities (labels,) from window logits (windows, labels): softmax of their mean or per-class max."""
    combined = logits.mean(axis=0) if aggregation == "mean" else logits.max(axis=0)
    return softmax(combined)


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy saw and answered.

    `seen`: half-open ranges of document tokens (no special tokens) the model read;
    `sequence_logits`: (sequences, labels), one row per window or a single row;
    `probabilities`: (labels,). `tokens_processed` counts every slot the model computed,
    `<s>`/`</s>` and padding included. `latency_s` is one run's, or the fastest of
    TIMED_RUNS when measured; `peak_memory_bytes` is None when not measured.
    """

    key: str
    role: str
    label_names: tuple[str, ...]
    probabilities: np.ndarray
    sequence_logits: np.ndarray
    seen: Ranges
    document_tokens: int
    max_length: int
    tokens_processed: int
    latency_s: float
    peak_memory_bytes: int | None
    memory_method: str

    @property
    def title(self) -> str:
        return STRATEGIES[self.key].title

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
) -> StrategyResult:
    """Classify a document, tokenized by `classifier`'s tokenizer, with strategy `key`.

    With `measure`, peak memory is taken in a traced pass and latency is the fastest of
    TIMED_RUNS plain ones (the first run on a thread pays one-off set-up); without, one run.
    Latency covers building the batches and the forward passes, not tokenizing the document.
    """
    settings = settings.resolved(classifier.budget)
    seen = seen_ranges(key, len(tokens), classifier.budget, settings)
    sequences = _sequences(tokens, key, seen)
    peak, method = None, ""
    if measure:
        peak, method = measure_peak_memory(lambda: sequence_logits(classifier, sequences), classifier.model.device)
    latency = float("inf")
    for _ in range(TIMED_RUNS if measure else 1):
        started = time.perf_counter()
        logits, processed = sequence_logits(classifier, sequences)
        latency = min(latency, time.perf_counter() - started)
    probabilities = aggregate_windows(logits, settings.aggregation) if key == "windows" else softmax(logits[0])
    return StrategyResult(
        key=key,
        role=classifier.role,
        label_names=classifier.label_names,
        probabilities=probabilities,
        sequence_logits=logits,
        seen=seen,
        document_tokens=len(tokens),
        max_length=classifier.max_length,
        tokens_processed=processed,
        latency_s=latency,
        peak_memory_bytes=peak,
        memory_method=method,
    )


def chosen_strategies(keys: Sequence[str]) -> list[str]:
    """The strategies asked for, in STRATEGIES' order; InputError for none or an unknown one."""
    unknown = [key for key in keys if key not in STRATEGIES]
    if unknown:
        raise InputError(f"Unknown strategy {unknown[0]!r}: choose from {', '.join(STRATEGIES)}.")
    if not keys:
        raise InputError("Choose at least one strategy.")
    return [key for key in STRATEGIES if key in keys]


def compare_strategies(
    document: str,
    keys: Sequence[str],
    classifiers: Mapping[str, Classifier],
    settings: StrategySettings = StrategySettings(),
) -> Iterator[StrategyResult]:
    """Run the chosen strategies cheapest first (STRATEGIES' order), yielding each result as it is ready."""
    document = check_document(document)
    encoded: dict[str, DocumentTokens] = {}  # role -> the document in its tokenizer's tokens
    for key in chosen_strategies(keys):
        classifier = classifiers[STRATEGIES[key].role]
        if classifier.role not in encoded:
            encoded[classifier.role] = encode_document(document, classifier.tokenizer)
        yield run_strategy(key, encoded[classifier.role], classifier, settings)


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
    for each strategy run so far; `budgets[key]`: document tokens one sequence of its model holds.
    """

    passage_label: str
    passage_probability: float
    passage_tokens: int
    positions: np.ndarray
    document_tokens: np.ndarray
    probabilities: dict[str, np.ndarray]
    budgets: dict[str, int]
    keys: tuple[str, ...]


def sweep_needle(
    passage: str,
    document: str,
    keys: Sequence[str],
    classifiers: Mapping[str, Classifier],
    positions: int,
    settings: StrategySettings = StrategySettings(),
) -> Iterator[NeedleSweep]:
    """Insert `passage` at `positions` evenly spread points of `document` and run each strategy on every copy.

    The passage's label is what the short classifier answers for the passage alone. Yields the
    sweep after each strategy (cheapest first), so a caller can draw curves as they arrive.
    """
    passage = (passage or "").strip()
    if not passage:
        raise InputError("Enter the passage to move through the document.")
    document = check_document(document)
    if not 2 <= positions <= MAX_SWEEP_POSITIONS:
        raise InputError(f"The sweep takes 2 to {MAX_SWEEP_POSITIONS} positions; {positions} were asked for.")
    chosen = chosen_strategies(keys)
    short = classifiers[SHORT_ROLE]
    alone = run_strategy("head", encode_document(passage, short.tokenizer), short, measure=False)
    if not alone.sees_everything:
        raise InputError(
            f"The passage is {alone.document_tokens:,} tokens; the short classifier's window holds "
            f"{short.budget:,}, so no strategy of it could read the passage whole. Shorten it."
        )
    label = alone.label
    points = insertion_points(encode_document(document, short.tokenizer), positions)
    texts, starts = zip(*(insert_passage(document, passage, at) for at in points), strict=True)
    encoded = {SHORT_ROLE: [encode_document(text, short.tokenizer) for text in texts]}  # role -> swept documents
    located = [
        int(np.searchsorted(tokens.offset_mapping[:, 0], start))
        for tokens, start in zip(encoded[SHORT_ROLE], starts, strict=True)
    ]
    probabilities: dict[str, np.ndarray] = {}
    for key in chosen:
        classifier = classifiers[STRATEGIES[key].role]
        if label not in classifier.label_names:
            raise InputError(
                f"{classifier.role} has no label {label!r} (its labels: {', '.join(classifier.label_names)}), "
                "so its answers cannot be compared with the short classifier's."
            )
        if classifier.role not in encoded:
            encoded[classifier.role] = [encode_document(text, classifier.tokenizer) for text in texts]
        index = classifier.label_names.index(label)
        probabilities[key] = np.array(
            [
                run_strategy(key, tokens, classifier, settings, measure=False).probabilities[index]
                for tokens in encoded[classifier.role]
            ]
        )
        yield NeedleSweep(
            passage_label=label,
            passage_probability=float(alone.probabilities.max()),
            passage_tokens=alone.document_tokens,
            positions=np.array(located),
            document_tokens=np.array([len(tokens) for tokens in encoded[SHORT_ROLE]]),
            probabilities=dict(probabilities),
            budgets={key: classifiers[STRATEGIES[key].role].budget for key in chosen},
            keys=tuple(chosen),
        )
