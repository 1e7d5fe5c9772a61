"""GPT-2's byte-level BPE from a tiktoken ranks file: the vocabulary and the merges that built it.

The file lists each token (base64 bytes) with its rank, which is GPT-2's token id; the first
256 ranks are single bytes. It holds no merges, but each longer token was made by exactly one
merge, found as tiktoken finds it: run BPE on the token's bytes with the ranks below its own,
and the two pieces left are that merge ("Ġworld" → "Ġw" + "orld"). Bytes are spelled with
GPT-2's byte-to-unicode table, so the vocabulary reads as GPT-2's `vocab.json` does.
"""

from __future__ import annotations

import base64
from pathlib import Path

from transformers.convert_slow_tokenizer import bytes_to_unicode


def read_ranks(path: Path) -> dict[bytes, int]:
    """{token bytes: rank} from a tiktoken file of `base64-token rank` lines."""
    ranks = {}
    for line in path.read_text(encoding="ascii").splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _pieces_below(ranks: dict[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    """The token's bytes merged pairwise, lowest rank first, using only ranks below `max_rank`."""
    parts = [bytes([byte]) for byte in token]
    while True:
        best: tuple[int, int] | None = None  # (rank, position)
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < max_rank and (best is None or rank < best[0]):
                best = (rank, i)
        if best is None:
            return parts
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]


def gpt2_vocab_and_merges(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """({token: GPT-2 id}, merges in rank order) for the `tokenizers` BPE; no special tokens."""
    ranks = read_ranks(path)
    to_unicode = bytes_to_unicode()

    def spell(token: bytes) -> str:
        return "".join(to_unicode[byte] for byte in token)

    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) > 1:
            left, right = _pieces_below(ranks, token, rank)  # exactly two: the merge that made it
            merges.append((spell(left), spell(right)))
    return {spell(token): rank for token, rank in ranks.items()}, merges
