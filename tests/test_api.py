"""The running app over HTTP: every public endpoint called with gradio_client, its answer checked.

Expected values come from the kit's tokenizers in this process, so a tab that shows the
wrong count or shape fails here even when it renders. New public endpoints must be added
to CHECKED (or to ALIASES when they run the same function as a checked one).
"""

import re
from pathlib import Path

import pytest

from seqdemo.models import ENCODER_ROLES

pytestmark = pytest.mark.e2e

gradio_client = pytest.importorskip("gradio_client")

# Endpoints that call the same function as a checked one, chained after an upload or a
# widget change, or that only show and hide widgets.
ALIASES = {
    # The SVG buttons: one function (figures.svg_files) drawing a session's last figures, checked for lengths.
    "/padding_compare_svg": "/measure_lengths_svg",
    "/key_mask_svg": "/measure_lengths_svg",
    "/mask_proof_svg": "/measure_lengths_svg",
    "/compare_strategies_svg": "/measure_lengths_svg",
    "/needle_sweep_svg": "/measure_lengths_svg",
    "/attention_maps_svg": "/measure_lengths_svg",
    "/batching_compare_svg": "/measure_lengths_svg",
    "/batching_throughput_svg": "/measure_lengths_svg",
    "/batching_compare_uploaded": "/batching_compare",
    "/batching_compare_column": "/batching_compare",
    "/batching_pick_column": "/batching_load_file",
    "/padding_show_configurations": "/padding_compare",
    "/padding_compare_example": "/padding_compare",
    "/batching_compare_example": "/batching_compare",
    "/mask_proof_example": "/mask_proof",
    "/attention_maps_example": "/attention_maps",
    "/needle_sweep_example": "/needle_sweep",
    "/attention_global_tokens_visible": "/attention_maps",
    "/attention_view_ranges": "/attention_maps",
    "/attention_example_ranges": "/attention_maps",
}
CHECKED: set[str] = set()
TEXTS = ["A short text.", "A somewhat longer text with more words in it, to pad the first one."]
LENGTHS_FIGURES = ["padding-grid.png", "padding-grid.svg", "token-counts.png", "token-counts.svg"]  # drawn on request


def checks(api_name: str):
    def register(fn):
        CHECKED.add(api_name)
        return fn

    return register


def plain(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def is_png(path) -> bool:
    return Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@checks("/measure_lengths")
def test_lengths_reports_the_tokenizers_counts(client, bert_tokenizer, roberta_tokenizer):
    stats, counts_png, padding_png, files, per_text, _ = client.predict(
        "\n".join(TEXTS), ["bert", "roberta"], True, api_name="/measure_lengths"
    )
    rows = plain(per_text)
    for number, text in enumerate(TEXTS, start=1):
        bert = len(bert_tokenizer(text)["input_ids"])
        roberta = len(roberta_tokenizer(text)["input_ids"])
        assert re.search(rf"\b{number} {re.escape(text)} \d+ {len(text)} {bert} {roberta}\b", rows), rows
    longest = max(len(bert_tokenizer(t)["input_ids"]) for t in TEXTS)
    assert f" {longest} " in plain(stats)
    assert is_png(counts_png) and is_png(padding_png)
    assert sorted(Path(f).suffix for f in files) == [".png", ".png"]  # the SVGs are drawn on request


@checks("/measure_lengths_charts")
def test_the_lengths_tab_answers_with_charts_and_draws_its_figures_on_request(app_url, bert_tokenizer):
    client = gradio_client.Client(app_url, verbose=False)  # its own session: the drawings live in it
    summary, counts, padding, files, per_text, _ = client.predict(
        "\n".join(TEXTS), ["bert"], True, api_name="/measure_lengths_charts"
    )
    lengths = [len(bert_tokenizer(text)["input_ids"]) for text in TEXTS]
    for number, count in enumerate(lengths, start=1):
        assert f"text {number}: {count:,} bert tokens" in counts
    pads = sum(max(lengths) - count for count in lengths)
    assert f"padded to {max(lengths):,} → {pads:,} of {len(TEXTS) * max(lengths):,} slots" in plain(padding)
    assert not files  # nothing is drawn until someone asks
    drawn = client.predict(api_name="/measure_lengths_svg")
    assert sorted(Path(f).name for f in drawn) == LENGTHS_FIGURES


@checks("/measure_lengths_svg")
def test_the_svgs_are_drawn_on_request_from_the_last_result(app_url):
    client = gradio_client.Client(app_url, verbose=False)  # its own session: the drawings live in it
    client.predict("\n".join(TEXTS), ["bert"], True, api_name="/measure_lengths")
    files = client.predict(api_name="/measure_lengths_svg")
    assert sorted(Path(f).name for f in files) == LENGTHS_FIGURES
    assert all(Path(f).read_bytes().lstrip().startswith(b"<?xml") for f in files if f.endswith(".svg"))


@checks("/worked_examples_status")
def test_the_worked_examples_status_lists_every_example(client):
    status = client.predict(api_name="/worked_examples_status")
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/" + example["api_name"] for example in status["examples"]} == {
        name for name in named if name.endswith("_example") and name != "/longdoc_example"
    }
    assert {example["state"] for example in status["examples"]} <= {"waiting", "running", "done", "failed"}


