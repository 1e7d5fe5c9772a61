"""What each attention head does on a batch: how much goes to special tokens, the previous, next or same token.

Measured over every real query of every text, on real keys only: pads are neither queries nor keys,
and each row is renormalised over the real keys (a no-op when the model had the attention_mask).
Breadth is the entropy next to uniform attention's over the keys a query can see. Each head is
then named by its dominant pattern, with the thresholds below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqdemo.attention import AttentionMaps

# The patterns a head can be named by.
BROAD, SPECIAL, PREVIOUS, NEXT, SELF, MIXED = "broad", "special", "previous", "next", "self", "mixed"
PATTERNS = (SPECIAL, PREVIOUS, NEXT, SELF, BROAD, MIXED)

# Thresholds, chosen from all-MiniLM-L6-v2 on the attention tab's worked example and on seven short
# sentences: one previous-token head puts 1.00 of its attention on i-1 (the next strongest 0.43), one
# next-token head 0.62-0.69 on i+1 (the next 0.30), no head more than 0.24 on itself; shares on
# [CLS]/[SEP] spread from 0.05 to 0.86 with no gap, so the line is "most of its attention", half.
# Relative entropies: the middle half of all heads 0.44-0.73, layer 1's broad heads 0.85-0.95 and a
# few later ones up to 0.87, so broad starts at 0.8. The kit's untrained RoBERTa and Longformer:
# 0.9999-1.0 in every head, so near-uniform (every head of the model) starts at 0.95.
SHARE_THRESHOLD = 0.5  # a head is SPECIAL, PREVIOUS, NEXT or SELF with at least this share on it
BROAD_ENTROPY = 0.8  # a head is BROAD when its entropy is at least this fraction of uniform attention's
NEAR_UNIFORM_ENTROPY = 0.95  # every head at least this: the model's attention is near-uniform (untrained)


@dataclass(frozen=True, eq=False)
class HeadPatterns:
    """Per layer and head, the mean over every real query of every text of where its attention goes.

    Arrays are (layers, heads), as shares of each query's attention on the real keys:
    `on_special` on the text's special tokens (`special_tokens`, e.g. `[CLS]`, `[SEP]`), `on_previous`
    on the token just before (queries that have one), `on_next` just after (queries that have one),
    `on_self` on the query itself; `entropy` is the row's entropy over the log of the number of
    keys the query can see (1 = uniform; Longformer sees its band and the global tokens; a query
    that sees one key counts as uniform). `patterns[l][h]` names head h of layer l, 0-based: BROAD
    if its entropy is at least BROAD_ENTROPY, else the largest of its four shares that reaches
    SHARE_THRESHOLD, else MIXED. `queries` counts the real queries measured.
    """

    model_type: str
    special_tokens: tuple[str, ...]
    on_special: np.ndarray
    on_previous: np.ndarray
    on_next: np.ndarray
    on_self: np.ndarray
    entropy: np.ndarray
    patterns: tuple[tuple[str, ...], ...]
    queries: int

    @property
    def num_heads(self) -> int:
        """Heads in the whole model (layers × heads)."""
        return self.entropy.size

    @property
    def near_uniform(self) -> bool:
        """Every head's entropy is at least NEAR_UNIFORM_ENTROPY of uniform's, as in an untrained model."""
        return bool((self.entropy >= NEAR_UNIFORM_ENTROPY).all())

    def heads(self, pattern: str) -> tuple[tuple[int, int], ...]:
        """(layer, head) pairs named `pattern`, 0-based, strongest first (share, or entropy for BROAD and MIXED)."""
        named = [
            (layer, head) for layer, row in enumerate(self.patterns) for head, name in enumerate(row) if name == pattern
        ]
        return tuple(sorted(named, key=lambda at: -self.strength(*at)))

    def strength(self, layer: int, head: int) -> float:
        """What names the head: its share on its pattern, or its relative entropy for BROAD and MIXED."""
        shares = {SPECIAL: self.on_special, PREVIOUS: self.on_previous, NEXT: self.on_next, SELF: self.on_self}
        return float(shares.get(self.patterns[layer][head], self.entropy)[layer, head])


def name_pattern(on_special: float, on_previous: float, on_next: float, on_self: float, entropy: float) -> str:
    """One head's pattern from its shares and relative entropy (see `HeadPatterns`)."""
    if entropy >= BROAD_ENTROPY:
        return BROAD
    shares = {SPECIAL: on_special, PREVIOUS: on_previous, NEXT: on_next, SELF: on_self}
    strongest = max(shares, key=shares.__getitem__)
    return strongest if shares[strongest] >= SHARE_THRESHOLD else MIXED


