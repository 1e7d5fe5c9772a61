"""Batching many sequences: which texts share a batch decides how much of each tensor is padding.

Every strategy is an order of the texts cut into batches, each padded to a width: `fixed` pads
to `max_length`, the others to their longest member. The subtle part is that a batch's cost is
rows × width, so one long text drags every short text in its batch up to its length; grouping
by length is what removes the waste, and results must then be put back in the caller's order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from seqdemo.errors import InputError
from seqdemo.padding import pad_encodings

# strategy -> what it does, in the words the UI shows.
BATCHING_STRATEGIES: dict[str, str] = {
    "fixed": "fixed max_length: arrival order, every batch padded to max_length",
    "dynamic": "dynamic padding: arrival order, each batch padded to its longest text",
    "grouped": "length-grouped: shuffled mega-batches sorted by length (as group_by_length)",
    "sorted": "sorted buckets: all texts sorted by length, then cut into batches",
    "budget": "token budget: sorted, batches filled while rows × longest ≤ max_tokens",
}


@dataclass(frozen=True)
class BatchPlan:
    """Texts split into padded batches.

    `batches[b]` holds indices into the caller's texts; concatenated they are `order`, a
    permutation of `range(len(lengths))`. `widths[b]` is batch b's padded length and
    `lengths` (sequences,) the token counts after truncation to `max_length`.
    """

    strategy: str
    batches: tuple[np.ndarray, ...]
    widths: np.ndarray
    lengths: np.ndarray

    @property
    def order(self) -> np.ndarray:
        """(sequences,) the indices in the order the batches process them."""
        return np.concatenate(self.batches)

    @property
    def batch_count(self) -> int:
        return len(self.batches)

    @property
    def real_tokens(self) -> int:
        return int(self.lengths.sum())

    @property
    def padded_tokens(self) -> int:
        """Tokens in the padded tensors: the sum of rows × width over batches."""
        return int(sum(len(batch) * int(width) for batch, width in zip(self.batches, self.widths, strict=True)))

    @property
    def pad_tokens(self) -> int:
        return self.padded_tokens - self.real_tokens

    @property
    def padding_waste(self) -> float:
        """Share of the padded tensors that is padding, 0..1."""
        return self.pad_tokens / self.padded_tokens if self.padded_tokens else 0.0

    @property
    def largest_batch_shape(self) -> tuple[int, int]:
        """(rows, width) of the batch with the most padded tokens."""
        biggest = max(range(self.batch_count), key=lambda b: len(self.batches[b]) * int(self.widths[b]))
        return len(self.batches[biggest]), int(self.widths[biggest])

    def restore(self, rows: np.ndarray) -> np.ndarray:
        """Rows given in batch order (`order`), returned in the caller's original order."""
        restored = np.empty_like(rows)
        restored[self.order] = rows
        return restored


