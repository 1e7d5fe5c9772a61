"""Tab 4's HTML: the windows in force, each strategy's answer and cost, notes on the document, progress lines.

The windows are read from the loaded classifiers, never assumed, so the same views explain the
Hub pair (512 / 4096 tokens) and the smaller offline pair.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    SHORT_ROLE,
    Classifier,
    NeedleSweep,
    StrategyResult,
)
from seqdemo.longdoc_examples import EXAMPLE_NOTES
from seqdemo.models import ROLES
from seqdemo.plots.palette import FAINT, MUTED_INK, RULE, STRATEGY_COLORS, label_color
from seqdemo.plural import plural
from seqdemo.ui.views.charts import round_step


def limits_markdown(pair: dict[str, Classifier], offline: bool) -> str:
    """The windows in force, in one sentence, read from the loaded models."""
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    text = (
        f"**Windows in force:** `{short.role}` reads {short.max_length:,} tokens per sequence "
        f"({short.budget:,} of the document, plus `<s>` and `</s>`); `{long.role}` reads {long.max_length:,} "
        f"({long.budget:,})"
    )
    if long.attention_window:
        text += (
            f" with a local attention window of {long.attention_window:,}, its input padded to a multiple "
            f"of {long.pad_multiple:,}"
        )
    text += f". Labels: {', '.join(short.label_names)}. {precision_phrase(pair)}"
    if offline:
        text += (
            " These are the offline pair, trained on this machine on a synthetic task (plot summary with one "
            f"decisive passage). On the Hub: {ROLES[SHORT_ROLE].summary}; {ROLES[LONG_ROLE].summary}."
        )
    return text


def precision_phrase(pair: dict[str, Classifier]) -> str:
    """Which precision the lesson's answers ran in, and how Longformer's attention ran, in one sentence."""
    precision = pair[SHORT_ROLE].precision.description
    attention = " with its local + global attention computed block by block" if pair[LONG_ROLE].attention_window else ""
    return f"**Precision:** both classifiers run in {precision}, Longformer{attention}."


def example_note_html(name: str) -> str:
    """What the example called `name` shows."""
    return f'<p class="sd-note">{html.escape(EXAMPLE_NOTES[name])}</p>'


def _memory(result: StrategyResult) -> str:
    return "–" if result.peak_memory_bytes is None else f"{result.peak_memory_bytes / 2**20:,.1f} MiB"


def _sequences(result: StrategyResult) -> str:
    """How many sequences the strategy reads, and how many of them an earlier strategy had already run."""
    total = len(result.sequence_logits)
    shared = total - result.computed_sequences
    if not shared:
        return f"{total}"
    whom = html.escape(", ".join(result.shared_with))
    return f'{total} <span class="sd-note">({shared} run for {whom})</span>'


def _latency(result: StrategyResult) -> str:
    return f"{result.latency_s * 1000:,.0f} ms" if result.computed_sequences else "0 ms (nothing new to run)"


def results_table(results: Sequence[StrategyResult]) -> str:
    """One row per strategy: answer, tokens read and processed, sequences, latency, peak memory."""
    rows = []
    for result in results:
        index = result.label_names.index(result.label)
        dot = f'<span class="sd-longdoc-dot" style="background:{label_color(index)}"></span>'
        rows.append(
            f'<tr><td class="rowhead">{html.escape(result.title)}</td><td>{html.escape(result.role)} '
            f"({result.max_length:,})</td><td>{dot}{html.escape(result.label)}</td>"
            f"<td>{result.probabilities.max():.3f}</td>"
            f"<td>{result.tokens_seen:,} / {result.document_tokens:,}</td><td>{_sequences(result)}</td>"
            f"<td>{result.tokens_processed:,}</td><td>{_latency(result)}</td>"
            f"<td>{_memory(result)}</td></tr>"
        )
    method = next((result.memory_method for result in results if result.memory_method), "")
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-longdoc-table"><thead><tr><th>strategy</th>'
        "<th>model (max tokens)</th><th>label</th><th>probability</th><th>document tokens read</th>"
        "<th>sequences</th><th>tokens processed</th><th>latency</th><th>peak memory</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="sd-note">Each distinct sequence runs once per request: one an earlier strategy ran already '
        "(head truncation's is the first sliding window) is looked up, and its cost stays with that strategy. "
        "Tokens processed counts every slot the model computed for the strategy: <code>&lt;s&gt;</code>, "
        "<code>&lt;/s&gt;</code> and padding included (Longformer pads to a multiple of its attention's block, "
        "half its window). "
        "Latency: that one run, building the batches and the forward passes (the models were warmed up when they "
        "loaded). Peak memory: the most tensor memory alive at once beyond the model's weights during the same "
        f"run, measured with {html.escape(method)}.</p>"
    )


def document_notes(document: str, results: Sequence[StrategyResult], short_budget: int) -> str:
    """What the user should know about this document's length: it fits everywhere, or Longformer cuts it.

    `document` is the text the results were computed on; `short_budget` the short classifier's window.
    """
    notes = []
    short = next((result for result in results if result.role == SHORT_ROLE), None)
    if short is not None and short.sees_everything:
        notes.append(
            f"The whole document ({plural(short.document_tokens, 'token')}) fits in the short window "
            f"({short_budget:,}): every strategy reads all of it, so the short classifier's strategies "
            "agree exactly."
        )
    long = next((result for result in results if result.key == "longformer"), None)
    if long is not None and not long.sees_everything:
        cut = long.seen[0][1]
        start = long.seen_characters[0][1]  # where the first token Longformer never reads begins
        snippet = " ".join(document[start : start + 60].split())
        notes.append(
            f"The document has {long.document_tokens:,} tokens; Longformer reads the first {cut:,} and truncates "
            f"the rest, from token {cut:,} (character {start:,}: “{snippet}…”) on."
        )
    return "".join(f'<p class="sd-note">{html.escape(note)}</p>' for note in notes)


def status_html(done: Sequence[str], keys: Sequence[str], verb: str, detail: str = "") -> str:
    """Progress: the strategy running now (with `detail`, e.g. its positions done) and how many are done, or "Done"."""
    waiting = [LONG_DOCUMENT_STRATEGIES[key].title for key in keys if key not in done]
    if not waiting:
        return f'<p class="sd-note">Done: {len(done)} of {len(keys)}.</p>'
    running = html.escape(waiting[0]) + (f" ({html.escape(detail)})" if detail else "")
    return f'<p class="sd-note">⏳ {verb} {running}… ({len(done)} of {len(keys)} done)</p>'


def sweep_status_html(sweep: NeedleSweep | None, keys: Sequence[str]) -> str:
    """The sweep's progress (the strategy sweeping now and its positions done) and what the passage alone reads as."""
    if sweep is None:
        return status_html([], keys, "sweeping with")
    label = html.escape(sweep.passage_label)
    points = len(sweep.positions)
    finished = [key for key in keys if sweep.done.get(key) == points]
    running = next((key for key in keys if key not in finished), None)
    detail = f"{sweep.done[running]} of {points} positions" if running and sweep.done.get(running) else ""
    return status_html(finished, keys, "sweeping with", detail) + (
        f'<p class="sd-note">On its own the passage reads as <b>{label}</b> (p = {sweep.passage_probability:.2f} '
        f"from the short classifier); the curves show P({label}) for each of the {len(sweep.positions)} documents "
        "with the passage inserted.</p>"
    )


