"""How much model work one request may ask for; a request over it is refused before anything runs.

Work is counted in model tokens, every slot a forward pass computes (special tokens and padding
included), each charged what it costs a base-sized model on the Space's 2 CPUs: seconds per token
measured by `benchmarks/request_budget.py`. The offline kit's small models are charged the same, so
a request is refused alike offline and on the Space. The numbers live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from seqdemo.batching import plan_all
from seqdemo.errors import InputError
from seqdemo.models import get_role
from seqdemo.plural import plural

# The longest a visitor waits for one answer, progress shown. The heaviest worked example, the needle sweep over
# the shipped filler (the tab's default 8 positions, every strategy), plans 39 s of work at base size on
# the Space: it fits.
REQUEST_SECONDS = 120.0
# Seconds per model token on 2 cores of their own, from benchmarks/results/request_budget.json (CPU seconds / 2 of the
# fastest of 3 runs, fp32, transformers' own code): RoBERTa-base on 8 x 512 tokens (BERT-base does the same work a
# token), Longformer-base-4096 on 1 x 4096 with global attention on <s>. Measure again when the models' code changes.
SECONDS_PER_TOKEN = {"encoder": 1.0e-3, "longformer": 2.7e-3}


def model_kind(role: str) -> str:
    """What a token of `role`'s model costs like: `longformer` (windowed attention) or `encoder`."""
    return "longformer" if get_role(role).family == "longformer" else "encoder"


@dataclass(frozen=True)
class Work:
    """Model tokens a request plans, by SECONDS_PER_TOKEN kind, and what they would take."""

    tokens: Mapping[str, int]

    @classmethod
    def of(cls, tokens_by_role: Mapping[str, int]) -> Work:
        """The work of running `tokens_by_role[role]` model tokens through each role's model."""
        kinds: dict[str, int] = {}
        for role, tokens in tokens_by_role.items():
            kinds[model_kind(role)] = kinds.get(model_kind(role), 0) + int(tokens)
        return cls(kinds)

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens.values())

    @property
    def seconds(self) -> float:
        """Seconds this work takes at base size on 2 CPU cores."""
        return sum(SECONDS_PER_TOKEN[kind] * tokens for kind, tokens in self.tokens.items())

    @property
    def fits(self) -> bool:
        return self.seconds <= REQUEST_SECONDS


def describe_seconds(seconds: float) -> str:
    """ "40 s", "6 min", "3.5 h": a duration as a person says it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_work(work: Work, asked: str, reduce: str) -> None:
    """InputError unless `work` fits one request: "<asked> would run …" and `reduce`, what to make smaller."""
    if work.fits:
        return
    raise InputError(
        f"{asked} would run {plural(work.total_tokens, 'model token')}, about {describe_seconds(work.seconds)} of work "
        f"on the Space's 2 CPUs; one request may take at most {describe_seconds(REQUEST_SECONDS)}. {reduce}"
    )


def batching_work(lengths: np.ndarray, role: str, *, batch_size: int, max_tokens: int, max_length: int) -> Work:
    """The work of timing every batching strategy on texts of token `lengths`: their padded batches and a warm-up."""
    plans = plan_all(lengths, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length)
    warm_up = len(plans[0].batches[0]) * int(plans[0].widths[0])
    return Work.of({role: sum(plan.padded_tokens for plan in plans) + warm_up})


def affordable_texts(lengths: np.ndarray, role: str, *, batch_size: int, max_tokens: int, max_length: int) -> int:
    """How many of the first texts (token `lengths`, in order) `batching_work` fits in one request; 0 if not one."""

    def fits(count: int) -> bool:
        work = batching_work(lengths[:count], role, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length)
        return work.fits

    low, high = 0, len(lengths)  # fits(low) holds (no texts, no work); find the largest count that fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low
