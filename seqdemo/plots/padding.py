"""Batch shapes side by side: each configuration's tensor as a rectangle of rows × positions.

Cells are coloured by what sits there (real token, special token, pad, overlap with the
previous window); all panels share one scale, so a smaller tensor looks smaller.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from seqdemo.padding import EncodedBatch
from seqdemo.plots.palette import KINDS, STRONG_INK
from seqdemo.token_kinds import OVERLAP, PAD, REAL, SPECIAL

KIND_LABELS = {
    REAL: "real token",
    SPECIAL: "special token",
    PAD: "pad",
    OVERLAP: "overlap with previous window",
}
KIND_COLOURS = {kind: KINDS[kind].fill for kind in KIND_LABELS}
GRID_LINES_UP_TO = 64  # cell borders only while cells are wide enough to see


def kind_matrix(batch: EncodedBatch) -> np.ma.MaskedArray:
    """(rows, longest row) codes into KIND_COLOURS' order; masked past a row's end (ragged batches)."""
    codes = {kind: code for code, kind in enumerate(KIND_COLOURS)}
    width = max(batch.lengths)
    matrix = np.ma.masked_all((len(batch.rows), width), dtype=np.int64)
    for index, row in enumerate(batch.rows):
        matrix[index, : len(row.tokens)] = [codes[kind] for kind in row.kinds()]
    return matrix


def plot_batch_shapes(batches: Mapping[str, EncodedBatch]) -> Figure:
    """One panel per configuration (label -> batch) on a common scale; a dark outline marks each tensor."""
    rows = max(len(batch.rows) for batch in batches.values())
    width = max(max(batch.lengths) for batch in batches.values())
    figure = Figure(figsize=(min(4.6 * len(batches), 18), min(1.6 + 0.32 * rows, 9)), layout="constrained")
    axes = figure.subplots(1, len(batches), sharex=True, squeeze=False)[0]
    colours = ListedColormap(list(KIND_COLOURS.values()))
    for ax, (label, batch) in zip(axes, batches.items(), strict=True):
        matrix = kind_matrix(batch)
        ax.imshow(
            matrix, cmap=colours, vmin=0, vmax=len(KIND_COLOURS) - 1, interpolation="nearest", aspect="auto",
            extent=(-0.5, matrix.shape[1] - 0.5, matrix.shape[0] - 0.5, -0.5),
        )  # fmt: skip
        shape = batch.shape
        if shape is not None:
            ax.add_patch(Rectangle((-0.5, -0.5), shape[1], shape[0], fill=False, edgecolor=STRONG_INK, linewidth=1.4))
        if matrix.shape[1] <= GRID_LINES_UP_TO and matrix.shape[0] <= GRID_LINES_UP_TO:
            ax.set_xticks(np.arange(-0.5, matrix.shape[1]), minor=True)
            ax.set_yticks(np.arange(-0.5, matrix.shape[0]), minor=True)
            ax.grid(which="minor", color="white", linewidth=0.8)
            ax.tick_params(which="minor", length=0)
        samples = [row.sample for row in batch.rows]
        boundaries = np.flatnonzero(np.diff(samples)) + 0.5
        ax.hlines(boundaries, -0.5, matrix.shape[1] - 0.5, color=STRONG_INK, linewidth=0.8, linestyle=":")
        title = f"(rows, seq) = {shape}" if shape else f"ragged: lengths {min(batch.lengths)}–{max(batch.lengths)}"
        ax.set_title(f"{label} · {title}", fontsize=10, loc="left")
        ax.set_xlabel("position")
        if len(batch.rows) <= 24:
            ax.set_yticks(range(len(batch.rows)), [batch.row_label(i) for i in range(len(batch.rows))], fontsize=8)
        ax.set_ylim(rows - 0.5, -0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_xlim(-0.5, width - 0.5)
    handles = [Patch(facecolor=colour, label=KIND_LABELS[kind]) for kind, colour in KIND_COLOURS.items()]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=9)
    return figure
