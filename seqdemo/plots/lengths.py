"""Figures of the length problem: token counts per text, and the padding a batch would need.

Both take a `LengthReport`. Text labels keep only characters the plotting fonts can draw
(`plots.fonts`), so a character no installed font has is left out rather than drawn as a box.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from seqdemo.lengths import LengthReport
from seqdemo.plots.fonts import drawable_codepoints
from seqdemo.plots.palette import ERROR, FAINT, INK, KINDS, SERIES_COLORS, WHITE
from seqdemo.plural import plural
from seqdemo.token_kinds import BYTES, PAD, REAL, SPECIAL, UNK

# One colour per tokenizer (SERIES_COLORS, in report order); words are grey.
WORDS_COLOR = FAINT
LIMIT_COLOR = ERROR.fill
# Cell colours of the padding grid, matching the token chips.
CELL_COLORS = {"empty": WHITE, **{kind: KINDS[kind].fill for kind in (REAL, SPECIAL, UNK, BYTES, PAD)}}
CELL_LABELS = {
    REAL: "token",
    SPECIAL: "special token",
    UNK: "unknown ([UNK] / <unk>)",
    BYTES: "byte piece of a split character",
    PAD: "padding",
}
MAX_VALUE_LABELS = 16  # texts up to which each bar carries its number


def text_label(number: int, text: str, width: int = 28) -> str:
    """`"3 · first words of the text…"`, dropping characters no plotting font has a glyph for."""
    drawable = drawable_codepoints()
    kept = " ".join("".join(c for c in text if ord(c) in drawable and c.isprintable()).split())
    preview = kept if len(kept) <= width else kept[: width - 1] + "…"
    return f"{number} · {preview}" if preview else str(number)


def plot_token_counts(report: LengthReport) -> Figure:
    """Horizontal bars: per text, its words and its tokens under each tokenizer.

    Bars over a tokenizer's `model_max_length` are hatched red and say so.
    """
    n_texts, names = len(report.texts), report.names
    series = [("words", np.array(report.words), WORDS_COLOR, None)]
    for index, lengths in enumerate(report.tokenizers):
        series.append((lengths.name, lengths.counts, SERIES_COLORS[index % len(SERIES_COLORS)], lengths))
    bar = 0.8 / len(series)
    height = min(2.0 + n_texts * (0.18 * len(series) + 0.2), 16.0)
    fig = Figure(figsize=(7.5, height), layout="constrained")
    ax = fig.add_subplot()
    rows = np.arange(n_texts)
    show_values = n_texts <= MAX_VALUE_LABELS
    for position, (label, values, color, lengths) in enumerate(series):
        y = rows - 0.4 + bar * (position + 0.5)
        bars = ax.barh(y, values, height=bar, color=color, label=label)
        if lengths is not None:
            for i in lengths.over_limit:
                bars[i].set_hatch("///")
                bars[i].set_edgecolor(LIMIT_COLOR)
        if show_values:
            over = set(lengths.over_limit) if lengths is not None else set()
            labels = [f"{v:,} > {lengths.model_max_length:,}" if i in over else f"{v:,}" for i, v in enumerate(values)]
            ax.bar_label(bars, labels=labels, padding=2, fontsize=7, color=INK)
    ax.set_yticks(rows, [text_label(i + 1, text) for i, text in enumerate(report.texts)], fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.12)
    ax.set_xlabel("count" + ("" if report.add_special_tokens else " (special tokens not counted)"))
    fig.suptitle(f"Words vs tokens: {plural(n_texts, 'text')} × {plural(len(names), 'tokenizer')}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside lower center", ncols=len(series), fontsize=8, frameon=False)
    return fig


def padding_cells(report: LengthReport, name: str, width: int) -> np.ndarray:
    """Cell categories of one tokenizer's batch padded to the longest, as indices into CELL_COLORS.

    Shape (texts, width): each row holds the text's token kinds, then "pad" up to the padded
    length, then "empty" up to `width` (so tokenizers of different lengths share one axis).
    """
    code = {category: i for i, category in enumerate(CELL_COLORS)}
    lengths = report.by_name(name)
    cells = np.full((len(report.texts), width), code["empty"], dtype=np.int8)
    for row, text in enumerate(lengths.texts):
        cells[row, : text.count] = [code[kind] for kind in text.kinds]
        cells[row, text.count : lengths.max_tokens] = code[PAD]
    return cells


def plot_padding_grid(report: LengthReport) -> Figure:
    """Per tokenizer, the padded batch as a picture: a row per text, a cell per slot.

    Real tokens are coloured by kind and the padding each text needs is grey, so the grey
    area is the padding share. A red line marks `model_max_length` where the batch reaches it.
    """
    n_texts = len(report.texts)
    width = max(max(lengths.max_tokens for lengths in report.tokenizers), 1)
    categories = list(CELL_COLORS)
    cmap = ListedColormap(list(CELL_COLORS.values()))
    norm = BoundaryNorm(np.arange(len(categories) + 1) - 0.5, len(categories))
    used: set[str] = set()
    panel = min(0.6 + 0.26 * n_texts, 5.0)
    fig = Figure(figsize=(7.5, 0.9 + panel * len(report.tokenizers)), layout="constrained")
    axes = fig.subplots(len(report.tokenizers), 1, sharex=True, squeeze=False)[:, 0]
    for ax, lengths in zip(axes, report.tokenizers, strict=True):
        cells = padding_cells(report, lengths.name, width)
        used.update(categories[code] for code in np.unique(cells))
        ax.imshow(cells, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", extent=(0, width, n_texts, 0))
        if width <= 120 and n_texts <= 32:  # cell borders only while cells are big enough to see
            ax.vlines(np.arange(1, width), 0, n_texts, colors="white", linewidth=0.6)
            ax.hlines(np.arange(1, n_texts), 0, width, colors="white", linewidth=0.6)
        if lengths.model_max_length <= width:
            ax.axvline(lengths.model_max_length, color=LIMIT_COLOR, linestyle="--", linewidth=1.2)
            ax.text(
                lengths.model_max_length,
                0,
                f" model_max_length {lengths.model_max_length:,}",
                color=LIMIT_COLOR,
                fontsize=7,
                va="top",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
            )
        step = max(1, n_texts // 12)
        ax.set_yticks(np.arange(0, n_texts, step) + 0.5, [str(i + 1) for i in range(0, n_texts, step)], fontsize=8)
        ax.set_ylabel("text", fontsize=8)
        ax.set_title(
            f"{lengths.name}: padded to {lengths.max_tokens:,} → {lengths.pad_slots:,} of "
            f"{lengths.total_slots:,} slots are {lengths.pad_token} ({lengths.padding_share:.0%})",
            fontsize=9,
            loc="left",
        )
    fig.suptitle("Tokens vs padding if the batch is padded to its longest text", fontsize=11)
    axes[-1].set_xlabel("token position in the padded batch")
    handles = [Patch(facecolor=CELL_COLORS[c], edgecolor=FAINT, label=CELL_LABELS[c]) for c in CELL_LABELS if c in used]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=8, frameon=False)
    return fig