def _visible_keys(maps: AttentionMaps, b: int, real: np.ndarray, layer: int) -> np.ndarray:
    """(n,): how many of text b's n real keys each of its real queries can attend to in `layer`."""
    if maps.attention_window is None:
        return np.full(real.size, real.size)
    glob = maps.global_attention_mask[b, real].astype(bool)
    near = np.abs(real[:, None] - real[None, :]) <= maps.attention_window[layer] // 2  # the band counts pads too
    return (near | glob[None, :] | glob[:, None]).sum(axis=1)


def measure_head_patterns(maps: AttentionMaps) -> HeadPatterns:
    """Measure and name every head of `maps` (weights (batch, layers, heads, seq, seq)); see `HeadPatterns`.

    Real tokens are those of `maps.attention_mask`, one run per text (padding sits on one side),
    special ones those of `special_tokens_mask` that are real. Each query weighs the same, so
    longer texts count for more. Layer by layer, on views of the weights: nothing as large is copied.
    """
    layers, heads = maps.num_layers, maps.num_heads
    sums = {name: np.zeros((layers, heads)) for name in ("special", "previous", "next", "self", "entropy")}
    queries = neighbours = 0  # real queries, and those with a real token before (and after) them
    names: dict[str, None] = {}
    tiny = np.finfo(maps.weights.dtype).tiny
    for b in range(maps.batch_size):
        real = np.flatnonzero(maps.attention_mask[b])
        n = real.size
        if real[-1] - real[0] + 1 != n:
            raise ValueError(f"Text {b + 1}'s real tokens are not one run: padding must sit on one side.")
        special = maps.special_tokens_mask[b, real].astype(bool)
        names.update(dict.fromkeys(maps.tokens[b][i] for i in real[special]))
        i, span = np.arange(n), slice(real[0], real[0] + n)
        for layer in range(layers):
            weights = maps.weights[b, layer, :, span, span]  # (heads, n, n), a view
            total = np.maximum(weights.sum(axis=-1), tiny)  # (heads, n): each row's weight on real keys
            sums["special"][layer] += (weights[:, :, special].sum(axis=-1) / total).sum(axis=-1)
            sums["previous"][layer] += (weights[:, i[1:], i[:-1]] / total[:, 1:]).sum(axis=-1)
            sums["next"][layer] += (weights[:, i[:-1], i[1:]] / total[:, :-1]).sum(axis=-1)
            sums["self"][layer] += (weights[:, i, i] / total).sum(axis=-1)
            # The entropy of the renormalised row w / t, without making it: log t - sum(w log w) / t (0 log 0 = 0).
            plogp = np.einsum("hqk,hqk->hq", weights, np.log(np.maximum(weights, tiny)))
            entropy = np.log(total) - plogp / total
            uniform = np.log(_visible_keys(maps, b, real, layer))  # (n,)
            relative = np.divide(entropy, uniform, out=np.ones_like(entropy), where=uniform > 0)
            sums["entropy"][layer] += relative.sum(axis=-1)
        queries += n
        neighbours += n - 1
    on_special = sums["special"] / queries
    on_previous = sums["previous"] / max(neighbours, 1)
    on_next = sums["next"] / max(neighbours, 1)
    on_self = sums["self"] / queries
    entropy = sums["entropy"] / queries
    measures = (on_special, on_previous, on_next, on_self, entropy)
    patterns = tuple(
        tuple(name_pattern(*(measure[layer, head] for measure in measures)) for head in range(heads))
        for layer in range(layers)
    )
    return HeadPatterns(
        model_type=maps.model_type,
        special_tokens=tuple(names),
        on_special=on_special,
        on_previous=on_previous,
        on_next=on_next,
        on_self=on_self,
        entropy=entropy,
        patterns=patterns,
        queries=queries,
    )
