"""The precision each lesson runs in: the CPU's fastest faithful one for answers, float32 for float noise.

bfloat16 runs a CPU's matrix multiplies several times faster only where the CPU computes it natively
(x86's avx512_bf16 or amx_bf16, Arm's bf16); elsewhere it is emulated and slower than float32, so
it is detected, never assumed. A CPU without it still has an int8 engine (x86 with AVX2, Arm): there
the linear layers, most of a base model's time, hold int8 weights and the activations stay float32
(dynamic quantization). Another precision is a converted copy: the float32 original stays.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import torch
from torch import nn

from seqdemo.device import DeviceChoice

# The names `torch.cpu.get_capabilities()` gives the instructions that compute bf16 natively.
NATIVE_BF16_FEATURES = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")
# torch's int8 engines, and the instructions each needs on this CPU (fbgemm and x86 need AVX2).
INT8_ENGINES = {"x86": "avx2", "fbgemm": "avx2", "qnnpack": "neon"}
# Linear layers an int8 copy keeps in float32: the blocked Longformer attention reads their weights directly.
FLOAT_LINEARS = ("key_global", "value_global")


@dataclass(frozen=True)
class Precision:
    """A dtype for a lesson's models, and why, in one line for the UI."""

    dtype: torch.dtype
    description: str
    int8_linears: bool = False  # the linear layers hold int8 weights; activations stay in `dtype`

    @property
    def name(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"{dtype} + int8 linears" if self.int8_linears else dtype


def cpu_has_native_bf16(capabilities: Mapping[str, object] | None = None) -> bool:
    """True when the CPU has bf16 instructions; `capabilities` defaults to `torch.cpu.get_capabilities()`."""
    found = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return any(found.get(feature) is True for feature in NATIVE_BF16_FEATURES)


def cpu_runs_int8(capabilities: Mapping[str, object] | None = None, engines: Sequence[str] | None = None) -> bool:
    """True when torch has an int8 engine that this CPU's instructions run; defaults read torch."""
    if _quantization() is None:
        return False
    found = torch.cpu.get_capabilities() if capabilities is None else capabilities
    engines = torch.backends.quantized.supported_engines if engines is None else engines
    return any(found.get(INT8_ENGINES[engine]) is True for engine in engines if engine in INT8_ENGINES)


def answer_precision(
    device: DeviceChoice,
    native_bf16: Callable[[], bool] = cpu_has_native_bf16,
    int8: Callable[[], bool] = cpu_runs_int8,
) -> Precision:
    """For lessons whose result is an answer (labels, probabilities): the fastest faithful precision.

    On a float32 CPU that is bfloat16 if the CPU computes it natively; else float32 with int8
    linear layers where the CPU has an int8 engine; else float32. Any other device, or a dtype
    chosen with SEQDEMO_DTYPE, is left as it is.
    """
    if device.device != "cpu" or device.dtype != torch.float32:
        return Precision(device.dtype, f"{device.dtype_name} (the {device.device.upper()} models' dtype)")
    if native_bf16():
        return Precision(torch.bfloat16, "bfloat16 (this CPU has native bf16)")
    if int8():
        return Precision(
            torch.float32, "float32 with int8 linear layers (this CPU has no native bf16)", int8_linears=True
        )
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


def _quantization() -> ModuleType | None:
    """torch's eager quantization, or None where this torch no longer has it (it is moving to torchao)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 announces the move on import
        try:
            from torch.ao import quantization
        except ImportError:
            return None
    return quantization


def sharing_tensors(model: nn.Module) -> nn.Module:
    """A copy of `model`'s modules that holds the very same parameters and buffers: swap its layers freely."""
    shared = {id(tensor): tensor for tensor in (*model.parameters(), *model.buffers())}
    return copy.deepcopy(model, shared)


def int8_copy(model: nn.Module, keep: Sequence[str] = FLOAT_LINEARS) -> nn.Module:
    """A copy of `model` whose linear layers hold int8 weights; activations stay float32 (dynamic quantization).

    Each layer quantizes its input per call, so nothing is calibrated. The copy shares every other
    tensor with `model`, which is left as it is; linear layers whose names end in `keep` stay float32.
    """
    quantization = _quantization()
    converted = sharing_tensors(model)
    layers = {
        name: quantization.default_dynamic_qconfig
        for name, module in converted.named_modules()
        if isinstance(module, nn.Linear) and not name.endswith(tuple(keep))
    }
    with warnings.catch_warnings():  # torch 2.13 announces that quantized tensors will move to torchao
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*deprecated", category=UserWarning)
        return quantization.quantize_dynamic(converted, layers, dtype=torch.qint8, inplace=True)
