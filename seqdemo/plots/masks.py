"""Figures of the attention-mask lesson: one example's key mask, and the |Δ| of the proof runs.

The proof's |Δ| span ten orders of magnitude (float noise against real differences), so
they are drawn on a log scale; an exact 0, which a log scale cannot show, has no bar and
a "0" on the floor of the axis instead.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from seqdemo.masks import MaskProof, PaddedBatch
from seqdemo.plots.fonts import MONO, installed
from seqdemo.plots.palette import ACCENT, KINDS, OK, PROOF_RUN_COLORS
from seqdemo.token_kinds import PAD

ATTENDED_COLOR = ACCENT
BLOCKED_COLOR = KINDS[PAD].tint
PAD_LABEL_COLOR = KINDS[PAD].ink
TOLERANCE_COLOR = OK.fill
MAX_TOKEN_LABELS = 64  # beyond this many positions the axes show indices, not tokens
DELTA_FLOOR = 1e-10  # where an exact 0 is drawn on the log axis

# (legend label, colour, run, field); a run keeps its colour in both panels.
HIDDEN_SERIES = (
    ("(b) padded, with attention_mask", PROOF_RUN_COLORS["masked"], "masked", "hidden_delta"),
    ("(c) padded, no attention_mask", PROOF_RUN_COLORS["unmasked"], "unmasked", "hidden_delta"),
)
POOLED_SERIES = (
    ("(b) padded, with attention_mask", PROOF_RUN_COLORS["masked"], "masked", "pooled_delta"),
    ("(c) padded, no attention_mask", PROOF_RUN_COLORS["unmasked"], "unmasked", "pooled_delta"),
    ("(b) plain mean over all positions, pads included", PROOF_RUN_COLORS["plain_mean"], "masked", "mean_all_delta"),
)


def plot_key_mask(batch: PaddedBatch, index: int, allowed: np.ndarray, model_name: str = "") -> Figure:
    """Queries (rows) × keys (columns) of example `index`: blue where attention may go.

    `allowed` is (seq, seq) bool from `attention_key_mask`. Pad tokens are labelled in grey.
    Drawn as one image (not a cell per pair), so a 4096-token mask stays a small file.
    """
    seq = len(allowed)
    size = float(np.clip(2.5 + 0.2 * seq, 4.5, 9.0))
    figure = Figure(figsize=(size, size + 0.4), layout="constrained")
    axes = figure.add_subplot()
    colors = ListedColormap([BLOCKED_COLOR, ATTENDED_COLOR])
    axes.imshow(allowed, cmap=colors, vmin=0, vmax=1, interpolation="nearest")
    if seq <= MAX_TOKEN_LABELS:
        edges = np.arange(seq + 1) - 0.5
        axes.hlines(edges, -0.5, seq - 0.5, color="white", linewidth=0.6)
        axes.vlines(edges, -0.5, seq - 0.5, color="white", linewidth=0.6)
        tokens = batch.tokens[index]
        fontsize = 9 if seq <= 24 else 7
        axes.set_xticks(range(seq), tokens, rotation=90, fontsize=fontsize, fontfamily=list(installed(MONO)))
        axes.set_yticks(range(seq), tokens, fontsize=fontsize, fontfamily=list(installed(MONO)))
        pads = batch.attention_mask[index] == 0
        for labels in (axes.get_xticklabels(), axes.get_yticklabels()):
            for label, is_pad in zip(labels, pads, strict=True):
                if is_pad:
                    label.set_color(PAD_LABEL_COLOR)
    unit = "" if seq <= MAX_TOKEN_LABELS else f" · position (tokens not named beyond {MAX_TOKEN_LABELS})"
    axes.set_xlabel("keys (attended to)" + unit)
    axes.set_ylabel("queries (attending)" + unit)
    title = f"Text {index + 1}: key mask" + (f" in {model_name}" if model_name else "")
    axes.set_title(title, fontsize=11, loc="left")
    figure.legend(
        handles=[Patch(color=ATTENDED_COLOR, label="attends"), Patch(color=BLOCKED_COLOR, label="blocked")],
        loc="outside lower center",
        ncols=2,
        fontsize=9,
        frameon=False,
    )
    return figure


def _bars(axes, proof: MaskProof, series, title: str) -> None:
    count = len(proof.tokenized.ids)
    width = 0.8 / len(series)
    for offset, (label, color, run_name, field) in enumerate(series):
        values = getattr(getattr(proof, run_name), field)
        positions = np.arange(count) + (offset - (len(series) - 1) / 2) * width
        axes.bar(positions, np.where(values > 0, values, np.nan), width, color=color, label=label)
        for x, value in zip(positions, values, strict=True):
            if value == 0:
                axes.text(x, DELTA_FLOOR * 1.6, "0", ha="center", va="bottom", fontsize=8, color=color)
    axes.axhline(proof.tolerance, color=TOLERANCE_COLOR, linestyle="--", linewidth=1.2)
    axes.text(
        count - 0.5,
        proof.tolerance * 1.5,
        f"tolerance {proof.tolerance:.0e} ({proof.dtype})",
        ha="right",
        va="bottom",
        fontsize=8,
        color=TOLERANCE_COLOR,
    )
    axes.set_yscale("log")
    # Figures draw text literally (plots.fonts: no mathtext), so the log axis is labelled 10⁻⁶, not $10^{-6}$.
    axes.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_xlim(-0.5, count - 0.5)  # all-zero series draw no bars and must not move the limits
    labels = [f"text {i + 1}\n{length} tok" for i, length in enumerate(proof.tokenized.lengths)]
    axes.set_xticks(range(count), labels, fontsize=8)
    axes.set_ylabel("max |Δ| against the text alone")
    axes.set_title(title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _position: object = None) -> str:
    """'10⁻⁶' for a power of ten, else '' (log-axis tick labels without mathtext)."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    return f"10{str(exponent).translate(SUPERSCRIPTS)}" if math.isclose(value, 10.0**exponent) else ""


def plot_mask_proof(proof: MaskProof) -> Figure:
    """Two panels of per-text max |Δ| on a log scale, with the tolerance as a dashed line.

    Left: last hidden states over real tokens, (b) and (c). Right: the mean-pooled sentence
    embedding, masked mean for (b) and (c), and the plain mean over all positions for (b).
    """
    width = float(np.clip(4 + 1.3 * len(proof.tokenized.ids), 8, 14))
    figure = Figure(figsize=(width, 4.4), layout="constrained")
    hidden_axes, pooled_axes = figure.subplots(1, 2, sharey=True)
    _bars(hidden_axes, proof, HIDDEN_SERIES, "Last hidden states (real tokens)")
    _bars(pooled_axes, proof, POOLED_SERIES, "Sentence embedding (mean pooling)")
    pooled_axes.set_ylabel("")
    largest = max(
        getattr(getattr(proof, run), field).max()
        for series in (HIDDEN_SERIES, POOLED_SERIES)
        for *_, run, field in series
    )
    hidden_axes.set_ylim(DELTA_FLOOR / 2, max(largest, proof.tolerance) * 10)
    figure.legend(
        *pooled_axes.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8, frameon=False
    )
    return figure
