"""What a strategy costs: its latency (the fastest of a few runs) and the tensor memory it needs at its peak.

On CUDA the allocator counts peak memory itself. On the CPU nothing does, so every tensor
storage an operator creates is traced; that needs a dispatch hook, which torch keeps private.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TypeVar

import torch

# Private torch modules, in this one place: TorchDispatchMode is the only hook that sees every tensor an operator
# allocates (torch has no public CPU memory counter), and tree_leaves walks the operators' nested arguments.
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary

TIMED_RUNS = 2
T = TypeVar("T")


def fastest_run(run: Callable[[], T], runs: int = TIMED_RUNS) -> tuple[T, float]:
    """(`run()`'s result, the fewest seconds it took over `runs` calls): the first call on a thread pays set-up."""
    seconds = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        seconds = min(seconds, time.perf_counter() - started)
    return result, seconds


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
