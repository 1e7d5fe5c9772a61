"""Longformer self-attention computed block by block with `scaled_dot_product_attention`, for inference.

It computes what transformers' `LongformerSelfAttention` computes, without its sliding-chunk copies:
each query attends to the keys within ±w/2 of it (w = `attention_window`) that are neither padding
nor global, plus every global key, once; global queries attend to every non-padding key through the
`*_global` projections. The subtle part: a global key inside the band counts once, as a global key.
"""

from __future__ import annotations

import math
import types
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from seqdemo.precision import sharing_tensors

if TYPE_CHECKING:
    from transformers.models.longformer.modeling_longformer import LongformerModel, LongformerSelfAttention


class BlockedLongformerSelfAttention(nn.Module):
    """Drop-in for a `LongformerSelfAttention` in eval mode, sharing its six projections.

    Queries are cut into blocks of `block_size` (default w/2); a block attends to one span of
    `block_size + w` keys around it plus the global keys, in one SDPA call for all blocks, with a
    boolean mask that keeps the band. Attention weights are never formed: asking for them
    (`output_attentions=True`) is refused, use transformers' own module for that.
    """

    def __init__(self, original: LongformerSelfAttention, block_size: int | None = None) -> None:
        super().__init__()
        self.num_heads = original.num_heads
        self.head_dim = original.head_dim
        self.embed_dim = original.embed_dim
        self.one_sided = original.one_sided_attn_window_size
        self.block_size = block_size or self.one_sided
        if (2 * self.one_sided) % self.block_size:
            raise ValueError(f"block_size {self.block_size} must divide attention_window {2 * self.one_sided}.")
        self.query, self.key, self.value = original.query, original.key, original.value
        self.query_global, self.key_global, self.value_global = (
            original.query_global,
            original.key_global,
            original.value_global,
        )
        self.train(original.training)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        is_index_masked: torch.Tensor | None = None,
        is_index_global_attn: torch.Tensor | None = None,
        is_global_attn: bool | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor]:
        """`hidden_states` (batch, seq, embed) → ((batch, seq, embed),), as transformers' module returns.

        `is_index_masked` and `is_index_global_attn` (batch, seq) are the padding and global-attention
        flags `LongformerEncoder` passes every layer; `seq` is a multiple of the block (`LongformerModel`
        pads to one, `with_fast_attention`). Padding queries get zeros, as in transformers.
        """
        if output_attentions:
            raise ValueError("Blocked Longformer attention forms no attention weights: use transformers' module.")
        if self.training:
            raise ValueError("Blocked Longformer attention is for inference: call model.eval() first.")
        batch = hidden_states.shape[0]
        global_positions, global_valid = global_slots(is_index_global_attn)
        output = self._local(hidden_states, is_index_masked, is_index_global_attn, global_positions, global_valid)
        if global_positions.shape[1]:
            rows = torch.arange(batch, device=hidden_states.device)[:, None].expand_as(global_positions)
            own = self._global(hidden_states, is_index_masked, global_positions)  # (batch, globals, embed)
            output[rows[global_valid], global_positions[global_valid]] = own[global_valid].to(output.dtype)
        return (torch.where(is_index_masked[..., None], 0.0, output),)

    def _heads(self, projected: torch.Tensor) -> torch.Tensor:
        """(batch, seq, embed) → (batch, seq, heads, head_dim), a view."""
        return projected.unflatten(-1, (self.num_heads, self.head_dim))

    def _local(
        self,
        hidden: torch.Tensor,
        is_masked: torch.Tensor,
        is_global: torch.Tensor,
        global_positions: torch.Tensor,
        global_valid: torch.Tensor,
    ) -> torch.Tensor:
        """Every query's band-plus-global-keys attention: (batch, seq, embed).

        Block b holds queries [b·B, (b+1)·B) and keys [b·B - w/2, (b+1)·B + w/2) (B = block_size),
        behind the globals' keys: keys and values (batch·blocks, heads, globals + B + w, head_dim).
        """
        batch, length, _ = hidden.shape
        block, side = self.block_size, self.one_sided
        blocks, span = length // block, block + 2 * side
        query = self._heads(self.query(hidden)).unflatten(1, (blocks, block)).flatten(0, 1)  # (batch·blocks, B, h, d)

        def spans(projected: torch.Tensor) -> torch.Tensor:
            heads = self._heads(projected)  # (batch, seq, h, d)
            windows = F.pad(heads, (0, 0, 0, 0, side, side)).unfold(1, span, block)  # (batch, blocks, h, d, span)
            globals_ = rows_at(heads, global_positions)[:, None].expand(-1, blocks, -1, -1, -1)
            return torch.cat((globals_, windows.permute(0, 1, 4, 2, 3)), dim=2).flatten(0, 1)

        key, value = spans(self.key(hidden)), spans(self.value(hidden))
        offsets = torch.arange(span, device=hidden.device)
        rows = torch.arange(block, device=hidden.device)[:, None]
        band = (offsets >= rows) & (offsets <= rows + 2 * side)  # (B, span): |query - key| <= w/2
        local_key = F.pad(~(is_masked | is_global), (side, side)).unfold(1, span, block)  # (batch, blocks, span)
        mask = torch.cat(
            (
                global_valid[:, None, None, :].expand(-1, blocks, block, -1),
                band & local_key[:, :, None, :],
            ),
            dim=-1,
        )  # (batch, blocks, B, globals + span)
        # A padding query may see no key at all and come out NaN: `forward` replaces its row with zeros.
        attended = F.scaled_dot_product_attention(
            query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2), attn_mask=mask.flatten(0, 1)[:, None]
        )  # (batch·blocks, h, B, d)
        return attended.transpose(1, 2).reshape(batch, length, self.embed_dim)

    def _global(self, hidden: torch.Tensor, is_masked: torch.Tensor, global_positions: torch.Tensor) -> torch.Tensor:
        """The global queries' attention over every non-padding key: (batch, globals, embed).

        `key_global` and `value_global` are folded into the queries and the output instead of
        projecting every token: q·(W_k h + b_k) = (q W_k)·h + q·b_k, whose last term is the same for
        every key and so cancels in the softmax; Σ p (W_v h + b_v) = W_v (Σ p h) + b_v.
        """
        heads, head_dim = self.num_heads, self.head_dim
        query = self._heads(self.query_global(rows_at(hidden, global_positions)))  # (batch, globals, h, d)
        key_weight = self.key_global.weight.view(heads, head_dim, self.embed_dim)
        folded = torch.einsum("bghd,hde->bhge", query, key_weight.to(query.dtype)).flatten(1, 2)
        mixed = F.scaled_dot_product_attention(
            folded[:, None],
            hidden[:, None],
            hidden[:, None],
            attn_mask=~is_masked[:, None, None, :],
            scale=head_dim**-0.5,
        )[:, 0].unflatten(1, (heads, -1))  # (batch, h, globals, embed): Σ p h per head
        value_weight = self.value_global.weight.view(heads, head_dim, self.embed_dim)
        out = torch.einsum("bhge,hde->bghd", mixed, value_weight.to(mixed.dtype))
        return (out + self._heads(self.value_global.bias).to(out.dtype)).flatten(2)


