"""Tab 5's note on what the model's heads do: each measured pattern, its strongest heads and their shares.

Layers and heads are counted from 1, as the tab's Layer and Head numbers are. An untrained
model is said to be one; that its heads are near-uniform is said only where it is measured.
"""

from __future__ import annotations

import html
import math
from collections import Counter

from seqdemo.head_patterns import (
    BROAD,
    BROAD_ENTROPY,
    MIXED,
    NEAR_UNIFORM_ENTROPY,
    NEXT,
    PREVIOUS,
    SELF,
    SHARE_THRESHOLD,
    SPECIAL,
    HeadPatterns,
)

LISTED_HEADS = 3  # a positional pattern with more heads than this is counted, with its strongest named

_LOOKS_AT = {PREVIOUS: "the previous token", NEXT: "the next token", SELF: "the token itself"}


def _head(layer: int, head: int) -> str:
    return f"layer {layer + 1} head {head + 1}"


def _floor_percent(fraction: float) -> str:
    """A lower bound, so 0.9996 reads 99.9%, never a rounded-up 100%."""
    return f"{math.floor(fraction * 1000) / 10:.1f}%"


def _positional(patterns: HeadPatterns, pattern: str) -> str:
    heads = patterns.heads(pattern)
    if not heads:
        return ""
    target = _LOOKS_AT[pattern]
    if len(heads) == 1:
        return f"{_head(*heads[0])} looks at {target} ({patterns.strength(*heads[0]):.0%} of its attention)"
    shares = [f"{_head(*at)} ({patterns.strength(*at):.0%})" for at in heads]
    if len(heads) <= LISTED_HEADS:
        return f"{', '.join(shares[:-1])} and {shares[-1]} look at {target}"
    return f"{len(heads)} heads look at {target}, most of all {shares[0]}"


def _special(patterns: HeadPatterns, specials: str) -> str:
    heads = patterns.heads(SPECIAL)
    if not heads:
        return ""
    strongest = f"{patterns.strength(*heads[0]):.0%}"
    if len(heads) == 1:
        share = f"{_head(*heads[0])} puts most of its attention on {specials} ({strongest})"
    else:
        share = (
            f"{len(heads)} of {patterns.num_heads} heads put most of their attention on {specials} "
            f"(up to {strongest}, {_head(*heads[0])})"
        )
    return (
        f"{share}, which Clark et al. (2019) read as a no-op: a head with nothing to add to a token parks "
        "its attention there"
    )


def _broad(patterns: HeadPatterns) -> str:
    heads = patterns.heads(BROAD)
    if not heads:
        return ""
    per_layer = Counter(layer for layer, _ in heads)
    layer, most = per_layer.most_common(1)[0]
    if len(per_layer) == 1:
        where = f"all in layer {layer + 1}" if len(heads) > 1 else _head(*heads[0])
    elif most > len(heads) / 2:
        where = f"{most} of them in layer {layer + 1}"
    else:
        where = "in layers " + ", ".join(str(lay + 1) for lay in sorted(per_layer))
    noun, its = ("head is", "its") if len(heads) == 1 else ("heads are", "their")
    return (
        f"{len(heads)} {noun} broad, spreading {its} attention over many tokens "
        f"(entropy at least {BROAD_ENTROPY:.0%} of uniform's; {where})"
    )


def head_patterns_html(patterns: HeadPatterns, *, untrained: bool = False) -> str:
    """A short note for tab 5: which heads attend to special tokens, the previous, next or same token, or broadly.

    `untrained`: the model's weights are seeded, not trained (the offline kit's small models); the note
    says so, and says its heads are near-uniform only where every head measures so.
    """
    specials = "/".join(html.escape(token) for token in patterns.special_tokens) or "the special tokens"
    measured = f"measured over the {patterns.queries:,} real tokens of these texts, pads left out"
    if untrained and patterns.near_uniform:
        return (
            f'<p class="sd-note"><b>What the heads do</b> ({measured}): this model is untrained (seeded random '
            f"weights), and its attention shows it: all {patterns.num_heads} heads are near-uniform, each "
            "spreading its attention almost evenly over the tokens it can see (entropy at least "
            f"{_floor_percent(float(patterns.entropy.min()))} of uniform's).</p>"
        )
    parts = [
        _positional(patterns, PREVIOUS),
        _positional(patterns, NEXT),
        _positional(patterns, SELF),
        _special(patterns, specials),
        _broad(patterns),
    ]
    mixed = len(patterns.heads(MIXED))
    if mixed:
        rest = "the other" if mixed < patterns.num_heads else "all"
        parts.append(f"{rest} {mixed} follow no single one of these patterns")
    caveat = "this model is untrained (seeded random weights), so what follows is chance: " if untrained else ""
    near = (
        f" Every head is near-uniform (entropy at least {NEAR_UNIFORM_ENTROPY:.0%} of uniform's)."
        if patterns.near_uniform
        else ""
    )
    return (
        f'<p class="sd-note"><b>What the heads do</b> ({measured}): {caveat}'
        f"{'; '.join(part for part in parts if part)}.{near} "
        f"A head is named by what takes at least {SHARE_THRESHOLD:.0%} of its attention, on average over the "
        "queries; choose its Layer and Head to see it.</p>"
    )
