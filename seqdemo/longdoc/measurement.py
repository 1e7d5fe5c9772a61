"""What a run costs: its latency and the tensor memory it needs at its peak, both from that one run.

On CUDA the allocator counts peak memory itself. On the CPU nothing does, so every tensor
storage an operator creates is traced; that needs a dispatch hook, which torch keeps private.
Tracing adds a little Python work per operator, small beside a base-sized model's matrix products.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

# Private torch modules, in this one place: TorchDispatchMode is the only hook that sees every tensor an operator
# allocates (torch has no public CPU memory counter), and tree_leaves walks the operators' nested arguments.
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary

T = TypeVar("T")
CUDA_METHOD = "torch.cuda.max_memory_allocated"
CPU_METHOD = "tensor storages traced with a TorchDispatchMode"


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


@dataclass(frozen=True)
class Measured(Generic[T]):
    """One run's result and wall-clock seconds; the most tensor memory alive at once beyond what existed before.

    `peak_memory_bytes` is None when memory was not measured; `memory_method` says how it was.
    """

    result: T
    seconds: float
    peak_memory_bytes: int | None
    memory_method: str


def measure_run(run: Callable[[], T], device: torch.device, *, memory: bool = True) -> Measured[T]:
    """Run `run()` once, timing it and, with `memory`, tracing its peak tensor memory in the same run."""
    if not memory:
        started = time.perf_counter()
        result = run()
        return Measured(result, time.perf_counter() - started, None, "")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        started = time.perf_counter()
        result = run()
        torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
        return Measured(result, seconds, torch.cuda.max_memory_allocated(device) - before, CUDA_METHOD)
    started = time.perf_counter()
    with _TensorMemoryPeak() as tracker:
        result = run()
    return Measured(result, time.perf_counter() - started, tracker.peak, CPU_METHOD)
