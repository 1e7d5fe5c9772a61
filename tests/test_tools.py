"""Tools for agents: each answers what the tokenizer says, and the MCP server offers exactly these three."""

import json
import urllib.request

import numpy as np
import pytest

from seqdemo.ui.tools import AGENT_TOOLS, count_tokens, pad_batch, plan_batching

TEXTS = ["A short text.", "A somewhat longer text with more words in it, to pad the first one.", "Mid-sized one."]


def test_token_counts_are_the_tokenizers(store, bert_tokenizer, roberta_tokenizer):
    answer = count_tokens("\n".join(TEXTS), "bert,roberta", True, store=store)
    for row, text in zip(answer["texts"], TEXTS, strict=True):
        assert row["text"] == text and row["characters"] == len(text)
        assert row["tokens"] == {
            "bert": len(bert_tokenizer(text)["input_ids"]),
            "roberta": len(roberta_tokenizer(text)["input_ids"]),
        }
    counts = [len(bert_tokenizer(text)["input_ids"]) for text in TEXTS]
    assert answer["tokenizers"]["bert"]["longest"] == max(counts)
    share = 1 - sum(counts) / (len(counts) * max(counts))
    assert answer["tokenizers"]["bert"]["padding_share"] == pytest.approx(share, abs=1e-4)


def test_a_padded_batch_is_what_the_tokenizer_pads(store, bert_tokenizer):
    answer = pad_batch("\n".join(TEXTS), "bert", "max_length", 12, "left", "longest_first", store=store)
    expected = bert_tokenizer(TEXTS, padding="max_length", max_length=12, truncation=True, padding_side="left")
    assert answer["shape"] == [len(TEXTS), 12]
    assert [row["input_ids"] for row in answer["rows"]] == expected["input_ids"]
    assert [row["attention_mask"] for row in answer["rows"]] == expected["attention_mask"]
    assert answer["pad_tokens"] == sum(mask.count(0) for mask in expected["attention_mask"])
    full = [len(bert_tokenizer(text)["input_ids"]) for text in TEXTS]
    assert [row["truncated"] for row in answer["rows"]] == [max(0, n - 12) for n in full]


def test_batching_advice_follows_the_token_lengths(store, roberta_tokenizer):
    answer = plan_batching("\n".join(TEXTS), "roberta", 2, 64, 32, store=store)
    lengths = np.array([len(roberta_tokenizer(text)["input_ids"]) for text in TEXTS])
    assert answer["recommended_max_length"] == min(
        int(np.ceil(np.quantile(lengths, 0.99) / 8) * 8), roberta_tokenizer.model_max_length
    )
    fixed = answer["strategies"]["fixed"]
    assert fixed["real_tokens"] == int(np.minimum(lengths, 32).sum())
    assert fixed["padded_tokens"] == len(TEXTS) * 32
    assert set(answer["strategies"]) == {"fixed", "dynamic", "grouped", "sorted", "budget"}


def test_a_tool_names_the_field_a_bad_value_came_in():
    import gradio as gr

    with pytest.raises(gr.Error, match="tokenizer must be one of bert, roberta, longformer"):
        pad_batch("A text.", "gpt9", store=None)


@pytest.mark.e2e
def test_the_mcp_server_offers_exactly_the_agent_tools_with_their_arguments_described(app_url):
    with urllib.request.urlopen(f"{app_url}gradio_api/mcp/schema", timeout=30) as response:
        schema = json.load(response)
    assert sorted(tool["name"] for tool in schema) == sorted(tool.__name__ for tool in AGENT_TOOLS)
    for tool in schema:
        assert tool["description"] and tool["meta"]["mcp_type"] == "tool"
        properties = tool["inputSchema"]["properties"]
        assert "store" not in properties and "texts" in tool["inputSchema"]["required"]
        assert all(spec.get("description") for spec in properties.values()), tool["name"]
