"""Tab 5, attention maps: texts in; a heatmap per layer and head, every head at a glance, one token's row.

The model runs once per batch with `attention_mask` and once without (a small cache per store keeps
both), so moving through texts, layers, heads and token windows only redraws. Views draw at most
`MAX_VIEW_TOKENS` tokens per axis and label at most `MAX_TICK_LABELS` of them; notes are drawn by
`ui.views.attention`. Beside the heatmap, a view to point at tokens: its weights travel once per
render and the browser draws any layer and head from them (`attention_pointer.js`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
from transformers import PreTrainedTokenizerBase

from seqdemo.attention import (
    MAX_LENGTH,
    MAX_VIEW_TOKENS,
    AttentionMaps,
    AttentionView,
    choose_view,
    extract_attention,
    padding_mass,
)
from seqdemo.head_patterns import measure_head_patterns
from seqdemo.inputs import split_texts
from seqdemo.models import ENCODER_ROLES, ROLES, ModelStore
from seqdemo.padding import SIDES
from seqdemo.plots.attention import plot_attention_heatmap, plot_layers_heads, plot_token_row
from seqdemo.ui import widgets
from seqdemo.ui.components import bind, on_page_load, user_errors
from seqdemo.ui.figures import save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.views.attention import MAX_POINTER_TOKENS, notes_html, pointer_payload
from seqdemo.ui.views.head_patterns import head_patterns_html

if TYPE_CHECKING:
    from transformers import PreTrainedModel  # its module takes seconds to import: the app serves first

MAX_TEXTS = 4  # every layer and head of every text is kept, so the batch stays small
EXAMPLE_TEXTS = (
    "Padding fills the short texts of a batch up to the longest one; the mask says which tokens are real.",
    "What does the attention mask do? It tells every layer which key positions are padding, so real tokens give "
    "them zero weight and a padded text is encoded as it would be alone. Longformer lets each token see only a "
    "window of neighbours.",
)
HANDLER_OUTPUTS = 7  # three figures, downloads, notes, the view numbers' ranges, the figures' drawings
DEFAULT_VIEW = {"example": 1, "layer": 1, "head": 0, "start": 0, "size": 64, "query": 2}
RANGED_NUMBERS = ("example", "layer", "head", "start", "query")  # the view numbers whose info shows their range
# The worked example's settings, as the widgets start out; with DEFAULT_VIEW, the handler's inputs in order.
EXAMPLE = {
    "texts": "\n".join(EXAMPLE_TEXTS),
    "role": "bert",
    "padding_side": "right",
    "global_tokens": "<s>",
    "use_attention_mask": True,
}
EXAMPLE_INPUTS = (*EXAMPLE.values(), *DEFAULT_VIEW.values())

EXPLANATION = """\
**What to look at.** Each row of the heatmap is one query token and how it spreads its attention over
the keys (columns); each real row sums to 1. Text 1 is padded to the length of text 2: with
`attention_mask` its padded keys (hatched) get exactly zero weight. Untick the mask to watch real tokens
spend attention on pads. Switch to **Longformer**: each token sees only a band of neighbours
(`attention_window`) plus the global tokens, whose rows and columns span the whole sequence.
"""

POINTER_JS = (Path(__file__).parent / "attention_pointer.js").read_text(encoding="utf-8")
POINTER_NOTE = (
    "**Point at a token.** Hover, focus or tap a query token (left) to see its attention to every key (right), "
    "as numbers and as lines and shading scaled to the row's largest weight. Pick the layer and head, or every "
    f"head at once in its colour, right here, without recomputing. It carries {MAX_POINTER_TOKENS} tokens of one "
    "text from *First token* (every layer and head; weights rounded to 1/255). Padded keys are dashed boxes; for "
    "Longformer, keys outside a query's band are struck through and global tokens are outlined."
)

MapsFor = Callable[[str, tuple[str, ...], str, tuple[str, ...], bool], AttentionMaps]


def extraction_cache(load: Callable[[str], tuple[PreTrainedModel, PreTrainedTokenizerBase]]) -> MapsFor:
    """`extract_attention` for (role, texts, padding_side, global tokens, use_attention_mask), cached.

    Two entries: one batch with and without its mask, so moving through a view only redraws.
    """

    @functools.lru_cache(maxsize=2)
    def maps_for(role: str, texts: tuple[str, ...], side: str, chosen: tuple[str, ...], mask: bool) -> AttentionMaps:
        model, tokenizer = load(role)
        return extract_attention(
            model, tokenizer, texts, padding_side=side, global_tokens=chosen, use_attention_mask=mask
        )

    return maps_for


# Every head's pattern, measured once per batch (the maps compare by identity; maps_for keeps two).
head_patterns = functools.lru_cache(maxsize=2)(measure_head_patterns)


@functools.cache
def store_extraction(store: ModelStore) -> MapsFor:
    """The store's `extraction_cache`, with eager attention (which returns the weights), one per store."""
    return extraction_cache(lambda role: (store.model(role, attn_implementation="eager"), store.tokenizer(role)))


