"""Attention weights for a padded batch: every layer and head as one (seq, seq) matrix per example.

The subtle thing is Longformer: it never builds that matrix. Its `attentions` hold, per query,
a band of relative offsets (plus columns for the global tokens), and `global_attentions` the
global tokens' own rows; `assemble_longformer_attention` puts them back at absolute key positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from seqdemo.errors import InputError
from seqdemo.lengths import SPACE_MARK, is_byte_level, readable_token
from seqdemo.longformer import attention_windows
from seqdemo.padding import SIDES, pad_encodings

if TYPE_CHECKING:
    from transformers import PreTrainedModel  # its module takes seconds to import: the app serves first

MAX_LENGTH = 512  # tokens per text; the weights of every layer and head are kept, and they grow with its square
MAX_VIEW_TOKENS = MAX_LENGTH  # tokens per axis a view may draw: a whole text, labels are thinned


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """One model's attention weights for a padded batch of texts, with the tokens they belong to.

    `weights[b, l, h, q, k]`: (batch, layers, heads, seq, seq), how much query token q of text b
    attends to key token k in layer l, head h; padding is kept, so `seq` is the padded length.
    `tokens[b]` are the `seq` tokens of text b as people read them (pads included),
    `attention_mask` and `special_tokens_mask` are (batch, seq) from the tokenizer, and
    `mask_applied` says whether the model was given that `attention_mask` (False: every pad
    was treated as a real token). Longformer only: `global_attention_mask` (batch, seq) and the
    per-layer `attention_window`. `truncated[b]` counts the tokens cut from text b to fit
    `max_length`.
    """

    model_type: str
    tokens: tuple[tuple[str, ...], ...]
    weights: np.ndarray
    attention_mask: np.ndarray
    special_tokens_mask: np.ndarray
    mask_applied: bool
    padding_side: str
    max_length: int
    model_max_length: int
    truncated: tuple[int, ...]
    global_attention_mask: np.ndarray | None = None
    attention_window: tuple[int, ...] | None = None

    @property
    def batch_size(self) -> int:
        return self.weights.shape[0]

    @property
    def num_layers(self) -> int:
        return self.weights.shape[1]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[2]

    @property
    def seq_len(self) -> int:
        return self.weights.shape[3]


@dataclass(frozen=True)
class AttentionView:
    """Which part of `AttentionMaps` to draw, as 0-based indices.

    `head` None means the mean over heads; tokens `start` to `stop` (exclusive) on both axes;
    `query` is the token whose row is shown on its own.
    """

    example: int
    layer: int
    head: int | None
    start: int
    stop: int
    query: int


def global_attention_positions(
    tokens: Sequence[Sequence[str]],
    readable: Sequence[Sequence[str]],
    attention_mask: np.ndarray,
    global_tokens: Sequence[str],
) -> np.ndarray:
    """`global_attention_mask` (batch, seq): 1 on every real token matching one of `global_tokens`.

    `tokens[b]` are text b's tokens as the tokenizer writes them (`<s>`, `Ġwhat`), `readable[b]`
    as people read them (`␣what`). An entry matches either form, ignoring case and the
    leading-space mark (`what`). An entry matching no real token raises an InputError naming it.
    """
    wanted = {entry.lower() for entry in global_tokens}
    mask = np.zeros(attention_mask.shape, dtype=np.int64)
    matched: set[str] = set()
    for b, (raw_row, readable_row) in enumerate(zip(tokens, readable, strict=True)):
        for position, (raw, shown) in enumerate(zip(raw_row, readable_row, strict=True)):
            hits = {raw.lower(), shown.removeprefix(SPACE_MARK).lower()} & wanted
            if hits and attention_mask[b, position]:
                mask[b, position] = 1
                matched |= hits
    unmatched = [entry for entry in global_tokens if entry.lower() not in matched]
    if unmatched:
        raise InputError(
            f"Global token {unmatched[0]!r} matches no token in the texts: "
            "write it as the heatmap labels show it (without the leading ␣), or `<s>`."
        )
    return mask


def assemble_longformer_attention(
    local: np.ndarray, global_: np.ndarray | None, global_attention_mask: np.ndarray, window: int
) -> np.ndarray:
    """One Longformer layer's attention as full matrices, (batch, heads, seq, seq).

    `local` is the layer's `attentions`, (batch, heads, seq, x + window + 1): the first x
    columns are the weights on the global tokens in position order (x = the most global tokens
    in any text), then the band, whose column x + window/2 + d is key q + d for
    d = -window/2 .. window/2. `global_` is the layer's `global_attentions`, (batch, heads,
    padded_seq, x) with padded_seq >= seq (it keeps Longformer's padding to a multiple of the
    window): column j is the j-th global token's row over all keys; None without global tokens.
    Rows of global tokens come from `global_`, their band rows being zero by construction.
    """
    batch, heads, seq, width = local.shape
    half = window // 2
    num_global = width - window - 1
    if num_global != int(global_attention_mask.sum(axis=1).max(initial=0)):
        raise ValueError(
            f"attentions has {width} columns per query; window {window} and the global_attention_mask "
            f"imply {window + 1 + int(global_attention_mask.sum(axis=1).max(initial=0))}."
        )
    query = np.arange(seq)[:, None]
    key = query + np.arange(-half, half + 1)[None, :]
    rows, offsets = np.nonzero((key >= 0) & (key < seq))
    full = np.zeros((batch, heads, seq, seq), dtype=np.float32)
    full[:, :, rows, key[rows, offsets]] = local[:, :, rows, num_global + offsets]
    for b in range(batch):
        positions = np.flatnonzero(global_attention_mask[b])
        if positions.size:
            full[b][:, :, positions] = local[b, :, :, : positions.size]
            full[b][:, positions, :] = global_[b, :, :seq, : positions.size].transpose(0, 2, 1)
    return full


def extract_attention(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    padding_side: str = "right",
    max_length: int = MAX_LENGTH,
    global_tokens: Sequence[str] = (),
    use_attention_mask: bool = True,
) -> AttentionMaps:
    """Run `model` (loaded with `attn_implementation="eager"`) on the padded batch and keep every attention map.

    Texts longer than `min(max_length, tokenizer.model_max_length)` are truncated (counted in
    `truncated`). `global_tokens` choose Longformer's `global_attention_mask` (see
    `global_attention_positions`); other models take none. With `use_attention_mask=False` the
    model is given an all-ones mask, so pads are attended like real tokens.
    """
    if not texts:
        raise InputError("Enter at least one text (one per line).")
    if padding_side not in SIDES:
        raise InputError(f"padding_side must be one of {', '.join(SIDES)}, not {padding_side!r}.")
    if max_length < 2:
        raise InputError(f"max_length must be at least 2 (room for the special tokens), not {max_length}.")
    is_longformer = model.config.model_type == "longformer"
    if global_tokens and not is_longformer:
        raise InputError(
            f"global_attention_mask is a Longformer input; {model.config.model_type} has no global tokens."
        )
    limit = min(max_length, tokenizer.model_max_length)
    full_lengths = [len(ids) for ids in tokenizer(list(texts), verbose=False)["input_ids"]]
    cut = tokenizer(list(texts), truncation=True, max_length=limit, return_special_tokens_mask=True)
    encoded = pad_encodings(tokenizer, cut, padding_side=padding_side)
    attention_mask = encoded.pop("attention_mask")
    special_tokens_mask = encoded.pop("special_tokens_mask")
    input_ids = encoded["input_ids"]
    tokens = [tokenizer.convert_ids_to_tokens(list(ids)) for ids in input_ids]
    byte_level = is_byte_level(tokenizer)
    special = set(tokenizer.all_special_ids)
    readable = tuple(
        tuple(
            readable_token(token, byte_level and token_id not in special)[0]
            for token_id, token in zip(ids, row, strict=True)
        )
        for ids, row in zip(input_ids, tokens, strict=True)
    )
    inputs = dict(encoded, attention_mask=attention_mask if use_attention_mask else np.ones_like(attention_mask))
    global_mask = None
    if is_longformer:
        global_mask = global_attention_positions(tokens, readable, attention_mask, global_tokens)
        inputs["global_attention_mask"] = global_mask
    inputs = {name: torch.as_tensor(value, device=model.device) for name, value in inputs.items()}
    with torch.inference_mode():
        output = model(**inputs, output_attentions=True)
    if not output.attentions or output.attentions[0] is None:  # SDPA and flash kernels return none
        raise ValueError("This model returned no attention weights: load it with attn_implementation='eager'.")
    layers = [layer.float().cpu().numpy() for layer in output.attentions]
    windows = None
    if is_longformer:
        windows = attention_windows(model.config)
        globals_ = output.global_attentions or [None] * len(layers)
        layers = [
            assemble_longformer_attention(
                local, None if glob is None else glob.float().cpu().numpy(), global_mask, window
            )
            for local, glob, window in zip(layers, globals_, windows, strict=True)
        ]
    return AttentionMaps(
        model_type=model.config.model_type,
        tokens=readable,
        weights=np.stack(layers, axis=1),
        attention_mask=attention_mask,
        special_tokens_mask=special_tokens_mask,
        mask_applied=use_attention_mask,
        padding_side=padding_side,
        max_length=limit,
        model_max_length=tokenizer.model_max_length,
        truncated=tuple(max(0, length - limit) for length in full_lengths),
        global_attention_mask=global_mask,
        attention_window=windows,
    )


def padding_mass(maps: AttentionMaps) -> np.ndarray:
    """Attention that lands on padded keys, (batch, layers, heads).

    For each real query the weights on pads are summed; the result is their mean over the
    text's real queries (0 for a text without padding). Exactly 0 when the mask was applied.
    """
    real = maps.attention_mask.astype(np.float32)
    # A product with the pad indicator, not a masked copy: the weights can be hundreds of megabytes.
    on_pads = (maps.weights @ (1.0 - real)[:, None, None, :, None])[..., 0]  # (batch, layers, heads, seq)
    return (on_pads @ real[:, None, :, None])[..., 0] / real.sum(axis=1)[:, None, None]


def choose_view(
    maps: AttentionMaps,
    *,
    example: int = 1,
    layer: int = 1,
    head: int | None = None,
    start: int = 0,
    size: int = 64,
    query: int = 0,
) -> AttentionView:
    """Check a view as a person gives it and return it 0-based.

    `example`, `layer` and `head` count from 1 (head None: the mean over heads); token
    positions `start` and `query` count from 0, like `input_ids`. `size` tokens per axis, at
    most `MAX_VIEW_TOKENS`; a window running past the end stops there.
    """

    def check(value: int, name: str, high: int, where: str, low: int = 1) -> None:
        if not low <= value <= high:
            raise InputError(f"{name} {value} is out of range {where}: choose {low} to {high}.")

    check(example, "Text", maps.batch_size, "for this batch")
    check(layer, "Layer", maps.num_layers, f"for this {maps.model_type} model")
    if head is not None:
        check(head, "Head", maps.num_heads, f"for this {maps.model_type} model")
    check(start, "First token", maps.seq_len - 1, "for this batch's padded length", low=0)
    check(query, "Query token", maps.seq_len - 1, "for this batch's padded length", low=0)
    if not 1 <= size <= MAX_VIEW_TOKENS:
        raise InputError(f"A view draws 1 to {MAX_VIEW_TOKENS} tokens per axis, not {size}.")
    return AttentionView(
        example=example - 1,
        layer=layer - 1,
        head=None if head is None else head - 1,
        start=start,
        stop=min(start + size, maps.seq_len),
        query=query,
    )


def attention_matrix(maps: AttentionMaps, view: AttentionView) -> np.ndarray:
    """The view's (seq, seq) weights for its example and layer: one head, or the mean over heads."""
    heads = maps.weights[view.example, view.layer]
    return heads.mean(axis=0) if view.head is None else heads[view.head]
