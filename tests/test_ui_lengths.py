"""Tab 1's handlers: the worked example fills every output; bad input becomes a gr.Error; the old API stays."""

import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from seqdemo.lengths import measure_lengths
from seqdemo.models import ENCODER_ROLES
from seqdemo.ui.figures import svg_files
from seqdemo.ui.lengths import EXAMPLE_INPUTS, EXAMPLE_TEXTS, measure_texts, show_lengths
from seqdemo.ui.views.lengths import (
    MAX_CHIPS_PER_TEXT,
    chips_html,
    counts_chart_html,
    padding_grid_html,
    summary_html,
    texts_html,
)

EXAMPLE = "\n".join(EXAMPLE_TEXTS)


def test_the_example_fills_every_output(store):
    *_, (summary, counts_png, padding_png, files, per_text, chips, drawings) = measure_texts(
        EXAMPLE, list(ENCODER_ROLES), True, store=store
    )
    for role in ENCODER_ROLES:
        mask = np.array(store.tokenizer(role)(list(EXAMPLE_TEXTS), padding="longest")["attention_mask"])
        assert f"{(mask == 0).sum():,} / {mask.size:,}" in summary
    assert "the token ids are identical" in summary
    assert files == [counts_png, padding_png] and all(Path(f).stat().st_size > 0 for f in files)
    svgs = [Path(f) for f in svg_files(drawings)]
    assert [f.name for f in svgs] == ["token-counts.png", "token-counts.svg", "padding-grid.png", "padding-grid.svg"]
    assert svgs[0] == Path(counts_png) and svgs[1].read_text().lstrip().startswith("<?xml")
    assert per_text.count("<tr>") == len(EXAMPLE_TEXTS) + 1  # + header
    for i, text in enumerate(EXAMPLE_TEXTS, start=1):
        count = len(store.tokenizer("bert")(text)["input_ids"])
        assert f"Text {i} · " in chips and f"bert · {count} tokens" in chips.split(f"Text {i} · ")[1]
    assert "the same tokens as roberta" in chips


def test_special_tokens_can_be_left_out_of_the_counts(store):
    text = EXAMPLE_TEXTS[0]
    summary = summary_html(measure_lengths([text], {"roberta": store.tokenizer("roberta")}, add_special_tokens=False))
    count = len(store.tokenizer("roberta")(text, add_special_tokens=False)["input_ids"])
    assert "special tokens not counted" in summary
    assert f"<td>{count:,}</td><td>{count:,}</td>" in summary  # min and max of one text


def test_long_texts_show_a_capped_number_of_chips_with_a_note(store):
    text = " ".join(f"word{i}" for i in range(400))
    tokenizer = store.tokenizer("bert")
    count = len(tokenizer(text)["input_ids"])
    assert count > MAX_CHIPS_PER_TEXT
    report = measure_lengths([text], {"bert": tokenizer})
    chips = chips_html(report)
    assert f"showing {MAX_CHIPS_PER_TEXT} of {count:,} tokens" in chips
    assert len(re.findall(r'class="sd-chip[^"]*" title="id ', chips)) == MAX_CHIPS_PER_TEXT
    if count > tokenizer.model_max_length:
        assert "longer than model_max_length" in summary_html(report)
        assert "⚠" in texts_html(report)


def test_emoji_and_other_scripts_show_their_pieces(store):
    text = "I ❤️ tokens 🤖 東京 Привет"
    tokenizers = {role: store.tokenizer(role) for role in ENCODER_ROLES}
    chips = chips_html(measure_lengths([text], tokenizers))
    assert 'class="sd-chip bytes"' in chips  # byte-level pieces of split characters
    if tokenizers["bert"].unk_token_id in tokenizers["bert"](text)["input_ids"]:
        assert 'class="sd-chip unk"' in chips