# The needle sweep's chart, an inline SVG in the figure's colours (`plots.longdoc.plot_needle_sweep` is the download).
SWEEP_SVG = (960, 300, 46, 50, 10, 40)  # width, height, left, right, top and bottom margins, in the SVG's units
SWEEP_MARKERS = {  # each strategy's marker, as in the figure: a path around (0, 0)
    "head": "M -4 0 a 4 4 0 1 0 8 0 a 4 4 0 1 0 -8 0",
    "tail": "M -3.5 -3.5 h 7 v 7 h -7 z",
    "head_tail": "M 0 -4.5 L 4.5 0 L 0 4.5 L -4.5 0 z",
    "windows": "M 0 -4.5 L 4.5 3.5 L -4.5 3.5 z",
    "longformer": "M 0 4.5 L 4.5 -3.5 L -4.5 -3.5 z",
}


def _band(x0: float, x1: float, top: float, bottom: float, color: str, label: str) -> str:
    return (
        f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0):.1f}" height="{bottom - top:.1f}" '
        f'fill="{color}" fill-opacity="0.07"/>'
        f'<text x="{(x0 + x1) / 2:.1f}" y="{bottom - 6:.1f}" text-anchor="middle" fill="{color}" '
        f'font-size="10.5">{html.escape(label)}</text>'
    )


