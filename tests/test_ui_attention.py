"""Tab 5's handler: the worked example fills every output; views redraw from the cache; bad input becomes a gr.Error."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from seqdemo.attention import extract_attention, padding_mass
from seqdemo.ui.attention import (
    DEFAULT_VIEW,
    EXAMPLE,
    EXAMPLE_INPUTS,
    EXAMPLE_TEXTS,
    HANDLER_OUTPUTS,
    MAX_TEXTS,
    RANGED_NUMBERS,
    extraction_cache,
    show_attention,
    show_ranges,
)
from seqdemo.ui.figures import svg_files


def store_cache(store):
    return extraction_cache(lambda role: (store.model(role, attn_implementation="eager"), store.tokenizer(role)))


def run(store, *inputs, maps_for=None):
    """The handler's last update: every output."""
    return list(show_attention(*inputs, store=store, maps_for=maps_for or store_cache(store)))[-1]


def with_changes(**changes):
    """EXAMPLE_INPUTS with some settings or view numbers replaced, by name; a small view, to draw fast."""
    named = {**EXAMPLE, **DEFAULT_VIEW, "size": 16, **changes}
    return tuple(named[name] for name in (*EXAMPLE, *DEFAULT_VIEW))


def test_the_example_fills_every_output_and_reports_attention_on_padding(store):
    outputs = run(store, *EXAMPLE_INPUTS)
    assert len(outputs) == HANDLER_OUTPUTS
    heatmap, row, overview, files, notes, ranges, drawings = outputs
    assert [heatmap, row, overview] == files and all(Path(f).stat().st_size > 0 for f in files)
    assert [Path(f).suffix for f in svg_files(drawings)] == [".png", ".svg"] * 3
    unmasked = extract_attention(
        store.model("bert", attn_implementation="eager"),
        store.tokenizer("bert"),
        EXAMPLE_TEXTS,
        use_attention_mask=False,
    )
    without = padding_mass(unmasked)[0, 0].mean()  # text 1, layer 1, mean over heads, as DEFAULT_VIEW says
    assert without > 0.01
    assert f"<b>0.000</b> with <code>attention_mask</code>, <b>{without:.3f}</b> without it" in notes
    layers, heads, last = unmasked.num_layers, unmasked.num_heads, unmasked.seq_len - 1
    expected = (f"1 to {len(EXAMPLE_TEXTS)}", f"1 to {layers}", f"1 to {heads}, or 0: mean over heads")
    assert ranges == (*expected, f"0 to {last}", f"0 to {last}")
    assert [update["info"] for update in show_ranges(ranges)] == list(ranges)
    assert len(show_ranges(None)) == len(RANGED_NUMBERS)


def test_moving_through_a_view_only_redraws(store):
    maps_for = store_cache(store)
    run(store, *EXAMPLE_INPUTS, maps_for=maps_for)
    run(store, *with_changes(layer=2, head=3, example=2, query=5), maps_for=maps_for)
    assert maps_for.cache_info().misses == 2  # the batch with and without its attention_mask, once each


def test_longformer_notes_name_the_window_and_the_global_tokens(store):
    notes = run(store, *with_changes(role="longformer", global_tokens="<s> what", example=2))[4]
    window = store.model("longformer").config.attention_window[0]
    assert f"attends to {window // 2} neighbours on either side" in notes
    assert "<code>&lt;s&gt;</code> at 0, <code>What</code> at 1" in notes


def test_a_text_over_the_limit_is_truncated_with_a_note(store):
    long_text = "padding " * 600
    full = len(store.tokenizer("bert")(long_text)["input_ids"])
    notes = run(store, *with_changes(texts=f"short\n{long_text}"))[4]
    assert f"Text 2 was {full:,} tokens; this tab reads at most 512 per text" in notes
    assert f"its last {full - 512:,} were cut" in notes


def test_an_empty_view_number_leaves_the_outputs_as_they_are(store):
    outputs = run(store, *with_changes(layer=None))
    assert len(outputs) == HANDLER_OUTPUTS
    assert all(output == gr.skip() for output in outputs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"texts": "  \n "}, "enter at least one text"),
        ({"texts": "\n".join(["a text"] * (MAX_TEXTS + 1))}, f"at most {MAX_TEXTS}"),
        ({"example": 3}, "Text 3 is out of range for this batch: choose 1 to 2"),
        ({"start": 999}, "First token 999 is out of range"),
        ({"role": "longformer", "global_tokens": "<s> zebra"}, "'zebra' matches no token"),
    ],
)
def test_bad_input_becomes_a_gr_error_with_the_backend_message(store, changes, message):
    with pytest.raises(gr.Error, match=message):
        run(store, *with_changes(**changes))


@pytest.mark.parametrize("field", ["layer", "head"])
def test_a_layer_or_head_past_the_models_last_becomes_a_gr_error(store, field):
    config = store.model("bert").config  # whichever kit runs: its BERT's own counts
    last = config.num_hidden_layers if field == "layer" else config.num_attention_heads
    message = f"{field.title()} {last + 1} is out of range for this bert model: choose 1 to {last}"
    with pytest.raises(gr.Error, match=message):
        run(store, *with_changes(**{field: last + 1}))


def test_the_example_runs_on_page_load_from_memory_after_the_first(endpoint):
    on_load = endpoint("attention_maps_example")
    assert [trigger for _, trigger in on_load.targets] == ["load"]
    assert [component.value for component in endpoint("attention_maps").inputs] == list(EXAMPLE_INPUTS)
    *_, first = on_load.fn()
    assert all(Path(png).exists() for png in first[:3])
    assert list(on_load.fn())[-1] is first  # every later visitor gets the computed example from memory


@pytest.mark.parametrize("role", ["bert", "roberta"])
def test_notes_say_untrained_only_for_a_seeded_model_and_name_what_its_heads_do(store, role):
    notes = run(store, *with_changes(role=role))[4]
    assert ("this small model is untrained" in notes) == store.untrained(role)
    assert "<b>What the heads do</b>" in notes and "pads left out" in notes


def test_the_kits_minilm_shows_learned_heads(real_kit, store):
    notes = run(store, *with_changes(role="bert"))[4]
    assert "untrained" not in notes and "previous token" in notes


def test_the_notes_and_the_heatmap_come_before_the_row_and_the_overview(store):
    first, last = show_attention(*with_changes(), store=store, maps_for=store_cache(store))
    assert first[0] == last[0] and first[4] == last[4] and first[5] == last[5]  # heatmap, notes, ranges
    assert first[1] == first[2] == gr.skip()  # the previous row and overview stay meanwhile
    assert first[3] == [first[0]] and last[3] == list(last[:3])