@checks("/measure_lengths_example")
@checks("/measure_lengths_charts_example")
@pytest.mark.parametrize("api_name", ["/measure_lengths_example", "/measure_lengths_charts_example"])
def test_lengths_example_covers_all_three_tokenizers(client, api_name):
    stats = plain(client.predict(api_name=api_name)[0])
    assert all(name in stats for name in ENCODER_ROLES)


@checks("/padding_compare")
def test_padding_example_shapes_and_ids_match_the_tokenizer(client, bert_tokenizer):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/padding_compare"]
    texts = api["parameters"][0]["parameter_default"].splitlines()
    panel_a, panel_b, *_, figure, files = client.predict(api_name="/padding_compare")
    longest = bert_tokenizer(texts, padding="longest")["input_ids"]
    assert f"({len(texts)}, {len(longest[0])})" in plain(panel_a)
    first_row = re.findall(r"\d+", plain(panel_a).split("input_ids", 2)[2].split("attention_mask")[0])
    assert [int(i) for i in first_row] == longest[0]
    assert f"({len(texts)}, 16)" in plain(panel_b)
    assert is_png(figure) and [Path(f).name for f in files] == [Path(figure).name]


@checks("/padding_compare_charts")
@checks("/padding_compare_charts_example")
def test_the_padding_tab_answers_with_its_panels_and_the_batch_shapes_chart(client, bert_tokenizer):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/padding_compare_charts"]
    texts = api["parameters"][0]["parameter_default"].splitlines()
    longest = bert_tokenizer(texts, padding="longest")["input_ids"]
    for api_name in ("/padding_compare_charts", "/padding_compare_charts_example"):
        panel_a, panel_b, *_, chart, files = client.predict(api_name=api_name)
        assert f"({len(texts)}, {len(longest[0])})" in plain(panel_a)
        assert f"(rows, seq) = ({len(texts)}, {len(longest[0])})" in plain(chart) and not files


@checks("/mask_proof")
def test_mask_proof_counts_tokens_and_pads_per_text(client, bert_tokenizer):
    outputs = client.predict("\n".join(TEXTS), "bert", 0, 3, api_name="/mask_proof")
    table = plain(outputs[6])
    lengths = [len(bert_tokenizer(t)["input_ids"]) for t in TEXTS]
    for number, length in enumerate(lengths, start=1):
        assert f"text {number} {length} {max(lengths) - length} " in table
    assert is_png(outputs[7])


@checks("/mask_proof_encoder")
@checks("/mask_generation")
def test_the_masks_tab_answers_the_proof_then_generation_as_the_one_call_does(client, bert_tokenizer):
    texts = "\n".join(TEXTS)
    proof = client.predict(texts, "bert", 0, api_name="/mask_proof_encoder")
    every = client.predict(texts, "bert", 0, 3, api_name="/mask_proof")
    assert plain(proof[6]) == plain(every[6])  # the proof table
    lengths = [len(bert_tokenizer(t)["input_ids"]) for t in TEXTS]
    assert all(f"text {n} {length} {max(lengths) - length} " in plain(proof[6]) for n, length in enumerate(lengths, 1))
    assert is_png(proof[3]) and is_png(proof[7])  # the key mask and the proof figure
    generation, prompts = client.predict(texts, 3, api_name="/mask_generation")
    assert (generation, prompts) == tuple(every[10:12])


@checks("/mask_proof_encoder_example")
@checks("/mask_generation_example")
def test_the_masks_worked_example_is_the_one_calls_example_in_two_parts(client):
    proof = client.predict(api_name="/mask_proof_encoder_example")
    generation, prompts = client.predict(api_name="/mask_generation_example")
    every = client.predict(api_name="/mask_proof_example")
    assert plain(proof[6]) == plain(every[6]) and (generation, prompts) == tuple(every[10:12])


