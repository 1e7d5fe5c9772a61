"""Longformer's two inputs beyond BERT's: which tokens attend globally, and how wide each layer's local window is.

Global attention goes on `<s>`, the first real token of every row, whose vector the
classification head reads. `attention_window` is read per layer, as the config stores it
(one int for all layers, or a list): a layer lets a query see `window // 2` keys either side,
and the model pads its input to a multiple of the largest window, as `LongformerModel` does.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from transformers import PretrainedConfig

Mask = TypeVar("Mask", np.ndarray, torch.Tensor)


def attention_windows(config: PretrainedConfig) -> tuple[int, ...]:
    """The local attention window of every layer; () for a model with full attention (no `attention_window`)."""
    window = getattr(config, "attention_window", None)
    if window is None:
        return ()
    windows = [window] * config.num_hidden_layers if isinstance(window, int) else list(window)
    return tuple(int(w) for w in windows)


def padding_multiple(config: PretrainedConfig) -> int | None:
    """What Longformer pads its input to a multiple of: the largest window; None for full attention."""
    windows = attention_windows(config)
    return max(windows) if windows else None


def global_attention_on_bos(attention_mask: Mask) -> Mask:
    """`global_attention_mask` (batch, seq): 1 at each row's first real token (`<s>`), else 0.

    Left padding moves `<s>` past the pads, so the position comes from `attention_mask`
    (batch, seq), not from the token ids; the result has its type (numpy or torch) and dtype.
    """
    global_mask = attention_mask * 0
    global_mask[list(range(len(attention_mask))), attention_mask.argmax(1)] = 1
    return global_mask
