"""Tab 5's HTML: the notes beside the attention figures, and the data of the view that points at tokens.

Attention on padding is reported per real query, with and without the mask, so the note
shows the mask's effect as one pair of numbers. The pointing view's weights travel once, as
bytes, and are drawn in the browser (`attention_pointer.js`).
"""

from __future__ import annotations

import base64
import html
import json

import numpy as np

from seqdemo.attention import MAX_VIEW_TOKENS, AttentionMaps, AttentionView
from seqdemo.plots.attention import MAX_TICK_LABELS
from seqdemo.plots.palette import HEAD_COLORS

MAX_POINTER_TOKENS = 64  # tokens the pointing view carries: every layer and head of 64 × 64 weights, one byte each
WEIGHT_STEPS = 255  # a weight travels as round(weight × 255), one byte


def _pads_note(maps: AttentionMaps, view: AttentionView, with_mask: np.ndarray, without_mask: np.ndarray) -> str:
    b, layer = view.example, view.layer
    pads = int((maps.attention_mask[b] == 0).sum())
    if not pads:
        return (
            f"Text {b + 1} is the longest in the batch: it has no padding, so no attention can land on pads. "
            "Pick a shorter text to compare."
        )
    where = f"layer {layer + 1}, " + ("mean over heads" if view.head is None else f"head {view.head + 1}")

    def at_view(mass: np.ndarray) -> float:
        return float(mass[b, layer].mean() if view.head is None else mass[b, layer, view.head])

    return (
        f"Attention on text {b + 1}'s {pads} padded keys, per real query ({where}): "
        f"<b>{at_view(with_mask):.3f}</b> with <code>attention_mask</code>, "
        f"<b>{at_view(without_mask):.3f}</b> without it "
        f"(at most {without_mask[b].max():.3f} in any layer and head)."
    )


def _longformer_note(maps: AttentionMaps, view: AttentionView) -> str:
    if maps.global_attention_mask is None:
        return ""
    positions = np.flatnonzero(maps.global_attention_mask[view.example])
    chosen = ", ".join(f"<code>{html.escape(maps.tokens[view.example][p])}</code> at {p}" for p in positions)
    windows = ", ".join(str(w) for w in maps.attention_window)
    return (
        f"Longformer <code>attention_window</code> per layer: {windows}, so each token attends to "
        f"{maps.attention_window[view.layer] // 2} neighbours on either side; blank cells outside that band "
        "were never computed. "
        + (
            f"Global tokens in text {view.example + 1}: {chosen}; they attend to every token and every token to them."
            if positions.size
            else f"Text {view.example + 1} has no global tokens: only the band is left."
        )
    )


def notes_html(
    maps: AttentionMaps, view: AttentionView, with_mask: np.ndarray, without_mask: np.ndarray, *, untrained: bool
) -> str:
    """Truncation, attention on padding, Longformer's pattern, and what the view leaves out.

    `with_mask` and `without_mask` are `padding_mass` of the batch run with and without its attention_mask.
    """
    notes = []
    for b, cut in enumerate(maps.truncated):
        if cut:
            notes.append(
                f'<p class="sd-error">Text {b + 1} was {maps.max_length + cut:,} tokens; this tab reads at most '
                f"{maps.max_length:,} per text ({maps.model_type} takes {maps.model_max_length:,}), "
                f"so its last {cut:,} were cut.</p>"
            )
    if not maps.mask_applied:
        notes.append(
            '<p class="sd-error">Drawn <b>without</b> <code>attention_mask</code>: '
            "the pads are treated as real tokens.</p>"
        )
    notes.append(f'<p class="sd-note">{_pads_note(maps, view, with_mask, without_mask)}</p>')
    if maps.global_attention_mask is not None:
        notes.append(f'<p class="sd-note">{_longformer_note(maps, view)}</p>')
    notes.append(
        f'<p class="sd-note">Showing tokens {view.start}–{view.stop - 1} of {maps.seq_len} on both axes '
        f"(at most {MAX_VIEW_TOKENS} per axis, at most {MAX_TICK_LABELS} of them labelled). "
        "Move the window with <i>First token</i> and <i>Tokens per axis</i>.</p>"
    )
    if untrained:
        notes.append(
            '<p class="sd-note">Offline kit: this small model is untrained (seeded random weights), so its '
            "attention is nearly uniform and the colour scale is stretched to show it; what is real here is its "
            "structure: the zeros on padding, Longformer's band and its global rows and columns. "
            "<b>BERT</b> runs the pretrained MiniLM, whose heads have learned patterns.</p>"
        )
    return "".join(notes)


def pointer_payload(maps: AttentionMaps, view: AttentionView) -> str:
    """The pointing view's data as JSON: one text's tokens in the view's window and every layer's and head's weights.

    At most `MAX_POINTER_TOKENS` tokens from `view.start`, so the weights that travel are at most
    (layers, heads, 64, 64); each weight is rounded to a multiple of 1/255 and sent as one byte
    (base64, row-major `[layer][head][query][key]`), and the browser redraws any layer and head from them.
    """
    b, start = view.example, view.start
    stop = min(view.stop, start + MAX_POINTER_TOKENS)
    weights = maps.weights[b, :, :, start:stop, start:stop]  # (layers, heads, n, n)
    quantized = np.rint(np.clip(weights, 0.0, 1.0) * WEIGHT_STEPS).astype(np.uint8)
    global_mask = maps.global_attention_mask
    payload = {
        "text": b + 1,
        "start": start,
        "seq_len": maps.seq_len,
        "cap": MAX_POINTER_TOKENS,
        "tokens": list(maps.tokens[b][start:stop]),
        "real": maps.attention_mask[b, start:stop].astype(int).tolist(),
        "special": maps.special_tokens_mask[b, start:stop].astype(int).tolist(),
        "global": None if global_mask is None else global_mask[b, start:stop].astype(int).tolist(),
        "window": None if maps.attention_window is None else list(maps.attention_window),
        "layers": maps.num_layers,
        "heads": maps.num_heads,
        "layer": view.layer,
        "head": -1 if view.head is None else view.head,
        "steps": WEIGHT_STEPS,
        "weights": base64.b64encode(quantized.tobytes()).decode("ascii"),
        "head_colors": [HEAD_COLORS[h % len(HEAD_COLORS)] for h in range(maps.num_heads)],
        "mask_applied": maps.mask_applied,
    }
    return json.dumps(payload, separators=(",", ":"))