def global_slots(is_global: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(positions (batch, globals), valid (batch, globals)) of each row's global tokens, in order.

    `globals` is the most any row has; a row with fewer fills its slots with position 0, marked
    not valid. No global token anywhere gives (batch, 0) tensors.
    """
    counts = is_global.sum(dim=1)
    most = int(counts.max())
    positions = torch.argsort((~is_global).to(torch.int8), dim=1, stable=True)[:, :most]
    valid = torch.arange(most, device=is_global.device) < counts[:, None]
    return torch.where(valid, positions, 0), valid


def rows_at(tensor: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """`tensor` (batch, seq, ...) at `positions` (batch, k): (batch, k, ...)."""
    return tensor[torch.arange(tensor.shape[0], device=tensor.device)[:, None], positions]


def with_fast_attention(model: nn.Module, block_size: int | None = None) -> nn.Module:
    """A copy of a Longformer model that shares `model`'s weights, its self-attention blocked SDPA.

    Works for `LongformerModel` and every `LongformerFor*` head; `model` itself is left as it was,
    so the original keeps serving `output_attentions=True`. The copy costs module objects, not
    weights: parameters and buffers are the same tensors, so never `.to()` the copy (that would
    convert the original's weights too): pass a converted model (`seqdemo.precision.cast_model`).

    The copy takes inputs whose length is a multiple of the block (`block_multiple`) as they are:
    transformers' module needs a multiple of the whole window, so a 1,300-token document ran as
    1,536 tokens where 1,280 now do. Other lengths are padded to the window, as transformers pads them.
    """
    # imported here: transformers' modelling code takes seconds to import, and the app serves first
    from transformers.models.longformer.modeling_longformer import LongformerModel, LongformerSelfAttention

    fast = sharing_tensors(model)
    swapped = [name for name, module in fast.named_modules() if isinstance(module, LongformerSelfAttention)]
    if not swapped:
        raise ValueError(f"{type(model).__name__} has no Longformer self-attention to replace.")
    blocks = set()
    for name in swapped:
        parent, _, attribute = name.rpartition(".")
        blocked = BlockedLongformerSelfAttention(fast.get_submodule(name), block_size)
        setattr(fast.get_submodule(parent), attribute, blocked)
        blocks.add(blocked.block_size)
    fast.block_multiple = math.lcm(*blocks)  # every layer's blocks, when layers' windows differ
    for module in fast.modules():
        if isinstance(module, LongformerModel):
            module.block_multiple = fast.block_multiple
            module._pad_to_window_size = types.MethodType(_pad_to_blocks, module)  # deep copies rebind it
    return fast


def block_multiple(model: Any) -> int | None:
    """What `model`'s inputs are padded to a multiple of: the block for a `with_fast_attention` copy, else None."""
    return getattr(model, "block_multiple", None)


def _pad_to_blocks(self: LongformerModel, **inputs: Any) -> tuple[Any, ...]:
    """`LongformerModel._pad_to_window_size` for blocked attention: a multiple of the block needs no padding."""
    ids, embeds = inputs["input_ids"], inputs["inputs_embeds"]
    length = (ids if ids is not None else embeds).shape[1]
    if length % self.block_multiple:
        return type(self)._pad_to_window_size(self, **inputs)  # transformers' own, on the class
    names = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds")
    return (0, *(inputs[name] for name in names))
