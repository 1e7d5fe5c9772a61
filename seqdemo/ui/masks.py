"""Tab 3, attention masks: the batch mask, one example's key mask, and the proof that it works.

The tab opens on a worked example run when the page loads. Every number comes from running the
chosen model now: each text alone, the padded batch with and without the attention_mask, left
padding, and GPT-2's batched generation. The HTML, charts included, is drawn by `ui.views.masks`;
the figures are drawn only when someone downloads them.

Sections 1-3 (`show_proof`, public as `mask_proof_charts`) and section 4 (`run_generation`, public
as `mask_generation`) are two events, the second after the first: the proof is whole before GPT-2
starts, and a new max_new_tokens reruns only GPT-2. Another example's key mask is `show_key_mask_chart`
(`key_mask_chart`). The tab's earlier endpoints, which show the figures as PNGs, stay public for the
API's callers on hidden triggers: `mask_proof_encoder` (`run_proof`), `key_mask` (`show_key_mask`)
and `mask_proof` (`run_lesson`, every section in one call), with their worked examples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import gradio as gr

from seqdemo.inputs import describe_limits, split_texts
from seqdemo.masks import (
    MaskProof,
    attention_key_mask,
    compare_batched_generation,
    pad_tokenized_texts,
    prove_mask,
    tokenize_texts,
)
from seqdemo.models import ENCODER_ROLES, ROLES, ModelStore
from seqdemo.plots.masks import plot_key_mask, plot_mask_proof
from seqdemo.precision import noise_precision
from seqdemo.ui import widgets
from seqdemo.ui.components import api_only, api_only_example, bind, cached, on_page_load, user_errors
from seqdemo.ui.figures import DRAW_FIGURE, Drawing, SavedFigure, save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.views.masks import (
    generation_html,
    generation_prompts_html,
    key_mask_html,
    notes_html,
    positions_html,
    preview,
    proof_chart_html,
    proof_header_html,
    proof_table_html,
    token_grid,
)

DEFAULT_ROLE = "bert"  # its position ids ignore padding, so left padding visibly breaks it
DEFAULT_NEW_TOKENS = 5
GENERATION_ROLE = "decoder"
PRECISION = noise_precision()  # the proof measures float noise, which half precision would drown
MAX_TEXTS = 8
EXAMPLE_TEXTS = (
    "The cat sat on the mat.",
    "I loved this film.",
    "The service was slow, but the food was worth the wait.",
    "Terrible.",
    "A quiet restaurant with friendly staff, fresh bread and a view of the river at sunset.",
)
EXAMPLE_INPUTS = ("\n".join(EXAMPLE_TEXTS), DEFAULT_ROLE, 0, DEFAULT_NEW_TOKENS)  # as the widgets start

EXPLANATION = """\
**What to look at.** A padded batch is only correct if the model ignores the pads. Below, the
chosen model runs every text **(a)** alone, **(b)** in the padded batch *with* its `attention_mask`,
and **(c)** in the same batch *without* it. With the mask, (b) matches (a) to float noise; without it,
every text shorter than the longest changes. Then: why pooling needs the mask too, what padding
on the left does to position ids, and why generation pads on the left.
"""

KEY_MASK_NOTE = """\
The mask hides **keys**, not queries: each row is a query, and every row, pad rows included,
is blocked from the pad columns. The pad positions still get hidden states (for BERT and RoBERTa
they even attend to the real tokens), so whatever reads the outputs must skip them too.
Longformer also keeps each query to a local window plus global attention on `<s>`.
"""

POOLING_NOTE = """\
**Pooling.** A sentence embedding averaged over *real* tokens (the masked mean,
`(h * attention_mask).sum(1) / attention_mask.sum(1)`) matches the text alone. The plain mean over
every position drags in the pad positions' hidden states, which are not zero (last column), and is
wrong for every padded text.
"""

POSITIONS_NOTE = """\
**Position ids.** The mask says *which* tokens count; position ids say *where* each token is.
BERT numbers positions 0, 1, 2 … across the padded row whatever is there, so left padding shifts
a short text's real tokens to new positions and its outputs change. RoBERTa and Longformer build
position ids from the input ids: real tokens count from `pad_token_id + 1`, pads keep `pad_token_id`,
so either side gives the same result. Switch the model to compare.
"""

GENERATION_NOTE = """\
**Left padding for generation.** A decoder-only model (here GPT-2) writes the next token from the
last position of each row. With right padding that position is a pad for the shorter prompts, so
they continue from a pad; with left padding every row ends on its own last token, and `generate`
builds position ids from the `attention_mask` (`cumsum − 1`), so each prompt gets exactly the
tokens it gets alone. Greedy decoding, end-of-text suppressed so every run writes the same number
of tokens. This holds as much for a model with random weights (the offline kit's GPT-2) as for the
trained `gpt2`.
"""


def _role_choices() -> list[tuple[str, str]]:
    return [(ROLES[role].summary.split(" · ")[0], role) for role in ENCODER_ROLES]


def _example_choices(texts: Sequence[str]) -> list[tuple[str, int]]:
    return [(f"text {i + 1} · {preview(text)}", i) for i, text in enumerate(texts)]


def _key_mask(texts: Sequence[str], role: str, index: int, store: ModelStore) -> tuple:
    """What the key mask of text `index` shows: the arguments of `plot_key_mask` and `key_mask_html`."""
    tokenizer = store.tokenizer(role)
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, texts), "right")
    return batch, index, attention_key_mask(batch, index, store.model(role).config), role


def _key_mask_figure(texts: Sequence[str], role: str, index: int, store: ModelStore) -> SavedFigure:
    args = _key_mask(texts, role, index, store)
    return save_figure(plot_key_mask, *args, stem=f"key-mask-text{index + 1}")


def _key_mask_drawing(args: tuple) -> Drawing:
    return Drawing(plot_key_mask, args, f"key-mask-text{args[1] + 1}")


@user_errors("drawing the key mask")
def show_key_mask_chart(
    raw_texts: str | None, role: str, example: int | None, *, store: ModelStore
) -> tuple[str, list[str], list[Drawing]]:
    """The tab's handler for another example's key mask: (the chart, no files yet, its drawing for the download)."""
    args = _key_mask(split_texts(raw_texts, max_texts=MAX_TEXTS), role, int(example or 0), store)
    return key_mask_html(*args), [], [_key_mask_drawing(args)]


@user_errors("drawing the key mask")
def show_key_mask(
    raw_texts: str | None, role: str, example: int | None, *, store: ModelStore
) -> tuple[str, list[str], list[Drawing]]:
    """The API's `key_mask`, the key mask of one example as a figure: (PNG path, PNG file, its drawing for the SVG)."""
    figure = _key_mask_figure(split_texts(raw_texts, max_texts=MAX_TEXTS), role, int(example or 0), store)
    return figure.png, figure.downloads, [figure.drawing]


GENERATION_RUNNING = (
    '<p class="sd-note">Generating with GPT-2: each prompt alone, then the left- and right-padded batches…</p>'
)


def _proof_tables(
    texts: Sequence[str], role: str, index: int, store: ModelStore
) -> tuple[dict[str, object], MaskProof]:
    """Sections 1-3's tables (the encoder's runs): (panels by name, the proof)."""
    proof = prove_mask(store.model(role, dtype=PRECISION.dtype), store.tokenizer(role), texts)
    batch = proof.masked.batch
    phrase = store.offline_phrase(role)
    model_source = f"offline kit: {phrase}" if phrase else store.checkpoint(role)
    tables = {
        "notes": notes_html(proof.notes),
        "batch_mask": token_grid(batch, batch.attention_mask, "attention_mask"),
        "example": gr.Dropdown(choices=_example_choices(texts), value=index),
        "proof_header": proof_header_html(proof, role, model_source, store.device.description, PRECISION.description),
        "proof_table": proof_table_html(proof),
        "positions": positions_html(proof),
    }
    return tables, proof


def _proof_figures(
    texts: Sequence[str], role: str, index: int, proof: MaskProof, store: ModelStore
) -> dict[str, object]:
    """Sections 1-2's figures, the key mask and the proof's max |Δ|, with their files and drawings."""
    key_mask = _key_mask_figure(texts, role, index, store)
    proof_figure = save_figure(plot_mask_proof, proof, stem=f"mask-proof-{role}")
    return {
        "key_mask": key_mask.png,
        "key_files": key_mask.downloads,
        "proof_plot": proof_figure.png,
        "proof_files": proof_figure.downloads,
        "key_drawings": [key_mask.drawing],
        "proof_drawings": [proof_figure.drawing],
    }


def _proof_charts(
    texts: Sequence[str], role: str, index: int, proof: MaskProof, store: ModelStore
) -> dict[str, object]:
    """Sections 1-2's figures as HTML charts, built in milliseconds; no files until someone asks for them."""
    key_mask = _key_mask(texts, role, index, store)
    return {
        "key_mask": key_mask_html(*key_mask),
        "key_files": [],
        "proof_plot": proof_chart_html(proof),
        "proof_files": [],
        "key_drawings": [_key_mask_drawing(key_mask)],
        "proof_drawings": [Drawing(plot_mask_proof, (proof,), f"mask-proof-{role}")],
    }


def _no_figures() -> dict[str, object]:
    """The figures' panels before they are drawn: no image, no files, nothing to draw an SVG of."""
    return {
        "key_mask": None,
        "key_files": [],
        "proof_plot": None,
        "proof_files": [],
        "key_drawings": [],
        "proof_drawings": [],
    }


def _generation(texts: Sequence[str], max_new_tokens: int, store: ModelStore) -> dict[str, str]:
    """Section 4's panels: GPT-2 generating each prompt alone, then left- and right-padded."""
    generation = compare_batched_generation(
        store.model(GENERATION_ROLE), store.tokenizer(GENERATION_ROLE), texts, int(max_new_tokens)
    )
    return {
        "generation": notes_html(generation.notes)
        + generation_html(generation, texts, untrained=store.untrained(GENERATION_ROLE)),
        "prompts": generation_prompts_html(generation),
    }


@user_errors("running the mask proof")
def run_proof(raw_texts: str | None, role: str, example: int | None, *, store: ModelStore) -> Iterator[tuple]:
    """The API's `mask_proof_encoder`, sections 1-3 as figures (PROOF_OUTPUTS): the tables at once, then the figures."""
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    index = min(int(example or 0), len(texts) - 1)
    tables, proof = _proof_tables(texts, role, index, store)
    yield tuple({**tables, **_no_figures()}[name] for name in PROOF_OUTPUTS)
    figures = _proof_figures(texts, role, index, proof, store)
    yield tuple({**tables, **figures}[name] for name in PROOF_OUTPUTS)


@user_errors("running the mask proof")
def show_proof(raw_texts: str | None, role: str, example: int | None, *, store: ModelStore) -> tuple:
    """The tab's handler of sections 1-3 (PROOF_OUTPUTS): the proof's tables and its two charts, in one update.

    Section 4, GPT-2's generation, is `run_generation`, which the tab runs after this one succeeds
    and alone when only max_new_tokens changes. The figures are drawn when someone downloads them.
    """
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    index = min(int(example or 0), len(texts) - 1)
    tables, proof = _proof_tables(texts, role, index, store)
    panels = {**tables, **_proof_charts(texts, role, index, proof, store)}
    return tuple(panels[name] for name in PROOF_OUTPUTS)


@user_errors("running the mask proof")
def show_lesson(
    raw_texts: str | None, role: str, example: int | None, max_new_tokens: int, *, store: ModelStore
) -> Iterator[tuple]:
    """Every section at once, as a link opens the tab (OUTPUTS): sections 1-3 with their charts, then GPT-2's."""
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    index = min(int(example or 0), len(texts) - 1)
    tables, proof = _proof_tables(texts, role, index, store)
    charts = _proof_charts(texts, role, index, proof, store)
    yield _panels(**tables, **charts, generation=GENERATION_RUNNING, prompts="")
    yield _panels(**tables, **charts, **_generation(texts, max_new_tokens, store))


@user_errors("generating with GPT-2")
def run_generation(raw_texts: str | None, max_new_tokens: int, *, store: ModelStore) -> tuple[str, str]:
    """Section 4's handler: (the generation table, the padded prompts), from GPT-2 in float32."""
    panels = _generation(split_texts(raw_texts, max_texts=MAX_TEXTS), max_new_tokens, store)
    return panels["generation"], panels["prompts"]


@user_errors("running the mask proof")
def run_lesson(
    raw_texts: str | None, role: str, example: int | None, max_new_tokens: int, *, store: ModelStore
) -> Iterator[tuple]:
    """The API's `mask_proof`, every section at once: every panel for these texts and this model, as each is ready.

    Three updates: the proof's tables (the encoder's runs), then its two figures, then section 4's
    generation (GPT-2, the slowest part). The last holds every panel.
    """
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    index = min(int(example or 0), len(texts) - 1)
    tables, proof = _proof_tables(texts, role, index, store)
    waiting = {"generation": GENERATION_RUNNING, "prompts": ""}
    yield _panels(**tables, **_no_figures(), **waiting)
    figures = _proof_figures(texts, role, index, proof, store)
    yield _panels(**tables, **figures, **waiting)
    yield _panels(**tables, **figures, **_generation(texts, max_new_tokens, store))


# The handler's outputs in order, as `build` wires them.
OUTPUTS = (
    "notes batch_mask example key_mask key_files proof_header proof_table proof_plot proof_files positions "
    "generation prompts key_drawings proof_drawings"
).split()
PROOF_OUTPUTS = tuple(name for name in OUTPUTS if name not in ("generation", "prompts"))  # sections 1-3


def _panels(**panels: object) -> tuple:
    return tuple(panels[name] for name in OUTPUTS)


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    with gr.Row():
        with gr.Column(scale=3):
            texts = widgets.Textbox(
                value=EXAMPLE_INPUTS[0],
                lines=5,
                max_lines=12,
                label="Texts, one per line",
                info=describe_limits(max_texts=MAX_TEXTS),
            )
        with gr.Column(scale=1, min_width=260):
            role = widgets.Dropdown(choices=_role_choices(), value=EXAMPLE_INPUTS[1], label="Model (sections 1-3)")
            max_new_tokens = widgets.Slider(1, 10, value=EXAMPLE_INPUTS[3], step=1, label="max_new_tokens (section 4)")
            run = gr.Button("Run the proof", variant="primary")
    notes = gr.HTML()

    gr.Markdown("### 1 · The attention mask")
    batch_mask = gr.HTML()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            key_mask = gr.HTML(elem_id="sd-masks-key-mask")
        with gr.Column(scale=2):
            example = widgets.Dropdown(
                choices=_example_choices(EXAMPLE_TEXTS), value=EXAMPLE_INPUTS[2], label="Example for the key mask"
            )
            gr.Markdown(KEY_MASK_NOTE)
            with gr.Accordion("Download the key mask (PNG, SVG)", open=False):
                key_files = gr.File(label="Key mask", file_count="multiple", interactive=False)
                key_drawings = svg_on_request(key_files, api_name="key_mask_svg", label=DRAW_FIGURE)

    fields = {"texts": texts, "model": role, "key_mask_text": example, "max_new_tokens": max_new_tokens}
    link = LessonLink("masks", fields)  # here: the key mask's text is chosen above

    gr.Markdown("### 2 · The proof: (a) alone, (b) padded with the mask, (c) padded without it")
    proof_header = gr.HTML()
    proof_table = gr.HTML()
    proof_plot = gr.HTML(elem_id="sd-masks-proof-chart")
    with gr.Accordion("Download the proof figure (PNG, SVG)", open=False):
        proof_files = gr.File(label="Proof figure", file_count="multiple", interactive=False)
        proof_drawings = svg_on_request(proof_files, api_name="mask_proof_svg", label=DRAW_FIGURE)
    gr.Markdown(POOLING_NOTE)

    gr.Markdown("### 3 · Right vs left padding: position ids")
    gr.Markdown(POSITIONS_NOTE)
    positions = gr.HTML()

    gr.Markdown("### 4 · Left padding for generation (GPT-2)")
    gr.Markdown(GENERATION_NOTE)
    generation = gr.HTML()
    with gr.Accordion("The padded prompts and the position ids generate built", open=False):
        prompts = gr.HTML()

    panels = {
        "notes": notes,
        "batch_mask": batch_mask,
        "example": example,
        "key_mask": key_mask,
        "key_files": key_files,
        "proof_header": proof_header,
        "proof_table": proof_table,
        "proof_plot": proof_plot,
        "proof_files": proof_files,
        "positions": positions,
        "generation": generation,
        "prompts": prompts,
        "key_drawings": key_drawings,
        "proof_drawings": proof_drawings,
    }
    outputs = [panels[name] for name in OUTPUTS]
    proof_outputs = [panels[name] for name in PROOF_OUTPUTS]
    generation_outputs = [generation, prompts]
    # Both run base-sized models many times: a repeat is replayed. Sections 1-3 and section 4 are two events,
    # so that a new max_new_tokens reruns GPT-2 alone, and the proof is complete before GPT-2 starts.
    proof = cached(show_proof, store)
    generate = cached(run_generation, store)
    proof_event = gr.on(
        [run.click, role.input], proof, [texts, role, example], proof_outputs, api_name="mask_proof_charts"
    )
    proof_event.success(generate, [texts, max_new_tokens], generation_outputs, api_visibility="private")
    max_new_tokens.release(generate, [texts, max_new_tokens], generation_outputs, api_name="mask_generation")
    key_outputs = [key_mask, key_files, key_drawings]
    example.input(bind(show_key_mask_chart, store), [texts, role, example], key_outputs, api_name="key_mask_chart")
    link.runs(cached(show_lesson, store), outputs)  # a link restores every section's inputs and runs them all
    shown = on_page_load(proof, EXAMPLE_INPUTS[:3], proof_outputs, api_name="mask_proof_charts_example", link=link)
    generation_inputs = (EXAMPLE_INPUTS[0], EXAMPLE_INPUTS[3])
    on_page_load(
        generate, generation_inputs, generation_outputs, api_name="mask_generation_example", after=shown, unless=link
    )

    # The endpoints of the figures-as-PNG form of this tab, for the API's callers; their PNGs are shown nowhere.
    figures = {
        "key_mask": gr.Image(label="Key mask", type="filepath", visible=False),
        "proof_plot": gr.Image(label="max |Δ| per text", type="filepath", visible=False),
    }
    api_panels = {**panels, **figures}
    api_outputs = [api_panels[name] for name in OUTPUTS]
    api_proof_outputs = [api_panels[name] for name in PROOF_OUTPUTS]
    encoder_inputs = [texts, role, example]
    api_only(cached(run_proof, store), encoder_inputs, api_proof_outputs, api_name="mask_proof_encoder")
    api_only_example(
        cached(run_proof, store), EXAMPLE_INPUTS[:3], api_proof_outputs, api_name="mask_proof_encoder_example"
    )
    key_figure_outputs = [figures["key_mask"], key_files, key_drawings]
    api_only(bind(show_key_mask, store), encoder_inputs, key_figure_outputs, api_name="key_mask")
    # The one-event form, every section at once.
    inputs = [texts, role, example, max_new_tokens]
    api_only(cached(run_lesson, store), inputs, api_outputs, api_name="mask_proof")
    api_only_example(cached(run_lesson, store), EXAMPLE_INPUTS, api_outputs, api_name="mask_proof_example")