@pytest.mark.parametrize(
    ("raw", "roles", "message"),
    [
        ("", list(ENCODER_ROLES), "enter at least one text"),
        ("\n".join(["x"] * 1000), list(ENCODER_ROLES), "1,000 texts given"),
        ("x" * 100_000, list(ENCODER_ROLES), "100,000 characters"),
        (EXAMPLE, [], "Choose at least one tokenizer"),
    ],
)
def test_bad_input_becomes_a_gr_error_with_the_backend_message(store, raw, roles, message):
    with pytest.raises(gr.Error, match=message):
        list(measure_texts(raw, roles, True, store=store))


def test_the_example_runs_on_page_load_with_the_widgets_values_once(store, endpoint):
    on_load = endpoint("measure_lengths_charts_example")
    assert [trigger for _, trigger in on_load.targets] == ["load"]
    assert [component.value for component in endpoint("measure_lengths_charts").inputs] == [
        EXAMPLE_INPUTS[0],
        list(EXAMPLE_INPUTS[1]),
        EXAMPLE_INPUTS[2],
    ]
    first = on_load.fn()
    report = measure_lengths(EXAMPLE_TEXTS, {role: store.tokenizer(role) for role in ENCODER_ROLES})
    assert first[1:3] == (counts_chart_html(report), padding_grid_html(report))
    assert first[4:6] == (texts_html(report), chips_html(report))
    assert on_load.fn() is first  # every later visitor gets the computed example from memory


def test_the_tab_shows_html_charts_and_draws_the_figures_only_for_the_downloads(store):
    summary, counts, padding, files, per_text, chips, drawings = show_lengths(
        EXAMPLE, list(ENCODER_ROLES), True, store=store
    )
    *_, drawn = measure_texts(EXAMPLE, list(ENCODER_ROLES), True, store=store)
    assert (summary, per_text, chips) == (drawn[0], drawn[4], drawn[5])  # the same tables as the API's PNG form
    assert files == [] and "sd-bars" in counts and "sd-cells" in padding
    downloads = [Path(f) for f in svg_files(drawings)]
    assert [f.name for f in downloads] == [
        "token-counts.png",
        "token-counts.svg",
        "padding-grid.png",
        "padding-grid.svg",
    ]
    assert downloads[0].read_bytes() == Path(drawn[1]).read_bytes()  # the figure the API's form shows


def test_the_figures_as_png_form_stays_public_for_the_api_on_a_hidden_trigger(demo, endpoint):
    shown, kept = endpoint("measure_lengths_charts"), endpoint("measure_lengths")
    assert kept.inputs == shown.inputs and kept.api_visibility == "public"
    assert [type(block).__name__ for block in kept.outputs[1:3]] == ["Image", "Image"]
    assert all(not block.visible for block in kept.outputs[1:3])  # the PNGs are shown nowhere
    assert all(not demo.blocks[target].visible for target, _ in kept.targets)  # no widget runs it
    assert {trigger for _, trigger in shown.targets} == {"click", "input"}
    example = endpoint("measure_lengths_example")
    assert "load" not in [trigger for _, trigger in example.targets]
    *_, final = example.fn()  # it streams, as `measure_texts` does
    assert final[0] == endpoint("measure_lengths_charts_example").fn()[0]


def test_the_summary_says_which_kit_tokenizes(store):
    summary = next(measure_texts(EXAMPLE, list(ENCODER_ROLES), True, store=store))[0]
    real = store.kit_description().real
    assert ("the counts are those of the Hub checkpoints" in summary) == real
    assert ("Fallback offline kit" in summary) != real


def test_the_tables_come_before_the_figures(store):
    tables, drawn = measure_texts(EXAMPLE, list(ENCODER_ROLES), True, store=store)
    assert tables[1] is None and tables[2] is None and tables[3] == []  # no figure yet
    assert (tables[0], tables[4], tables[5]) == (drawn[0], drawn[4], drawn[5])  # the same tables
    assert drawn[3] == [drawn[1], drawn[2]] and all(Path(f).is_file() for f in drawn[3])
