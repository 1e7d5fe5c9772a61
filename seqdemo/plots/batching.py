"""Figures for the batching lab: batch shapes, padding per strategy, lengths, throughput.

In the batch-shape picture every batch is a grey rectangle (rows × padded width) and each
row's real tokens are filled in blue, so the grey area is exactly the padding the strategy pays for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from seqdemo.batching import BatchPlan, MaxLengthAdvice, PlanRun
from seqdemo.plots.palette import ACCENT, ERROR, FAINT, KINDS, SOFT_INK
from seqdemo.plural import plural
from seqdemo.token_kinds import PAD, REAL

REAL_FILL, PAD_FILL = KINDS[REAL].fill, KINDS[PAD].fill
EDGE = FAINT
ADVICE = ERROR.fill


def _stairs(values: np.ndarray) -> np.ndarray:
    """Per-row values repeated once more, for `fill_betweenx(..., step="post")` over rows 0..n."""
    return np.append(values, values[-1])


def plot_batch_shapes(plans: Sequence[BatchPlan]) -> Figure:
    """One panel per plan: rows top to bottom in processing order, token positions left to right."""
    width = max(int(plan.widths.max()) for plan in plans)
    figure = Figure(figsize=(2.6 * len(plans), 4.6), layout="constrained")
    axes = figure.subplots(1, len(plans), sharey=True, squeeze=False)[0]
    for ax, plan in zip(axes, plans, strict=True):
        rows = np.arange(len(plan.lengths) + 1)
        order = plan.order
        padded = np.repeat(plan.widths, [len(batch) for batch in plan.batches])
        ax.fill_betweenx(rows, 0, _stairs(padded), step="post", color=PAD_FILL, linewidth=0)
        ax.fill_betweenx(rows, 0, _stairs(plan.lengths[order]), step="post", color=REAL_FILL, linewidth=0)
        starts = np.cumsum([0] + [len(batch) for batch in plan.batches])
        for top, bottom, batch_width in zip(starts[:-1], starts[1:], plan.widths, strict=True):
            ax.plot([0, batch_width, batch_width, 0], [top, top, bottom, bottom], color=EDGE, linewidth=0.5)
        ax.set_xlim(0, width * 1.02)
        ax.set_ylim(len(plan.lengths), 0)
        batches = plural(plan.batch_count, "batch", "batches")
        ax.set_title(f"{plan.strategy}\n{plan.padding_waste:.0%} padding · {batches}", fontsize=10)
        ax.set_xlabel("token position")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("texts, in the order batches run")
    figure.suptitle("Batch shapes: grey = padding, blue = real tokens", fontsize=11)
    return figure


def plot_padding(plans: Sequence[BatchPlan]) -> Figure:
    """Real and padding tokens per strategy as stacked horizontal bars, waste written at the end."""
    figure = Figure(figsize=(8, 0.55 * len(plans) + 1.2), layout="constrained")
    ax = figure.subplots()
    names = [plan.strategy for plan in plans]
    real = np.array([plan.real_tokens for plan in plans])
    pad = np.array([plan.pad_tokens for plan in plans])
    ax.barh(names, real, color=REAL_FILL, label="real tokens")
    ax.barh(names, pad, left=real, color=PAD_FILL, edgecolor=EDGE, linewidth=0.5, label="padding")
    for y, plan in enumerate(plans):
        ax.text(plan.padded_tokens, y, f"  {plan.padding_waste:.0%} padding", va="center", fontsize=9)
    ax.set_xlim(0, max(plan.padded_tokens for plan in plans) * 1.25)
    ax.invert_yaxis()
    ax.set_title("Real and padding tokens per strategy", fontsize=11)
    ax.set_xlabel("tokens in the padded tensors")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return figure


def plot_lengths(lengths: np.ndarray, advice: MaxLengthAdvice) -> Figure:
    """Histogram of token counts on a log axis (the tail is long), percentiles and advice marked."""
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    ax = figure.subplots()
    bins = np.geomspace(max(int(lengths.min()), 1), max(int(lengths.max()), 2) + 1, 40)
    ax.hist(lengths, bins=bins, color=ACCENT, alpha=0.8)
    ax.set_xscale("log")
    ticks = [2**k for k in range(int(np.log2(bins[0])), int(np.log2(bins[-1])) + 1)]
    ax.set_xticks(ticks, labels=[str(tick) for tick in ticks])
    ax.minorticks_off()
    for percentile in (50, 95):
        value = advice.percentiles[percentile]
        ax.axvline(value, color=SOFT_INK, linestyle=":", linewidth=1)
        ax.text(value, 0.98, f" p{percentile} = {value:g}", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.axvline(advice.max_length, color=ADVICE, linestyle="--", linewidth=1.5)
    ax.text(
        advice.max_length,
        0.80,
        f" max_length = {advice.max_length}\n {advice.truncated_share:.1%} truncated",
        transform=ax.get_xaxis_transform(),
        va="top",
        color=ADVICE,
        fontsize=9,
    )
    ax.set_title("Tokens per text, and the recommended max_length", fontsize=11)
    ax.set_xlabel("tokens per text (special tokens included, log scale)")
    ax.set_ylabel("texts")
    ax.spines[["top", "right"]].set_visible(False)
    return figure


def plot_throughput(runs: Sequence[PlanRun]) -> Figure:
    """Measured real tokens per second per strategy, with the speed-up over the first run written on."""
    figure = Figure(figsize=(6, 0.5 * len(runs) + 1.3), layout="constrained")
    ax = figure.subplots()
    speeds = np.array([run.tokens_per_second for run in runs])
    ax.barh([run.strategy for run in runs], speeds, color=ACCENT)
    for y, speed in enumerate(speeds):
        ax.text(speed, y, f" {speed:,.0f}/s · {speed / speeds[0]:.1f}× {runs[0].strategy}", va="center", fontsize=9)
    ax.set_xlim(0, speeds.max() * 1.45)
    ax.invert_yaxis()
    ax.set_title("Measured throughput per strategy", fontsize=11)
    ax.set_xlabel("real (non-padding) tokens per second")
    ax.spines[["top", "right"]].set_visible(False)
    return figure