@user_errors("computing the attention maps")
def show_attention(
    raw_texts: str | None,
    role: str,
    padding_side: str,
    global_tokens: str | None,
    use_attention_mask: bool,
    example: float,
    layer: float,
    head: float,
    start: float,
    size: float,
    query: float,
    *,
    store: ModelStore,
    maps_for: MapsFor | None = None,
) -> Iterator[tuple]:
    """The tab's handler: (heatmap PNG, row PNG, overview PNG, PNG files, notes, view-number ranges, drawings).

    Two updates: the notes and the heatmap first, then the token row and every layer and head (the
    overview takes longest to draw; until then the previous row and overview stay). While a view
    number is empty (being typed), nothing is redrawn. `maps_for` (default: the store's
    `store_extraction`) is where the attention maps come from.
    """
    if None in (example, layer, head, start, query):
        yield tuple(gr.skip() for _ in range(HANDLER_OUTPUTS))
        return
    maps_for = maps_for or store_extraction(store)
    maps, view = _maps_and_view(
        maps_for,
        raw_texts,
        role,
        padding_side,
        global_tokens,
        use_attention_mask,
        example,
        layer,
        head,
        start,
        size,
        query,
    )
    texts, chosen = maps_key(raw_texts, role, global_tokens)
    masses = [padding_mass(maps_for(role, texts, padding_side, chosen, mask)) for mask in (True, False)]
    untrained = store.untrained(role)
    notes = notes_html(maps, view, *masses, untrained=untrained) + head_patterns_html(
        head_patterns(maps_for(role, texts, padding_side, chosen, True)), untrained=untrained
    )
    ranges = (
        f"1 to {maps.batch_size}",
        f"1 to {maps.num_layers}",
        f"1 to {maps.num_heads}, or 0: mean over heads",
        f"0 to {maps.seq_len - 1}",
        f"0 to {maps.seq_len - 1}",
    )
    heatmap = save_figure(plot_attention_heatmap, maps, view, stem="attention-heatmap")
    yield heatmap.png, gr.skip(), gr.skip(), heatmap.downloads, notes, ranges, [heatmap.drawing]
    row = save_figure(plot_token_row, maps, view, stem="attention-token-row")
    overview = save_figure(plot_layers_heads, maps, view, stem="attention-layers-heads")
    yield (
        heatmap.png,
        row.png,
        overview.png,
        heatmap.downloads + row.downloads + overview.downloads,
        notes,
        ranges,
        [heatmap.drawing, row.drawing, overview.drawing],
    )


