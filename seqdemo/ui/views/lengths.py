"""Tab 1's HTML: the per-tokenizer summary, the two charts, the per-text table, and every text's tokens as chips.

The charts (`counts_chart_html`, `padding_grid_html`) show what `plots.lengths` draws as figures,
in the same colours, built in a millisecond; the figures are drawn when someone downloads them.
Chips are capped per text (`MAX_CHIPS_PER_TEXT`) so a long text cannot flood the page; the counts never are.
"""

from __future__ import annotations

import html

from seqdemo.lengths import SPACE_MARK, LengthReport, TokenizerLengths
from seqdemo.models import ROLES
from seqdemo.offline import KitDescription
from seqdemo.plots.palette import FAINT, SERIES_COLORS
from seqdemo.token_kinds import BYTES, PAD, REAL, SPECIAL, UNK
from seqdemo.ui.views.charts import Marker, axis, cell_grid, legend
from seqdemo.ui.views.elements import chip

MAX_CHIPS_PER_TEXT = 256
PREVIEW_CHARS = 90
LABEL_CHARS = 28  # a text's label in the counts chart: its number and first characters
CELL_LABELS = {  # the padding grid's kinds, in the legend's order
    REAL: "token",
    SPECIAL: "special token",
    UNK: "unknown ([UNK] / <unk>)",
    BYTES: "byte piece of a split character",
    PAD: "padding",
}


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _describe(name: str) -> str:
    return ROLES[name].summary if name in ROLES else name


def _longformer_note(report: LengthReport) -> str:
    limits = {lengths.name: lengths.model_max_length for lengths in report.tokenizers}
    note = (
        "Longformer uses RoBERTa's byte-level BPE vocabulary, so it splits text into the same tokens; "
        "what differs is how many it accepts"
    )
    if "roberta" in limits and "longformer" in limits:
        same = report.same_tokens("roberta", "longformer")
        note += f": {limits['longformer']:,} instead of {limits['roberta']:,}. "
        note += (
            "For these texts the token ids are identical."
            if same
            else "For these texts the token ids differ: these checkpoints do not share a vocabulary."
        )
    else:
        note += ". Select both to compare them."
    return f'<p class="sd-note">{note}</p>'


def summary_html(report: LengthReport, kit: KitDescription | None = None) -> str:
    """Per tokenizer: min / max / mean tokens, padding to the longest, and texts over the limit."""
    special = "" if report.add_special_tokens else " (special tokens not counted)"
    rows = []
    for lengths in report.tokenizers:
        over = ", ".join(str(i + 1) for i in lengths.over_limit) or "none"
        rows.append(
            f'<tr><td class="rowhead" title="{html.escape(_describe(lengths.name))}">{html.escape(lengths.name)}</td>'
            f"<td>{lengths.vocab_size:,}</td><td>{lengths.min_tokens:,}</td><td>{lengths.max_tokens:,}</td>"
            f"<td>{lengths.mean_tokens:,.1f}</td><td>{lengths.max_tokens:,}</td>"
            f"<td>{lengths.pad_slots:,} / {lengths.total_slots:,}</td>"
            f"<td><b>{lengths.padding_share:.0%}</b></td><td>{lengths.model_max_length:,}</td>"
            f'<td class="{"over" if lengths.over_limit else ""}">{over}</td></tr>'
        )
    table = (
        '<div class="sd-scroll"><table class="sd-grid sd-len-stats"><thead><tr>'
        "<th>tokenizer</th><th>vocabulary</th><th>min tokens</th><th>max tokens</th><th>mean tokens</th>"
        "<th>padded to</th><th>pad slots / all slots</th><th>padding share</th><th>model_max_length</th>"
        f"<th>texts over it</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    notes = [
        f'<p class="sd-note">{_plural(len(report.texts), "text")}, token counts{special}. '
        "Padding share = pad slots / all slots if this batch were padded to its longest text.</p>",
        _longformer_note(report),
    ]
    for lengths in report.tokenizers:
        if lengths.over_limit:
            which = ", ".join(str(i + 1) for i in lengths.over_limit)
            notes.append(
                f'<p class="sd-error">{html.escape(lengths.name)}: text {which} is longer than model_max_length '
                f"({lengths.model_max_length:,} tokens with special tokens): the model would have to truncate it.</p>"
            )
    if kit is not None and kit.real:
        notes.append(
            "<p class=\"sd-note\">Offline kit: bert-base-uncased's WordPiece vocabulary and GPT-2's byte-level BPE, "
            "which splits text into roberta-base's tokens, so the counts are those of the Hub checkpoints "
            "(RoBERTa's and Longformer's token ids differ from the Hub's; GPT-2's are the same).</p>"
        )
    elif kit is not None:
        notes.append(
            '<p class="sd-note">Fallback offline kit: these tokenizers were trained on this machine on a small '
            "corpus, with much smaller vocabularies than the Hub checkpoints, so words split into more pieces "
            "than they would there.</p>"
        )
    return table + "".join(notes)


