"""The precision each lesson runs in: the CPU's fastest faithful one for answers, float32 for float noise.

bfloat16 runs a CPU's matrix multiplies several times faster only where the CPU computes it natively
(x86's avx512_bf16 or amx_bf16, Arm's bf16); elsewhere it is emulated and slower than float32, so
it is detected, never assumed. Another precision is a converted copy: the float32 original stays.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from seqdemo.device import DeviceChoice

# The names `torch.cpu.get_capabilities()` gives the instructions that compute bf16 natively.
NATIVE_BF16_FEATURES = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")


@dataclass(frozen=True)
class Precision:
    """A dtype for a lesson's models, and why, in one line for the UI."""

    dtype: torch.dtype
    description: str

    @property
    def name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def cpu_has_native_bf16(capabilities: Mapping[str, object] | None = None) -> bool:
    """True when the CPU has bf16 instructions; `capabilities` defaults to `torch.cpu.get_capabilities()`."""
    found = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return any(found.get(feature) is True for feature in NATIVE_BF16_FEATURES)


def answer_precision(device: DeviceChoice, native_bf16: Callable[[], bool] = cpu_has_native_bf16) -> Precision:
    """For lessons whose result is an answer (labels, probabilities): the fastest faithful precision.

    On a float32 CPU that is bfloat16 if the CPU computes it natively, else float32. Any other
    device, or a dtype chosen with SEQDEMO_DTYPE, is left as it is.
    """
    if device.device != "cpu" or device.dtype != torch.float32:
        return Precision(device.dtype, f"{device.dtype_name} (the {device.device.upper()} models' dtype)")
    if native_bf16():
        return Precision(torch.bfloat16, "bfloat16 (this CPU has native bf16)")
    return Precision(torch.float32, "float32 (this CPU has no native bf16)")


def noise_precision() -> Precision:
    """For the mask lesson, whose result is float noise (about 1e-6) that half precision would drown."""
    return Precision(torch.float32, "float32 (this lesson measures float noise)")


def cast_model(model: nn.Module, precision: Precision) -> nn.Module:
    """`model` itself when its floating-point weights have `precision.dtype`, else a converted copy.

    The copy has its own weights (for bfloat16, half the float32 memory) and is built without a
    float32 copy on the way; tied weights stay tied. It takes a moment for a base-sized model, so
    keep it next to the original (a model cache), never convert the shared original in place.
    """
    weights = [tensor for tensor in (*model.parameters(), *model.buffers()) if tensor.is_floating_point()]
    if all(tensor.dtype == precision.dtype for tensor in weights):
        return model
    memo: dict[int, object] = {}
    for tensor in weights:
        cast = tensor.detach().to(precision.dtype)
        memo[id(tensor)] = nn.Parameter(cast, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else cast
    return copy.deepcopy(model, memo)
