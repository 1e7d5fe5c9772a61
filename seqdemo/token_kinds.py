"""What sits at each position of a tokenized row: a real token, a special token, padding, and the rest.

One classifier for every lesson, so a chip, a grid cell and a plotted bar agree on what a
position is. The order of the checks is the point: padding first (a pad is nothing else), then
Longformer's global tokens, then `[UNK]` before the other special tokens (it is one of them).
"""

from __future__ import annotations

from collections.abc import Sequence

# The kinds, as strings: they are also the CSS classes of chips and grid cells.
REAL, SPECIAL, PAD, UNK, BYTES, OVERLAP, GLOBAL = "real", "special", "pad", "unk", "bytes", "overlap", "global"
TRUNCATED = "truncated"  # a token no row holds: cut away by truncation, so it has no position

Flags = Sequence[bool] | Sequence[int]


def token_kinds(
    special: Flags,
    *,
    attention_mask: Flags | None = None,
    global_attention: Flags | None = None,
    unknown: Flags | None = None,
    overlap: Flags | None = None,
    split_bytes: Flags | None = None,
) -> tuple[str, ...]:
    """One kind per position of a row, from flags of the row's length (any flag left out is all False).

    `special`: a special token (`[CLS]`, `<s>` ...); `attention_mask`: 1 on real tokens, 0 on pads;
    `global_attention`: Longformer's `global_attention_mask`; `unknown`: the unknown token;
    `overlap`: shared with the previous overflow window; `split_bytes`: a byte-level piece of a
    character split across tokens. The first that holds wins, in the order PAD, GLOBAL, UNK,
    SPECIAL, OVERLAP, BYTES; a position none of them holds is REAL.
    """
    length = len(special)
    checks = [
        (PAD, None if attention_mask is None else [not attended for attended in attention_mask]),
        (GLOBAL, global_attention),
        (UNK, unknown),
        (SPECIAL, special),
        (OVERLAP, overlap),
        (BYTES, split_bytes),
    ]
    given = [(kind, flags) for kind, flags in checks if flags is not None]
    for kind, flags in given:
        if len(flags) != length:
            raise ValueError(f"The {kind} flags have {len(flags)} positions; the row has {length}.")
    return tuple(next((kind for kind, flags in given if flags[position]), REAL) for position in range(length))