def needle_sweep_chart_html(sweep: NeedleSweep) -> str:
    """The sweep as an inline SVG line chart with the figure's content: P(passage label) per strategy against where the
    passage starts, the windows head and tail truncation read shaded, chance dotted, and a legend saying which curves
    are still filling in. Each point's tooltip gives its numbers; points not computed yet are left out."""
    width, height, left, right, top, bottom = SWEEP_SVG
    length = int(np.median(sweep.document_tokens))
    span = max(length, int(sweep.positions.max()), 1) * 1.02
    pad = span * 0.02  # room left of token 0, so its points clear the axis
    x_of = lambda token: left + (width - left - right) * (token + pad) / (span + pad)  # noqa: E731
    y_of = lambda p: top + (height - top - bottom) * (1.03 - p) / 1.03  # noqa: E731
    floor = height - bottom
    parts = []
    short = next((sweep.budgets[key] for key in sweep.keys if LONG_DOCUMENT_STRATEGIES[key].role == SHORT_ROLE), None)
    if short is not None and short < length:
        parts.append(_band(x_of(0), x_of(short), top, floor, STRATEGY_COLORS["head"], f"head reads 0–{short - 1:,}"))
        tail = f"tail reads the last {short:,}"
        parts.append(_band(x_of(length - short), x_of(length), top, floor, STRATEGY_COLORS["tail"], tail))
    long = sweep.budgets.get("longformer")
    if long is not None and long < length:
        parts.append(_band(x_of(long), x_of(length), top, floor, STRATEGY_COLORS["longformer"], "past Longformer"))
    for p in (0, 0.25, 0.5, 0.75, 1):  # the y axis
        dash = ' stroke-dasharray="2 3"' if p == 0.5 else ""
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y_of(p):.1f}" y2="{y_of(p):.1f}" '
            f'stroke="{FAINT if p == 0.5 else RULE}"{dash}/>'
            f'<text x="{left - 6}" y="{y_of(p) + 3.5:.1f}" text-anchor="end" font-size="10.5" fill="{MUTED_INK}">'
            f"{p:g}</text>"
        )
    parts.append(
        f'<text x="{width - right + 4}" y="{y_of(0.5) + 3.5:.1f}" font-size="10.5" fill="{MUTED_INK}">chance</text>'
    )
    step = round_step(span / 6)
    for token in range(0, int(span) + 1, step):  # the x axis
        parts.append(
            f'<line x1="{x_of(token):.1f}" x2="{x_of(token):.1f}" y1="{floor}" y2="{floor + 4}" stroke="{MUTED_INK}"/>'
            f'<text x="{x_of(token):.1f}" y="{floor + 15}" text-anchor="middle" font-size="10.5" '
            f'fill="{MUTED_INK}">{token:,}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{floor}" y2="{floor}" stroke="{MUTED_INK}"/>'
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="11" '
        f'fill="{MUTED_INK}">document token where the passage starts</text>'
        f'<text transform="translate(12 {(top + floor) / 2:.1f}) rotate(-90)" text-anchor="middle" font-size="11" '
        f'fill="{MUTED_INK}">P({html.escape(sweep.passage_label)})</text>'
    )
    label = html.escape(sweep.passage_label)
    legend = []
    for order, (key, probabilities) in enumerate(sweep.probabilities.items()):
        color, title = STRATEGY_COLORS[key], LONG_DOCUMENT_STRATEGIES[key].title
        points = [
            (x_of(token), y_of(p), int(token), float(p))
            for token, p in zip(sweep.positions, probabilities, strict=True)
            if not np.isnan(p)
        ]
        path = " ".join(f"{'M' if index == 0 else 'L'} {x:.1f} {y:.1f}" for index, (x, y, _, _) in enumerate(points))
        line = 2.6 - 0.35 * order  # later curves thinner on top, so one that coincides with another stays visible
        parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{line:.2f}"/>' if path else "")
        parts.extend(
            f'<path d="{SWEEP_MARKERS[key]}" transform="translate({x:.1f} {y:.1f})" fill="white" stroke="{color}" '
            f'stroke-width="1.4"><title>{html.escape(title)}: passage at token {token:,}, P({label}) = {p:.3f}'
            "</title></path>"
            for x, y, token, p in points
        )
        points_done, count = sweep.done[key], len(sweep.positions)
        so_far = "" if points_done == count else f" ({points_done} of {count} so far)"
        legend.append(
            f'<span class="sd-swatch"><svg width="22" height="12" viewBox="-11 -6 22 12"><line x1="-11" x2="11" '
            f'stroke="{color}" stroke-width="2"/><path d="{SWEEP_MARKERS[key]}" fill="white" stroke="{color}" '
            f'stroke-width="1.4"/></svg>{html.escape(title)}{html.escape(so_far)}</span>'
        )
    title = (
        f"The truncation cliff: P({label}) as the {sweep.passage_tokens}-token passage moves through a "
        f"{length:,}-token document"
    )
    return (
        f'<div class="sd-chart sd-sweep-chart"><p class="sd-chart-title">{title}</p>'
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{html.escape(title)}" '
        f'font-family="inherit">{"".join(parts)}</svg><div class="sd-swatches">{"".join(legend)}</div></div>'
    )