def texts_html(report: LengthReport) -> str:
    """One row per text: a preview, its words, characters and tokens per tokenizer."""
    head = "".join(f"<th>{html.escape(name)} tokens</th>" for name in report.names)
    rows = []
    for i, text in enumerate(report.texts):
        preview = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
        cells = []
        for lengths in report.tokenizers:
            count = lengths.texts[i].count
            over = i in lengths.over_limit
            mark = f" ⚠ &gt; {lengths.model_max_length:,}" if over else ""
            cells.append(f'<td class="{"over" if over else ""}">{count:,}{mark}</td>')
        rows.append(
            f'<tr><td class="rowhead">{i + 1}</td><td class="sd-len-text" title="{html.escape(text[:500])}">'
            f"{html.escape(preview)}</td><td>{report.words[i]:,}</td><td>{report.chars[i]:,}</td>{''.join(cells)}</tr>"
        )
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-len-texts"><thead><tr><th>#</th><th>text</th>'
        f"<th>words</th><th>characters</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="sd-note">Words are separated by whitespace; characters are Unicode code points.</p>'
    )


def _token_row(lengths: TokenizerLengths, index: int, source: str) -> str:
    text = lengths.texts[index]
    shown = min(text.count, MAX_CHIPS_PER_TEXT)
    pieces = []
    for k in range(shown):
        kind, (start, end) = text.kinds[k], text.offset_mapping[k]
        title = f"id {text.ids[k]} · token {text.tokens[k]}"
        if kind in (UNK, BYTES) and end > start:
            title += f" · from “{source[start:end]}”"
        pieces.append(chip(text.readable[k], kind, title))
    pad = int(lengths.pad_counts[index])
    if pad:
        pieces.append(chip(f"{lengths.pad_token} ×{pad}", PAD, f"padding to the longest text ({lengths.max_tokens})"))
    if shown < text.count:
        pieces.append(f'<span class="sd-note">showing {shown} of {text.count:,} tokens</span>')
    return f'<div class="sd-chips">{"".join(pieces)}</div>'


def legend_html(report: LengthReport) -> str:
    """What the chip colours and markers mean; markers only for the tokenizer families shown."""
    byte_level = any(lengths.byte_level for lengths in report.tokenizers)
    wordpiece = not all(lengths.byte_level for lengths in report.tokenizers)
    markers = [
        f"{SPACE_MARK} = a space before the token (byte-level BPE writes it <code>Ġ</code>)" if byte_level else "",
        "<code>##</code> = continues the previous word (WordPiece)" if wordpiece else "",
        "⟨E6⟩ = one byte of a character whose bytes are spread over several tokens" if byte_level else "",
        "hover a chip for its id and where it came from",
    ]
    return (
        '<div class="sd-legend sd-note">'
        + chip("token")
        + chip("special", SPECIAL, "special token added by the tokenizer")
        + chip("unknown", UNK, "unknown: the vocabulary has no piece for this character")
        + (chip("⟨F0⟩⟨9F⟩", BYTES, "bytes of one character split across tokens") if byte_level else "")
        + chip("padding ×3", PAD, "padding to the longest text")
        + "<br>"
        + " · ".join(marker for marker in markers if marker)
        + ".</div>"
    )


def chips_html(report: LengthReport) -> str:
    """Every text's tokens as chips, one row per tokenizer; a row equal to an earlier one is named, not repeated."""
    blocks = [legend_html(report)]
    for i, source in enumerate(report.texts):
        rows, seen = [], {}
        for lengths in report.tokenizers:
            text = lengths.texts[i]
            label = f'<div class="sd-len-name">{html.escape(lengths.name)} · {_plural(text.count, "token")}</div>'
            if text.ids in seen:
                body = f'<div class="sd-note">the same tokens as {html.escape(seen[text.ids])}</div>'
            else:
                seen[text.ids] = lengths.name
                body = _token_row(lengths, i, source)
            rows.append(f'<div class="sd-len-row">{label}{body}</div>')
        head = (
            f'<div class="sd-len-head">Text {i + 1} · {_plural(report.words[i], "word")} · '
            f"{_plural(report.chars[i], 'character')}</div>"
        )
        blocks.append(f'<div class="sd-len-block">{head}{"".join(rows)}</div>')
    return "".join(blocks)


