"""Figures of attention maps: one head as a heatmap, every layer × head at a glance, one query's row as bars.

Each takes `AttentionMaps` and an `AttentionView`. A weight of exactly zero means the key was
never attended (masked as padding, or outside Longformer's band and global tokens): those
cells are drawn blank, not dark, and padded keys are hatched on top.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Patch, Rectangle

from seqdemo.attention import AttentionMaps, AttentionView, attention_matrix
from seqdemo.plots.lengths import text_label
from seqdemo.plots.palette import BLANK, ERROR, KINDS
from seqdemo.token_kinds import GLOBAL, PAD, REAL, SPECIAL, token_kinds

MAX_TICK_LABELS = 64  # per axis; beyond that every second (third, ...) token is labelled
MAX_PANEL_CELLS = 96  # per axis of an overview panel; larger windows are max-pooled down to it
PAD_HATCH = KINDS[PAD].ink
WASH_ALPHA = 0.6  # white laid over padded queries' rows
WASHED = tuple((1 - WASH_ALPHA) * c + WASH_ALPHA for c in colormaps["viridis"](0.7)[:3])
BAR_KINDS = {REAL: "token", SPECIAL: "special", GLOBAL: "global", PAD: "pad"}  # kind -> its name in the legend


def _kinds(maps: AttentionMaps, example: int) -> tuple[str, ...]:
    """Per token of the example: PAD, GLOBAL (Longformer), SPECIAL or REAL."""
    return token_kinds(
        maps.special_tokens_mask[example],
        attention_mask=maps.attention_mask[example],
        global_attention=None if maps.global_attention_mask is None else maps.global_attention_mask[example],
    )


def _head_name(view: AttentionView) -> str:
    return "mean over heads" if view.head is None else f"head {view.head + 1}"


def _window_note(maps: AttentionMaps, view: AttentionView) -> str:
    return f"tokens {view.start}–{view.stop - 1} of {maps.seq_len}"


def _spans(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _label_ticks(ax: Axes, maps: AttentionMaps, view: AttentionView, axis: str) -> None:
    kinds = _kinds(maps, view.example)
    positions = list(range(view.start, view.stop))
    step = math.ceil(len(positions) / MAX_TICK_LABELS)
    shown = positions[::step]
    labels = [text_label(p, maps.tokens[view.example][p], width=14) for p in shown]
    ticks = [p - view.start for p in shown]
    if axis == "x":
        ax.set_xticks(ticks, labels, rotation=90, fontsize=7)
        tick_labels = ax.get_xticklabels()
    else:
        ax.set_yticks(ticks, labels, fontsize=7)
        tick_labels = ax.get_yticklabels()
    for label, position in zip(tick_labels, shown, strict=True):
        label.set_color(KINDS[kinds[position]].ink)
        if kinds[position] == GLOBAL:
            label.set_fontweight("bold")


def _attended_range(matrix: np.ndarray) -> tuple[float, float]:
    """The smallest and largest non-zero weight, so that near-uniform heads still show their shape."""
    attended = matrix[matrix != 0.0]
    if not attended.size:
        return 0.0, 1.0
    low, high = float(attended.min()), float(attended.max())
    return low, max(high, low + 1e-9)


def _draw_matrix(ax: Axes, matrix: np.ndarray) -> AxesImage:
    low, high = _attended_range(matrix)
    cmap = colormaps["viridis"].with_extremes(bad=BLANK)
    return ax.imshow(np.ma.masked_equal(matrix, 0.0), cmap=cmap, vmin=low, vmax=high, interpolation="nearest")


def _colours(matrix: np.ndarray) -> np.ndarray:
    """(n, n) weights -> (n, n, 4) RGBA as `_draw_matrix` paints them, zeros blank."""
    low, high = _attended_range(matrix)
    rgba = colormaps["viridis"]((matrix - low) / (high - low))
    rgba[matrix == 0.0] = to_rgba(BLANK)
    return rgba


def plot_attention_heatmap(maps: AttentionMaps, view: AttentionView) -> Figure:
    """Queries (rows) × keys (columns) of the view's window, one head or the mean over heads.

    Padded keys are hatched, padded queries washed out (their output is thrown away), and
    Longformer's global tokens are labelled in bold orange.
    """
    matrix = attention_matrix(maps, view)[view.start : view.stop, view.start : view.stop]
    size = view.stop - view.start
    side = min(9.0, max(5.0, 2.0 + 0.12 * size))
    # Fixed axes, no layout engine: the tick labels sit outside the figure and the saved file is cropped
    # to what was drawn, which costs a third less time than constrained layout at 64 labels per axis.
    fig = Figure(figsize=(side + 2.4, side))
    width = side / (side + 2.4)
    ax = fig.add_axes((0.0, 0.0, width, 1.0))
    image = _draw_matrix(ax, matrix)
    kinds = np.array(_kinds(maps, view.example)[view.start : view.stop])
    for start, stop in _spans(kinds == PAD):
        ax.add_patch(
            Rectangle((start - 0.5, -0.5), stop - start, size, fill=False, hatch="///", edgecolor=PAD_HATCH, lw=0)
        )
        ax.add_patch(Rectangle((-0.5, start - 0.5), size, stop - start, facecolor="white", alpha=WASH_ALPHA, lw=0))
    outline = {"fill": False, "edgecolor": KINDS[GLOBAL].ink, "lw": 1.0}
    for start, stop in _spans(kinds == GLOBAL):  # framed: a lone global token is one pixel wide at 512 tokens
        ax.add_patch(Rectangle((start - 0.5, -0.5), stop - start, size, **outline))
        ax.add_patch(Rectangle((-0.5, start - 0.5), size, stop - start, **outline))
    _label_ticks(ax, maps, view, "x")
    _label_ticks(ax, maps, view, "y")
    ax.set_xlabel("key: the token attended to")
    ax.set_ylabel("query: the token attending")
    fig.colorbar(image, cax=fig.add_axes((width + 0.03, 0.45, 0.025, 0.55)), label="attention weight")
    ax.set_title(
        f"{maps.model_type} · text {view.example + 1} · layer {view.layer + 1} · {_head_name(view)}\n"
        f"{_window_note(maps, view)} · each real query's row sums to 1 over all keys",
        fontsize=10,
    )
    handles = [
        Patch(facecolor=BLANK, label="weight exactly 0:\nnever attended"),
        Patch(facecolor="white", edgecolor=PAD_HATCH, hatch="///", label="padded key"),
        Patch(facecolor=WASHED, label="padded query:\noutput thrown away"),
    ]
    if maps.global_attention_mask is not None:
        handles.append(Patch(label="global token's\nrow and column", **outline))
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(1.01, 0.0),
        fontsize=8,
        frameon=False,
    )
    return fig


def _max_pooled(matrix: np.ndarray, cells: int) -> np.ndarray:
    """(n, n) -> at most (cells, cells), each cell the largest weight of its block of tokens.

    A pooled cell is zero (blank) only where every token pair in its block got zero weight.
    """
    block = math.ceil(matrix.shape[0] / cells)
    if block == 1:
        return matrix
    padded = -(-matrix.shape[0] // block) * block
    grown = np.zeros((padded, padded), dtype=matrix.dtype)
    grown[: matrix.shape[0], : matrix.shape[1]] = matrix
    return grown.reshape(padded // block, block, padded // block, block).max(axis=(1, 3))


def plot_layers_heads(maps: AttentionMaps, view: AttentionView) -> Figure:
    """Small multiples: every layer (rows) × head (columns) of the view's text and window.

    Each panel is scaled to its own maximum, so a head's pattern shows however peaked it is;
    windows wider than `MAX_PANEL_CELLS` tokens are max-pooled (a panel is a thumbnail, and
    pooling keeps a lone strong weight that resampling would drop). All panels are one image,
    so 12 × 12 heads cost what 2 × 4 do. The view's own layer and head are framed in red.
    """
    layers, heads = maps.num_layers, maps.num_heads
    window = slice(view.start, view.stop)
    panels = [
        [_max_pooled(maps.weights[view.example, layer, head, window, window], MAX_PANEL_CELLS) for head in range(heads)]
        for layer in range(layers)
    ]
    cells = panels[0][0].shape[0]
    gap = max(1, cells // 10)
    step = cells + gap
    # RGBA bytes, white between panels: matplotlib draws a uint8 image without converting every pixel
    mosaic = np.full((layers * step - gap, heads * step - gap, 4), 255, dtype=np.uint8)
    for layer, row in enumerate(panels):
        for head, panel in enumerate(row):
            colours = np.round(_colours(panel) * 255).astype(np.uint8)
            mosaic[layer * step : layer * step + cells, head * step : head * step + cells] = colours
    side = min(1.6, 11.0 / heads)
    fig = Figure(figsize=(side * heads, side * layers))  # fixed axes, cropped on saving, as in the heatmap
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.imshow(mosaic, interpolation="nearest")
    centres = [i * step + (cells - 1) / 2 for i in range(max(layers, heads))]
    ax.set_xticks(centres[:heads], [f"head {h + 1}" for h in range(heads)], fontsize=8)
    ax.set_yticks(centres[:layers], [f"layer {layer + 1}" for layer in range(layers)], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0, pad=8)
    ax.spines[:].set_visible(False)
    framed_heads = range(heads) if view.head is None else [view.head]
    ax.add_patch(
        Rectangle(
            (framed_heads[0] * step - 0.5 - gap / 2, view.layer * step - 0.5 - gap / 2),
            len(framed_heads) * step,
            step,
            fill=False,
            edgecolor=ERROR.fill,
            lw=2,
            clip_on=False,  # the frame sits in the gaps, which the outer panels do not have
        )
    )
    ax.set_title(
        f"{maps.model_type} · text {view.example + 1} · every layer × head · {_window_note(maps, view)}\n"
        "blank = weight exactly 0 · each panel scaled to its own maximum\nframed in red: the heatmap's layer and head",
        fontsize=9,
        pad=18,
    )
    return fig


def plot_token_row(maps: AttentionMaps, view: AttentionView) -> Figure:
    """Where one query looks: its row of the view's matrix as bars over the window's keys."""
    row = attention_matrix(maps, view)[view.query]
    shown = row[view.start : view.stop]
    kinds = _kinds(maps, view.example)[view.start : view.stop]
    size = view.stop - view.start
    fig = Figure(figsize=(12.0, 3.0))  # fixed axes, cropped on saving, as in the heatmap
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    positions = np.arange(size)
    ax.bar(positions, shown, width=0.85, color=[KINDS[kind].fill for kind in kinds])
    for start, stop in _spans(np.array(kinds) == PAD):
        ax.axvspan(start - 0.5, stop - 0.5, facecolor="none", hatch="///", edgecolor=PAD_HATCH, lw=0)
    ax.set_xlim(-0.5, size - 0.5)
    ax.set_ylim(0, max(float(shown.max()), 1e-3) * 1.1)
    _label_ticks(ax, maps, view, "x")
    ax.set_ylabel("attention weight")
    token = maps.tokens[view.example][view.query]
    ax.set_title(
        f"Where does {text_label(view.query, token, width=20)} look? {maps.model_type} · text {view.example + 1} · "
        f"layer {view.layer + 1} · {_head_name(view)}\n"
        f"{_window_note(maps, view)} hold {shown.sum():.0%} of its attention",
        fontsize=9,
    )
    ax.legend(
        handles=[
            Patch(
                facecolor=KINDS[kind].fill,
                label=name,
                **({"hatch": "///", "edgecolor": PAD_HATCH} if kind == PAD else {}),
            )
            for kind, name in BAR_KINDS.items()
            if kind in kinds
        ],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    return fig