@checks("/mask_proof_charts")
@checks("/key_mask_chart")
def test_the_masks_tab_answers_with_charts_and_draws_its_figures_on_request(app_url, bert_tokenizer):
    client = gradio_client.Client(app_url, verbose=False)  # its own session: the drawings live in it
    texts = "\n".join(TEXTS)
    charts = client.predict(texts, "bert", 0, api_name="/mask_proof_charts")
    every = client.predict(texts, "bert", 0, 3, api_name="/mask_proof")
    assert plain(charts[6]) == plain(every[6])  # the proof table
    length = max(len(bert_tokenizer(text)["input_ids"]) for text in TEXTS)
    assert charts[3].count('class="sd-cells-row') == length  # a row per query of text 1
    assert "Text 1: key mask in bert" in plain(charts[3])
    assert charts[7].count('class="sd-bar"') == 5 * len(TEXTS)  # (b), (c); then (b), (c) and the plain mean
    assert not charts[4] and not charts[8]  # nothing is drawn until someone asks
    assert sorted(Path(f).name for f in client.predict(api_name="/mask_proof_svg")) == [
        "mask-proof-bert.png", "mask-proof-bert.svg"
    ]  # fmt: skip
    key_chart, files = client.predict(texts, "bert", 1, api_name="/key_mask_chart")
    assert "Text 2: key mask in bert" in plain(key_chart) and not files
    assert sorted(Path(f).name for f in client.predict(api_name="/key_mask_svg")) == [
        "key-mask-text2.png", "key-mask-text2.svg"
    ]  # fmt: skip


@checks("/mask_proof_charts_example")
def test_the_masks_worked_example_with_charts_is_the_figures_ones(client):
    charts = client.predict(api_name="/mask_proof_charts_example")
    figures = client.predict(api_name="/mask_proof_encoder_example")
    assert [plain(charts[i]) for i in (1, 5, 6, 9)] == [plain(figures[i]) for i in (1, 5, 6, 9)]
    assert "sd-keymask" in charts[3] and "sd-mask-proof-chart" in charts[7] and is_png(figures[7])


@checks("/key_mask")
def test_key_mask_draws_a_figure(client):
    figure, files = client.predict("\n".join(TEXTS), "roberta", 0, api_name="/key_mask")
    assert is_png(figure) and len(files) == 1


@checks("/longdoc_worked_example")
def test_long_document_example_runs_every_strategy(client):
    outputs = client.predict(api_name="/longdoc_worked_example")
    table = plain(outputs[7])
    for strategy in ("head truncation", "tail truncation", "head + tail", "sliding windows", "Longformer"):
        assert strategy in table
    assert "5 of 5" in plain(outputs[5]) and is_png(outputs[6]) and len(outputs[8]) == 1


@checks("/compare_strategies_charts_example")
def test_the_long_document_example_with_a_chart_is_the_figures_one(client):
    charts = client.predict(api_name="/compare_strategies_charts_example")
    figures = client.predict(api_name="/longdoc_worked_example")
    assert [plain(charts[i]) for i in (0, 3, 5, 7, 9)] == [plain(figures[i]) for i in (0, 3, 5, 7, 9)]
    assert 'class="sd-chart sd-showdown"' in charts[6] and not charts[8]  # drawn when someone downloads it
    assert sorted(Path(f).name for f in client.predict(api_name="/compare_strategies_svg")) == [
        "long-documents.png", "long-documents.svg"
    ]  # fmt: skip


@checks("/compare_strategies_charts")
def test_the_tabs_comparison_shows_its_chart_and_draws_the_figure_on_request(client):
    outputs = client.predict(
        "A short review: wonderful.", ["head", "longformer"], 10, 10, "mean", api_name="/compare_strategies_charts"
    )
    status, chart, table, files, note = outputs
    assert "head truncation" in plain(table) and "Longformer" in plain(chart)
    assert "every strategy reads all of it" in plain(note) and "2 of 2" in plain(status) and not files
    assert chart.count('class="sd-showdown-label"') == 2 and "100% read" in plain(chart)


@checks("/longdoc_example")
def test_long_document_examples_load(client):
    document, note = client.predict("Verdict at the start", api_name="/longdoc_example")
    assert len(document.split()) > 100 and note


