"""What a benchmark ran on, recorded next to its numbers: timings mean little without it."""

from __future__ import annotations

import os
import platform

import torch
import transformers


def describe_machine(load_before: float) -> dict[str, object]:
    """Platform, cores, torch threads, library versions, and the load average before and after the run."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
