"""Which device runs the models, in which dtype, and how to say so in one line.

Preference is CUDA > MPS > CPU. An explicit request (`SEQDEMO_DEVICE`) that this machine
cannot honour is an error, never a silent fallback: a user who asked for a GPU must know
they are not getting one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

DEVICES = ("cuda", "mps", "cpu")
# float32 everywhere by default: the mask lesson compares outputs to about 1e-6, which
# half precision (noise near 1e-3) would blur into the effect it demonstrates. Half
# precision is one setting away (SEQDEMO_DTYPE) for throughput measurements on a GPU.
DEFAULT_DTYPES = {"cuda": torch.float32, "mps": torch.float32, "cpu": torch.float32}
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class DeviceChoice:
    """The device models run on, their dtype, and a one-line description for the header."""

    device: str
    dtype: torch.dtype
    description: str

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _describe(device: str, dtype: torch.dtype) -> str:
    dtype_name = str(dtype).removeprefix("torch.")
    if device == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(0)}), {dtype_name}"
    if device == "mps":
        return f"Apple MPS GPU, {dtype_name}"
    return f"CPU ({torch.get_num_threads()} threads), {dtype_name}"


def pick_device(
    requested: str | None = None,
    dtype: str | None = None,
    *,
    cuda_available: Callable[[], bool] = torch.cuda.is_available,
    mps_available: Callable[[], bool] = _mps_available,
    describe: Callable[[str, torch.dtype], str] = _describe,
) -> DeviceChoice:
    """Choose CUDA > MPS > CPU, or the `requested` one ("cuda", "cuda:1", "mps", "cpu").

    Raises ValueError for an unknown device or dtype name and RuntimeError for a known
    device this machine does not have.
    """
    available = {"cuda": cuda_available, "mps": mps_available, "cpu": lambda: True}
    if requested:
        device = requested.strip().lower()
        kind = device.split(":", 1)[0]
        if kind not in DEVICES:
            raise ValueError(f"Unknown device {requested!r}: choose one of {', '.join(DEVICES)}.")
        if not available[kind]():
            raise RuntimeError(f"Device {requested!r} was requested but is not available on this machine.")
    else:
        kind = device = next(name for name in DEVICES if available[name]())
    if dtype:
        if dtype not in DTYPES:
            raise ValueError(f"Unknown dtype {dtype!r}: choose one of {', '.join(DTYPES)}.")
        chosen_dtype = DTYPES[dtype]
    else:
        chosen_dtype = DEFAULT_DTYPES[kind]
    return DeviceChoice(device=device, dtype=chosen_dtype, description=describe(kind, chosen_dtype))