@checks("/longdoc_upload")
def test_long_document_upload_reads_the_file(client, tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("An uploaded review. " * 30, encoding="utf-8")
    document = client.predict(gradio_client.handle_file(str(path)), api_name="/longdoc_upload")
    assert document.strip() == path.read_text(encoding="utf-8").strip()


@checks("/compare_strategies")
def test_a_short_document_is_read_whole_by_every_strategy(client):
    outputs = client.predict(
        "A short review: wonderful.", ["head", "longformer"], 10, 10, "mean", api_name="/compare_strategies"
    )
    status, figure, table, files, note = outputs
    assert "head truncation" in plain(table) and "Longformer" in plain(table)
    assert "every strategy reads all of it" in plain(note)
    assert "2 of 2" in plain(status) and is_png(figure)


@checks("/needle_sweep")
def test_needle_sweep_draws_the_probability_curve(client):
    outputs = client.predict(
        "Honestly, the film is wonderful.",
        "shipped filler",
        None,
        3,
        ["head", "longformer"],
        10,
        10,
        "mean",
        api_name="/needle_sweep",
    )
    assert is_png(outputs[1])


@checks("/needle_sweep_charts")
def test_needle_sweep_charts_streams_the_curves_as_html(client):
    status, chart, files = client.predict(
        "Honestly, the film is wonderful.",
        "shipped filler",
        None,
        3,
        ["head", "longformer"],
        10,
        10,
        "mean",
        api_name="/needle_sweep_charts",
    )
    assert "Done: 2 of 2" in plain(status) and "<svg" in chart and chart.count("<title>") == 6 and not files


@checks("/needle_sweep_charts_example")
def test_the_worked_sweep_is_served_as_a_chart_and_its_figure_form_as_a_png(client):
    status, chart, _ = client.predict(api_name="/needle_sweep_charts_example")
    figure_status, figure, _ = client.predict(api_name="/needle_sweep_example")
    assert "Done: 5 of 5" in plain(status) and "<svg" in chart
    assert figure_status == status and is_png(figure)


@checks("/attention_maps")
def test_attention_with_mask_puts_no_weight_on_padding(client):
    outputs = client.predict(
        "\n".join(TEXTS), "bert", "right", "<s>", True, 1, 1, 0, 0, 64, 2, api_name="/attention_maps"
    )
    note = plain(outputs[4])
    assert "0.000 with attention_mask" in note
    assert is_png(outputs[0])


@checks("/batching_compare")
def test_batching_counts_real_tokens_as_the_tokenizer_does(client, roberta_tokenizer):
    advice, table, *_ = client.predict("\n".join(TEXTS), "roberta", 4, 256, 64, api_name="/batching_compare")
    real = sum(len(roberta_tokenizer(t)["input_ids"]) for t in TEXTS)
    rows = {row[0]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert set(rows) == {"fixed", "dynamic", "grouped", "sorted", "budget"}
    assert all(row["real tokens"] == real for row in rows.values())
    assert rows["fixed"]["padded tokens"] == len(TEXTS) * 64
    assert "max_length" in advice


@checks("/batching_load_file")
def test_batching_upload_offers_the_csv_columns(client, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,review\n1,great film\n2,"bad, boring film"\n', encoding="utf-8")
    texts, column, note = client.predict(gradio_client.handle_file(str(path)), api_name="/batching_load_file")
    assert texts.splitlines() == ["great film", "bad, boring film"]
    assert [choice[0] for choice in column["choices"]] == ["id", "review"]


@checks("/batching_model_max_length")
def test_batching_max_length_follows_the_tokenizer(client, bert_tokenizer):
    assert client.predict("bert", api_name="/batching_model_max_length") == bert_tokenizer.model_max_length


@checks("/batching_throughput")
def test_throughput_returns_outputs_equal_to_fixed_padding(client):
    note, table, plot, files = client.predict("\n".join(TEXTS), "roberta", 4, 256, 64, api_name="/batching_throughput")
    data = table["value"]
    deltas = [float(row[data["headers"].index("max |Δ| vs fixed")]) for row in data["data"]]
    assert len(deltas) == 5 and max(deltas) < 1e-4


@checks("/count_tokens")
def test_the_token_count_tool_answers_in_numbers(client, bert_tokenizer):
    answer = client.predict("\n".join(TEXTS), "bert", True, api_name="/count_tokens")
    assert [row["tokens"]["bert"] for row in answer["texts"]] == [len(bert_tokenizer(t)["input_ids"]) for t in TEXTS]


@checks("/pad_batch")
def test_the_padding_tool_reports_the_padded_shape(client, roberta_tokenizer):
    answer = client.predict(
        "\n".join(TEXTS), "roberta", "longest", None, "right", "do_not_truncate", api_name="/pad_batch"
    )
    longest = max(len(roberta_tokenizer(t)["input_ids"]) for t in TEXTS)
    assert answer["shape"] == [len(TEXTS), longest]


@checks("/plan_batching")
def test_the_batching_tool_recommends_a_max_length(client):
    answer = client.predict("\n".join(TEXTS), "roberta", 4, 256, 64, api_name="/plan_batching")
    assert answer["recommended_max_length"] % 8 == 0 and answer["strategies"]["fixed"]["padded_tokens"] == 128


def test_every_public_endpoint_is_checked(client):
    public = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert public - CHECKED - set(ALIASES) == set()
    assert set(ALIASES.values()) <= CHECKED