def _check_lengths(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    array = np.asarray(lengths, dtype=np.int64)
    if array.ndim != 1 or array.size == 0:
        raise InputError("Give at least one sequence length.")
    if (array < 1).any():
        raise InputError("Every sequence needs at least one token.")
    return array


def _check_positive(name: str, value: int | None) -> int:
    if value is None or int(value) != value or value < 1:
        raise InputError(f"{name} must be a whole number of at least 1, not {value}.")
    return int(value)


def sorted_order(lengths: np.ndarray) -> np.ndarray:
    """(sequences,) indices from the longest to the shortest; ties keep their original order."""
    return np.argsort(-np.asarray(lengths), kind="stable")


def length_grouped_order(
    lengths: np.ndarray, batch_size: int, mega_batch_mult: int | None = None, seed: int = 0
) -> np.ndarray:
    """(sequences,) indices shuffled, cut into mega-batches of `mega_batch_mult × batch_size`, each sorted.

    The default multiplier is transformers' own: the smaller of 50 and the number giving four
    mega-batches. Unlike `get_length_grouped_indices`, the longest text is not moved to the
    first batch (a trick to hit out-of-memory early), so every mega-batch stays sorted.
    """
    lengths = np.asarray(lengths)
    if mega_batch_mult is None:
        mega_batch_mult = max(min(len(lengths) // (batch_size * 4), 50), 1)
    shuffled = np.random.default_rng(seed).permutation(len(lengths))
    size = mega_batch_mult * batch_size
    megabatches = [shuffled[start : start + size] for start in range(0, len(shuffled), size)]
    return np.concatenate([mega[sorted_order(lengths[mega])] for mega in megabatches])


def split_by_size(order: np.ndarray, batch_size: int) -> tuple[np.ndarray, ...]:
    """Consecutive slices of `order` with `batch_size` indices (the last may be shorter)."""
    return tuple(order[start : start + batch_size] for start in range(0, len(order), batch_size))


def split_by_token_budget(order: np.ndarray, lengths: np.ndarray, max_tokens: int) -> tuple[np.ndarray, ...]:
    """Consecutive slices of `order`, each as long as rows × its longest length stays ≤ `max_tokens`.

    A sequence longer than `max_tokens` cannot fit any batch and gets one of its own.
    """
    batches: list[np.ndarray] = []
    start, longest = 0, 0
    for position, index in enumerate(order):
        wider = max(longest, int(lengths[index]))
        if position > start and (position - start + 1) * wider > max_tokens:
            batches.append(order[start:position])
            start, wider = position, int(lengths[index])
        longest = wider
    batches.append(order[start:])
    return tuple(batches)


def plan_from_batches(
    strategy: str, lengths: np.ndarray, batches: Sequence[np.ndarray], pad_to: int | None = None
) -> BatchPlan:
    """A plan from given batches, each padded to `pad_to` or else to its longest member."""
    widths = np.array([pad_to or int(lengths[batch].max()) for batch in batches], dtype=np.int64)
    return BatchPlan(strategy, tuple(np.asarray(batch, dtype=np.int64) for batch in batches), widths, lengths)


def plan_batches(
    lengths: Sequence[int] | np.ndarray,
    strategy: str,
    *,
    batch_size: int = 32,
    max_tokens: int = 4096,
    max_length: int = 512,
    seed: int = 0,
) -> BatchPlan:
    """Batches for one of BATCHING_STRATEGIES over sequences of `lengths` tokens (truncated to `max_length`).

    `batch_size` sets the rows of every strategy but `budget`, which is bounded by
    `max_tokens` (rows × longest, as fairseq's `max_tokens`) instead. `seed` shuffles `grouped`.
    """
    if strategy not in BATCHING_STRATEGIES:
        raise InputError(f"Unknown batching strategy {strategy!r}: choose one of {', '.join(BATCHING_STRATEGIES)}.")
    max_length = _check_positive("max_length", max_length)
    batch_size = _check_positive("batch_size", batch_size)
    max_tokens = _check_positive("max_tokens", max_tokens)
    lengths = np.minimum(_check_lengths(lengths), max_length)
    arrival = np.arange(len(lengths))
    if strategy == "fixed":
        return plan_from_batches(strategy, lengths, split_by_size(arrival, batch_size), pad_to=max_length)
    if strategy == "dynamic":
        batches = split_by_size(arrival, batch_size)
    elif strategy == "grouped":
        batches = split_by_size(length_grouped_order(lengths, batch_size, seed=seed), batch_size)
    elif strategy == "sorted":
        batches = split_by_size(sorted_order(lengths), batch_size)
    else:
        batches = split_by_token_budget(sorted_order(lengths), lengths, max_tokens)
    return plan_from_batches(strategy, lengths, batches)


def plan_all(
    lengths: Sequence[int] | np.ndarray,
    *,
    batch_size: int = 32,
    max_tokens: int = 4096,
    max_length: int = 512,
    seed: int = 0,
) -> tuple[BatchPlan, ...]:
    """One plan per strategy in BATCHING_STRATEGIES, same arguments as `plan_batches`."""
    return tuple(
        plan_batches(lengths, name, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length, seed=seed)
        for name in BATCHING_STRATEGIES
    )


def token_lengths(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> np.ndarray:
    """(texts,) tokens per text with the special tokens and without truncation."""
    encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
    return np.array([len(ids) for ids in encoded["input_ids"]], dtype=np.int64)


@dataclass(frozen=True)
class MaxLengthAdvice:
    """A `max_length` read off the length distribution, and what it costs.

    `percentiles` maps 50/90/95/99/100 to token counts; `truncated_share` (0..1) is the share
    of texts longer than `max_length`, which truncation would cut.
    """

    max_length: int
    quantile: float
    percentiles: dict[int, float]
    truncated_share: float
    model_max_length: int


def recommend_max_length(
    lengths: Sequence[int] | np.ndarray, model_max_length: int, quantile: float = 0.99, multiple_of: int = 8
) -> MaxLengthAdvice:
    """The `quantile` of `lengths` rounded up to a multiple of `multiple_of`, capped at the model's maximum."""
    lengths = _check_lengths(lengths)
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must be in (0, 1], not {quantile}.")
    target = float(np.quantile(lengths, quantile))
    max_length = min(int(np.ceil(target / multiple_of) * multiple_of), model_max_length)
    percentiles = {p: float(np.percentile(lengths, p)) for p in (50, 90, 95, 99, 100)}
    return MaxLengthAdvice(max_length, quantile, percentiles, float((lengths > max_length).mean()), model_max_length)


@dataclass(frozen=True)
class PlanRun:
    """A model run over every batch of a plan.

    `embeddings` (sequences, hidden): the last hidden state mean-pooled over real tokens,
    in the caller's order. `seconds` is the wall time of the whole loop, padding included.
    """

    strategy: str
    embeddings: np.ndarray
    seconds: float
    real_tokens: int
    padded_tokens: int

    @property
    def tokens_per_second(self) -> float:
        """Real (non-padding) tokens per second."""
        return self.real_tokens / self.seconds if self.seconds > 0 else float("inf")


# on_batch(strategy, batches done, batches in all): called after every batch, for progress bars.
BatchCallback = Callable[[str, int, int], None]


def embed_batch(
    model: torch.nn.Module, input_ids: Sequence[Sequence[int]], width: int, tokenizer: PreTrainedTokenizerBase
) -> torch.Tensor:
    """Pad one batch on the right to `width` (`pad_encodings`) and run `model` on it (no grad: the caller's business).

    Returns (rows, hidden) float32 on the CPU: the last hidden state averaged over real tokens.
    """
    device = next(model.parameters()).device
    padded = pad_encodings(tokenizer, {"input_ids": input_ids}, max_length=width)
    ids, mask = (torch.from_numpy(padded[name]).to(device) for name in ("input_ids", "attention_mask"))
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return ((hidden * weights).sum(1) / weights.sum(1)).float().cpu()


def run_plans(
    model: torch.nn.Module,
    input_ids: Sequence[Sequence[int]],
    plans: Sequence[BatchPlan],
    tokenizer: PreTrainedTokenizerBase,
    *,
    warm_up: bool = False,
    on_batch: BatchCallback | None = None,
) -> tuple[PlanRun, ...]:
    """Run `model` over `input_ids` once per plan, outputs in the caller's order; one PlanRun per plan.

    `input_ids[i]` must already be truncated to `plan.lengths[i]` tokens. A plan may cover only
    the first n sequences (to time a slow strategy on a sample); its run then has n rows. The
    plans' batches are interleaved, the next one always from the plan that has done the
    smallest share of its padded tokens, so every plan does its work at the same pace and load
    from other processes falls on all alike, not on whichever ran during it (counting batches
    instead would run a sorted plan's long batches all at the start). `seconds` sums a plan's
    batch times. `warm_up` runs one untimed batch first, keeping one-off costs (allocator
    growth, kernel choice) out of the timings.
    """
    lengths = [len(ids) for ids in input_ids]
    if any(plan.lengths.tolist() != lengths[: len(plan.lengths)] for plan in plans):
        raise ValueError("The plan was made for other sequences: its lengths differ from input_ids.")
    done = [0] * len(plans)
    cells = [0] * len(plans)  # padded tokens run so far
    seconds = [0.0] * len(plans)
    pooled: list[list[torch.Tensor]] = [[] for _ in plans]
    total = sum(plan.batch_count for plan in plans)

    def share_after_next(k: int) -> float:
        batch, width = plans[k].batches[done[k]], int(plans[k].widths[done[k]])
        return (cells[k] + len(batch) * width / 2) / plans[k].padded_tokens

    with torch.inference_mode():
        if warm_up:
            embed_batch(model, [input_ids[i] for i in plans[0].batches[0]], int(plans[0].widths[0]), tokenizer)
        for step in range(1, total + 1):
            k = min((k for k, plan in enumerate(plans) if done[k] < plan.batch_count), key=share_after_next)
            batch, width = plans[k].batches[done[k]], int(plans[k].widths[done[k]])
            start = time.perf_counter()
            pooled[k].append(embed_batch(model, [input_ids[i] for i in batch], width, tokenizer))
            seconds[k] += time.perf_counter() - start
            done[k] += 1
            cells[k] += len(batch) * width
            if on_batch:
                on_batch(plans[k].strategy, step, total)
    return tuple(
        PlanRun(plan.strategy, plan.restore(torch.cat(rows).numpy()), spent, plan.real_tokens, plan.padded_tokens)
        for plan, rows, spent in zip(plans, pooled, seconds, strict=True)
    )


def run_plan(
    model: torch.nn.Module, input_ids: Sequence[Sequence[int]], plan: BatchPlan, tokenizer: PreTrainedTokenizerBase
) -> PlanRun:
    """`run_plans` for a single plan: the model's outputs for `input_ids`, batched as `plan` says."""
    return run_plans(model, input_ids, [plan], tokenizer)[0]


def encode_truncated(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids per text with special tokens, truncated to `max_length` (the specials are kept)."""
    return tokenizer(list(texts), truncation=True, max_length=max_length, verbose=False)["input_ids"]


@dataclass(frozen=True)
class BatchingReport:
    """Every strategy over one set of texts: `lengths` (texts,) before truncation, one plan per strategy."""

    lengths: np.ndarray
    plans: tuple[BatchPlan, ...]
    advice: MaxLengthAdvice


def _check_max_length(tokenizer: PreTrainedTokenizerBase, max_length: int) -> int:
    max_length = _check_positive("max_length", max_length)
    shortest = tokenizer.num_special_tokens_to_add() + 1
    if not shortest <= max_length <= tokenizer.model_max_length:
        raise InputError(
            f"max_length must be between {shortest} and the model's maximum of {tokenizer.model_max_length}, "
            f"not {max_length}."
        )
    return max_length


def compare_batching_strategies(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_tokens: int = 4096,
    max_length: int = 512,
    seed: int = 0,
) -> BatchingReport:
    """Tokenize `texts` once and plan them with every strategy; advise a max_length for this tokenizer."""
    max_length = _check_max_length(tokenizer, max_length)
    lengths = token_lengths(tokenizer, texts)
    plans = plan_all(lengths, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length, seed=seed)
    return BatchingReport(lengths, plans, recommend_max_length(lengths, tokenizer.model_max_length))


def measure_text_throughput(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_tokens: int = 4096,
    max_length: int = 512,
    seed: int = 0,
    on_batch: BatchCallback | None = None,
) -> tuple[PlanRun, ...]:
    """Every strategy timed over `texts` (tokenized, truncated to `max_length`) by `run_plans` after a warm-up."""
    report = compare_batching_strategies(
        tokenizer, texts, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length, seed=seed
    )
    input_ids = encode_truncated(tokenizer, texts, max_length)
    return run_plans(model, input_ids, report.plans, tokenizer, warm_up=True, on_batch=on_batch)


def embed_texts(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    strategy: str = "budget",
    *,
    batch_size: int = 32,
    max_tokens: int = 4096,
    max_length: int = 512,
) -> np.ndarray:
    """(texts, hidden) mean-pooled embeddings of `texts` in the caller's order, batched by `strategy`."""
    input_ids = encode_truncated(tokenizer, texts, _check_max_length(tokenizer, max_length))
    lengths = [len(ids) for ids in input_ids]
    plan = plan_batches(lengths, strategy, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length)
    return run_plan(model, input_ids, plan, tokenizer).embeddings