def showdown_chart_html(results: Sequence[StrategyResult]) -> str:
    """The comparison as HTML with the figure's content (`plots.longdoc.plot_showdown` is the download): per strategy,
    the document as a bar with the ranges it read shaded (sliding windows translucent, so overlaps show darker), how
    much that is, and its class probabilities as one stacked bar, chance (0.5) marked by ticks."""
    length = max(max(result.document_tokens for result in results), 1)
    names = results[0].label_names
    rows = []
    for result in results:
        tokens = max(result.document_tokens, 1)
        color = STRATEGY_COLORS[result.key]
        opacity = 0.45 if len(result.seen) > 1 and result.key == "windows" else 0.85
        spans = "".join(
            f'<i style="left:{100 * start / tokens:.2f}%;width:{100 * (end - start) / tokens:.2f}%;'
            f'background-color:{color};opacity:{opacity}" title="tokens {start:,}–{end - 1:,}"></i>'
            for start, end in result.seen
        )
        read = f"{result.tokens_seen / tokens:.0%} read"
        if len(result.sequence_logits) > 1:
            read += f"<small>{len(result.sequence_logits)} windows</small>"
        answer = "".join(
            f'<i style="width:{100 * p:.2f}%;background-color:{label_color(index)}" '
            f'title="{html.escape(name)}: {p:.3f}">{f"{p:.2f}" if p >= 0.18 else ""}</i>'
            for index, (name, p) in enumerate(zip(names, result.probabilities.tolist(), strict=True))
        )
        rows.append(
            f'<div class="sd-showdown-label"><b>{html.escape(result.title)}</b>'
            f"<small>{html.escape(result.role)} · {result.max_length:,} tokens</small></div>"
            f'<div class="sd-showdown-track"><div style="width:{100 * tokens / length:.2f}%">{spans}</div></div>'
            f'<div class="sd-showdown-read">{read}</div><div class="sd-showdown-answer">{answer}</div>'
        )
    swatches = "".join(
        f'<span class="sd-swatch"><i style="background-color:{label_color(index)}"></i>{html.escape(name)}</span>'
        for index, name in enumerate(names)
    )
    title = f"What each strategy reads of the {length:,}-token document"
    return (
        f'<div class="sd-chart sd-showdown" role="figure" aria-label="{html.escape(title)}, and what it answers">'
        f'<div class="sd-showdown-grid"><p class="sd-chart-title">{title}</p>'
        f'<p class="sd-chart-title">What it answers</p>{"".join(rows)}'
        '<p></p><p class="sd-showdown-axis">document token (without &lt;s&gt; and &lt;/s&gt;)</p><p></p>'
        '<p class="sd-showdown-axis">probability (ticks at 0.5, a guess)</p></div>'
        f'<div class="sd-swatches">{swatches}</div></div>'
    )