def maps_key(raw_texts: str | None, role: str, global_tokens: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The texts and global tokens as `maps_for` takes them (global tokens for Longformer only)."""
    texts = tuple(split_texts(raw_texts, max_texts=MAX_TEXTS))
    return texts, tuple((global_tokens or "").split()) if role == "longformer" else ()


def _maps_and_view(
    maps_for: MapsFor,
    raw_texts: str | None,
    role: str,
    padding_side: str,
    global_tokens: str | None,
    use_attention_mask: bool,
    *numbers: float,
) -> tuple[AttentionMaps, AttentionView]:
    """The batch's attention maps and the view the numbers (text, layer, head, first token, size, query) choose."""
    texts, chosen = maps_key(raw_texts, role, global_tokens)
    maps = maps_for(role, texts, padding_side, chosen, bool(use_attention_mask))
    example, layer, head, start, size, query = (int(number) for number in numbers)
    view = choose_view(maps, example=example, layer=layer, head=head or None, start=start, size=size, query=query)
    return maps, view


@user_errors("preparing the pointing view")
def show_pointer(
    raw_texts: str | None,
    role: str,
    padding_side: str,
    global_tokens: str | None,
    use_attention_mask: bool,
    *numbers: float | None,
    store: ModelStore,
    maps_for: MapsFor | None = None,
) -> str | dict:
    """The pointing view's data (`pointer_payload`) for `show_attention`'s inputs; skipped while a number is empty."""
    if None in numbers:
        return gr.skip()
    maps, view = _maps_and_view(
        maps_for or store_extraction(store), raw_texts, role, padding_side, global_tokens, use_attention_mask, *numbers
    )
    return pointer_payload(maps, view)


def show_ranges(ranges: tuple[str, ...] | None) -> tuple:
    """The ranges of text, layer, head, first token and query token as the view numbers' info lines.

    A separate step after a successful render: were the numbers outputs of the render itself,
    a refused view would blank the very fields the user has to correct.
    """
    return tuple(gr.update(info=span) for span in ranges) if ranges else tuple(gr.skip() for _ in RANGED_NUMBERS)


def show_global_tokens(name: str) -> dict:
    """The global-tokens box is shown for Longformer only."""
    return gr.update(visible=name == "longformer")


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    with gr.Row():
        with gr.Column(scale=3):
            texts = widgets.Textbox(
                value=EXAMPLE["texts"],
                lines=4,
                max_lines=12,
                label="Texts, one per line",
                info=f"Up to {MAX_TEXTS} texts; at most {MAX_LENGTH} tokens each (longer ones are truncated).",
            )
        with gr.Column(scale=2, min_width=280):
            role = widgets.Radio(
                choices=[(ROLES[name].summary, name) for name in ENCODER_ROLES], value=EXAMPLE["role"], label="Model"
            )
            padding_side = widgets.Radio(choices=list(SIDES), value=EXAMPLE["padding_side"], label="padding_side")
            use_mask = gr.Checkbox(value=EXAMPLE["use_attention_mask"], label="Pass attention_mask to the model")
            global_tokens = widgets.Textbox(
                value=EXAMPLE["global_tokens"],
                label="Global tokens (global_attention_mask)",
                info="Space-separated, as the labels show them without ␣: e.g. <s> what does",
                visible=False,
            )
            run = gr.Button("Compute attention", variant="primary")
    with gr.Row():
        example = widgets.Number(DEFAULT_VIEW["example"], label="Text", precision=0, minimum=1, min_width=90)
        layer = widgets.Number(DEFAULT_VIEW["layer"], label="Layer", precision=0, minimum=1, min_width=90)
        head = widgets.Number(DEFAULT_VIEW["head"], label="Head", precision=0, minimum=0, min_width=90)
        start = widgets.Number(DEFAULT_VIEW["start"], label="First token", precision=0, minimum=0, min_width=90)
        size = widgets.Slider(
            8, MAX_VIEW_TOKENS, DEFAULT_VIEW["size"], step=8, label="Tokens per axis", min_width=240, scale=2
        )
        query = widgets.Number(
            DEFAULT_VIEW["query"], label="Query token (bar chart)", precision=0, minimum=0, min_width=90
        )
    fields = {
        "texts": texts,
        "model": role,
        "padding_side": padding_side,
        "global_tokens": global_tokens,
        "attention_mask": use_mask,
        "text": example,
        "layer": layer,
        "head": head,
        "first_token": start,
        "tokens": size,
        "query": query,
    }
    link = LessonLink("attention", fields)
    notes = gr.HTML()
    with gr.Row(equal_height=False):
        heatmap = gr.Image(
            label="Attention heatmap", show_label=False, type="filepath", interactive=False, format="png", scale=3
        )
        with gr.Column(scale=2, min_width=460):
            gr.Markdown(POINTER_NOTE, elem_classes="sd-pointer-legend")
            pointer = gr.HTML(
                html_template='<div class="sd-pointer"></div>',
                js_on_load=POINTER_JS,
                elem_id="sd-pointer",
                elem_classes="sd-pointer-view",
            )
    with gr.Row(equal_height=False):
        overview = gr.Image(
            label="Every layer × head", show_label=False, type="filepath", interactive=False, format="png", scale=2
        )
        token_row = gr.Image(
            label="Where does the query token look?",
            show_label=False,
            type="filepath",
            interactive=False,
            format="png",
            scale=3,
        )
    downloads = gr.File(label="Download the figures (PNG, SVG)", file_count="multiple", interactive=False)
    drawings = svg_on_request(downloads, api_name="attention_maps_svg")

    view_ranges = gr.State()
    role.change(show_global_tokens, role, global_tokens, api_name="attention_global_tokens_visible")
    handler = bind(show_attention, store)
    inputs = [texts, role, padding_side, global_tokens, use_mask, example, layer, head, start, size, query]
    outputs = [heatmap, token_row, overview, downloads, notes, view_ranges, drawings]
    view_numbers = [example, layer, head, start, query]
    triggers = [
        run.click,
        texts.submit,
        role.input,
        padding_side.input,
        use_mask.input,
        global_tokens.submit,
        *(number.input for number in view_numbers),
        size.release,
    ]
    gr.on(triggers, handler, inputs, outputs, api_name="attention_maps", trigger_mode="always_last").success(
        show_ranges, view_ranges, view_numbers, api_name="attention_view_ranges", show_progress="hidden"
    )
    # Whatever drew the heatmap (a change, the worked example, a link), the pointing view follows it.
    heatmap.change(bind(show_pointer, store), inputs, pointer, api_visibility="private", show_progress="hidden")
    on_page_load(handler, EXAMPLE_INPUTS, outputs, api_name="attention_maps_example", link=link).success(
        show_ranges, view_ranges, view_numbers, api_name="attention_example_ranges", show_progress="hidden"
    )
    link.opening.success(  # a link's own run sets the ranges too
        show_ranges, view_ranges, view_numbers, api_visibility="private", show_progress="hidden"
    )