def _label(number: int, text: str) -> str:
    kept = " ".join(text.split())
    return f"{number} · {kept if len(kept) <= LABEL_CHARS else kept[: LABEL_CHARS - 1] + '…'}"


def counts_chart_html(report: LengthReport) -> str:
    """Per text, a bar for its words and one per tokenizer for its tokens; bars over `model_max_length` hatched red.

    The HTML form of `plots.lengths.plot_token_counts`: one scale for every bar, numbers at their ends.
    """
    series = [("words", report.words, FAINT, None)]
    for index, lengths in enumerate(report.tokenizers):
        series.append((lengths.name, lengths.counts, SERIES_COLORS[index % len(SERIES_COLORS)], lengths))
    longest = max((int(value) for _, values, _, _ in series for value in values), default=0) or 1
    swatches = "".join(
        f'<span class="sd-swatch"><i style="background-color:{color}"></i>{html.escape(name)}</span>'
        for name, _, color, _ in series
    )
    body = []
    for i, text in enumerate(report.texts):
        bars = []
        for name, values, color, lengths in series:
            value = int(values[i])
            over = lengths is not None and i in lengths.over_limit
            number = f"{value:,} &gt; {lengths.model_max_length:,}" if over else f"{value:,}"
            what = "words" if lengths is None else f"{name} tokens"
            bars.append(
                f'<div class="sd-bar{" over" if over else ""}" title="text {i + 1}: {value:,} {html.escape(what)}">'
                f'<i style="width:{100 * value / longest:.3f}%;background-color:{color}"></i>'
                f"<span>{number}</span></div>"
            )
        body.append(
            f'<div class="sd-bars-label" title="{html.escape(text[:500])}">{html.escape(_label(i + 1, text))}</div>'
            f'<div class="sd-bars-group">{"".join(bars)}</div>'
        )
    counted = "" if report.add_special_tokens else " (special tokens not counted)"
    title = f"Words vs tokens: {_plural(len(report.texts), 'text')} × {_plural(len(report.names), 'tokenizer')}"
    return (
        f'<div class="sd-chart sd-len-counts"><div class="sd-chart-title">{title}</div>'
        f'<div class="sd-swatches">{swatches}</div><div class="sd-bars">{"".join(body)}</div>'
        f'<p class="sd-bars-note">bar length: count{counted}, on one scale for every bar</p></div>'
    )


def padding_grid_html(report: LengthReport) -> str:
    """Per tokenizer, the batch padded to its longest text: a row per text, a cell per slot, coloured by kind.

    The HTML form of `plots.lengths.plot_padding_grid`: every tokenizer on one axis, the grey cells
    are the padding, and a dashed red line marks `model_max_length` where the batch reaches it.
    """
    width = max(max(lengths.max_tokens for lengths in report.tokenizers), 1)
    panels, used = [], set()
    for lengths in report.tokenizers:
        rows = [
            list(text.kinds) + [PAD] * int(pad) for text, pad in zip(lengths.texts, lengths.pad_counts, strict=True)
        ]
        used.update(kind for row in rows for kind in row)
        limit = lengths.model_max_length
        marker = Marker(limit, f"model_max_length {limit:,}") if limit <= width else None
        titles = [
            f"text {i + 1}: {text.count:,} tokens + {int(pad):,} padding"
            for i, (text, pad) in enumerate(zip(lengths.texts, lengths.pad_counts, strict=True))
        ]
        panels.append(
            f'<div class="sd-chart-panel-title"><b>{html.escape(lengths.name)}</b>: padded to {lengths.max_tokens:,} → '
            f"{lengths.pad_slots:,} of {lengths.total_slots:,} slots are {html.escape(lengths.pad_token)} "
            f"({lengths.padding_share:.0%})</div>" + cell_grid(rows, width, titles=titles, marker=marker)
        )
    kinds = [(kind, label) for kind, label in CELL_LABELS.items() if kind in used]
    return (
        '<div class="sd-chart sd-len-padding">'
        '<div class="sd-chart-title">Tokens vs padding if the batch is padded to its longest text</div>'
        f"{legend(kinds)}{''.join(panels)}{axis(width, 'token position in the padded batch')}</div>"
    )
