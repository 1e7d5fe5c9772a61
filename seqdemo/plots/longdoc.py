"""Figures of the long-documents lesson: what each strategy read and answered, and the needle sweep.

`plot_showdown` takes `StrategyResult`s (one row each: coverage map left, class probabilities
right); `plot_needle_sweep` takes a `NeedleSweep`. Token positions are document tokens,
counted without `<s>` and `</s>`, the same numbers the backend's ranges use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from seqdemo.longdoc import LONG_DOCUMENT_STRATEGIES, SHORT_ROLE, NeedleSweep, StrategyResult
from seqdemo.plots.palette import FAINT, INK, MUTED_INK, RULE, STRATEGY_COLORS, label_color

# Markers tell apart curves that lie on top of each other (tail and head + tail often do).
STRATEGY_MARKERS = {"head": "o", "tail": "s", "head_tail": "D", "windows": "^", "longformer": "v"}
UNSEEN_COLOR = RULE
LIMIT_COLOR = INK


def _row_label(result: StrategyResult) -> str:
    return f"{result.title}\n{result.role} · {result.max_length:,} tokens"


def plot_showdown(results: Sequence[StrategyResult]) -> Figure:
    """One row per strategy: the document as a bar with the ranges it read shaded; its class probabilities.

    Sliding windows are drawn one by one, translucent, so their overlaps show darker.
    """
    rows = len(results)
    figure = Figure(figsize=(11, 0.72 * rows + 1.5), layout="constrained")
    coverage, bars = figure.subplots(1, 2, width_ratios=(3.2, 1), sharey=True)
    length = max(result.document_tokens for result in results)
    for row, result in enumerate(results):
        color = STRATEGY_COLORS[result.key]
        coverage.barh(row, result.document_tokens, height=0.6, color=UNSEEN_COLOR)
        alpha = 0.45 if len(result.seen) > 1 and result.key == "windows" else 0.85
        for start, end in result.seen:
            coverage.barh(row, end - start, left=start, height=0.6, color=color, alpha=alpha, edgecolor="white")
        read = f"{result.tokens_seen / max(result.document_tokens, 1):.0%} read"
        if len(result.sequence_logits) > 1:
            read += f"\n{len(result.sequence_logits)} windows"
        coverage.text(length * 1.01, row, read, va="center", ha="left", fontsize=9, color=LIMIT_COLOR)
        left = 0.0
        for index, probability in enumerate(result.probabilities):
            bars.barh(row, probability, left=left, height=0.6, color=label_color(index))
            if probability >= 0.18:
                bars.text(
                    left + probability / 2,
                    row,
                    f"{probability:.2f}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white",
                )
            left += probability
    coverage.set_yticks(range(rows), [_row_label(result) for result in results], fontsize=9)
    coverage.invert_yaxis()
    coverage.set_xlim(0, length * 1.1)
    coverage.set_xlabel("document token (without <s> and </s>)")
    coverage.set_title(f"What each strategy reads of the {length:,}-token document", fontsize=11, loc="left")
    coverage.spines[["top", "right"]].set_visible(False)
    bars.set_xlim(0, 1)
    bars.axvline(0.5, color=LIMIT_COLOR, linewidth=0.8, linestyle=":")
    bars.set_xlabel("probability")
    bars.set_title("What it answers", fontsize=11, loc="left")
    bars.spines[["top", "right"]].set_visible(False)
    names = results[0].label_names
    handles = [Patch(color=label_color(i), label=name) for i, name in enumerate(names)]
    figure.legend(handles=handles, loc="outside lower right", ncols=len(names), fontsize=9, frameon=False)
    return figure


def _mark_window(axes: Axes, start: int, end: int, color: str, text: str) -> None:
    axes.axvspan(start, end, color=color, alpha=0.08, linewidth=0)
    axes.annotate(text, (start, 0.02), xytext=(4, 0), textcoords="offset points", fontsize=8.5, color=color)


def plot_needle_sweep(sweep: NeedleSweep) -> Figure:
    """Each strategy's probability for the passage's label against where the passage starts.

    A strategy still sweeping has points only where it is done, and says so in the legend.

    Shaded: the tokens head and tail truncation read (the short window at either end), and
    beyond the long window, what Longformer never reads; the dotted line is chance.
    """
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    axes = figure.subplots()
    length = int(np.median(sweep.document_tokens))
    short = next((sweep.budgets[key] for key in sweep.keys if LONG_DOCUMENT_STRATEGIES[key].role == SHORT_ROLE), None)
    if short is not None and short < length:
        _mark_window(axes, 0, short, STRATEGY_COLORS["head"], f"head truncation reads\ntokens 0–{short - 1:,}")
        _mark_window(
            axes, length - short, length, STRATEGY_COLORS["tail"], f"tail truncation reads\nthe last {short:,}"
        )
    long = sweep.budgets.get("longformer")
    if long is not None and long < length:
        _mark_window(axes, long, length, STRATEGY_COLORS["longformer"], f"past Longformer's\n{long:,} tokens")
    axes.axhline(0.5, color=FAINT, linewidth=0.8, linestyle=":")
    axes.annotate(
        "chance", (length, 0.5), xytext=(2, -3), textcoords="offset points", fontsize=8, color=MUTED_INK, va="top"
    )
    for order, (key, probabilities) in enumerate(sweep.probabilities.items()):
        label = LONG_DOCUMENT_STRATEGIES[key].title
        if sweep.done[key] < len(sweep.positions):  # a curve still filling in
            label += f" ({sweep.done[key]} of {len(sweep.positions)} so far)"
        computed = ~np.isnan(probabilities)  # a curve filling in joins the points it has, as the page's chart does
        # Later curves are drawn thinner on top, so one that coincides with an earlier one stays visible.
        axes.plot(
            sweep.positions[computed],
            probabilities[computed],
            marker=STRATEGY_MARKERS[key],
            markersize=7 - order,
            markerfacecolor="none",
            linewidth=2.6 - 0.35 * order,
            color=STRATEGY_COLORS[key],
            label=label,
        )
    axes.set_xlim(0, max(length, int(sweep.positions.max())) * 1.02)
    axes.set_ylim(0, 1.03)
    axes.set_xlabel("document token where the passage starts")
    axes.set_ylabel(f"P({sweep.passage_label})")
    axes.set_title(
        f"The truncation cliff: P({sweep.passage_label}) as the {sweep.passage_tokens}-token passage moves "
        f"through a {length:,}-token document",
        fontsize=11,
        loc="left",
    )
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, frameon=False)
    return figure
