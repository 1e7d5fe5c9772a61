"""Attention maps: rows that sum to 1, pads that get nothing, and Longformer's band put back in place."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import LongformerConfig, LongformerModel

from seqdemo.attention import (
    MAX_VIEW_TOKENS,
    assemble_longformer_attention,
    attention_matrix,
    choose_view,
    extract_attention,
    global_attention_positions,
    padding_mass,
)
from seqdemo.models import ENCODER_ROLES

TEXTS = (
    "The cat sat on the mat.",
    "A batch needs one length, so every shorter sequence is padded up to the longest one in the batch.",
    "Short one.",
)


def maps_for(store, role, texts=TEXTS, **kwargs):
    return extract_attention(store.model(role, attn_implementation="eager"), store.tokenizer(role), texts, **kwargs)


def real_keys(maps):
    """(batch, 1, 1, 1, seq) True on real keys, to broadcast against the weights."""
    return maps.attention_mask.astype(bool)[:, None, None, None, :]


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("role", ENCODER_ROLES)
def test_real_query_rows_sum_to_one_over_real_keys_and_pads_get_zero(store, role, padding_side):
    maps = maps_for(store, role, padding_side=padding_side)
    real = maps.attention_mask.astype(bool)
    over_real = (maps.weights * real_keys(maps)).sum(axis=-1)  # (batch, layers, heads, seq)
    np.testing.assert_allclose(over_real.transpose(0, 3, 1, 2)[real], 1.0, atol=1e-5)
    assert np.all(maps.weights[np.broadcast_to(~real_keys(maps), maps.weights.shape)] == 0.0)
    assert np.all(padding_mass(maps) == 0.0)


@pytest.mark.parametrize("role", ENCODER_ROLES)
def test_without_the_mask_real_queries_spend_attention_on_pads(store, role):
    maps = maps_for(store, role, use_attention_mask=False)
    real = maps.attention_mask.astype(bool)
    mass = padding_mass(maps)
    for b in range(maps.batch_size):
        on_pads = maps.weights[b][..., ~real[b]].sum(axis=-1)  # (layers, heads, seq)
        np.testing.assert_allclose(mass[b], on_pads[..., real[b]].mean(axis=-1), rtol=1e-5, atol=1e-7)
        assert (mass[b] > 0).all() if (~real[b]).any() else (mass[b] == 0).all()


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("role", ENCODER_ROLES)
def test_tokens_and_masks_line_up_with_the_tokenizers_padded_batch(store, role, padding_side):
    tokenizer = store.tokenizer(role)
    maps = maps_for(store, role, padding_side=padding_side)
    encoded = tokenizer(list(TEXTS), padding=True, padding_side=padding_side, return_tensors="np")
    config = store.model(role).config
    seq = encoded["input_ids"].shape[1]
    assert maps.weights.shape == (len(TEXTS), config.num_hidden_layers, config.num_attention_heads, seq, seq)
    np.testing.assert_array_equal(maps.attention_mask, encoded["attention_mask"])
    for b, ids in enumerate(encoded["input_ids"]):
        assert len(maps.tokens[b]) == maps.seq_len
        is_pad = ids == tokenizer.pad_token_id
        assert {maps.tokens[b][i] for i in np.flatnonzero(is_pad)} <= {tokenizer.pad_token}
        assert [maps.tokens[b][i] for i in np.flatnonzero(~is_pad)][0] == tokenizer.cls_token
    assert maps.model_type == config.model_type


# BERT's absolute positions count pads on the left, so only right padding keeps its maps unchanged.
@pytest.mark.parametrize(
    ("role", "padding_side"),
    [("bert", "right"), ("roberta", "right"), ("roberta", "left"), ("longformer", "right"), ("longformer", "left")],
)
def test_padding_with_the_mask_leaves_each_texts_attention_unchanged(store, role, padding_side):
    batch = maps_for(store, role, padding_side=padding_side)
    for b, text in enumerate(TEXTS):
        alone = maps_for(store, role, texts=[text])
        real = np.flatnonzero(batch.attention_mask[b])
        inside = batch.weights[b][:, :, real][:, :, :, real]
        np.testing.assert_allclose(inside, alone.weights[0], atol=1e-5)


def test_long_texts_are_truncated_to_max_length_and_counted(store):
    tokenizer = store.tokenizer("bert")
    long_text = " ".join(["padding"] * 80)
    full = len(tokenizer(long_text)["input_ids"])
    maps = maps_for(store, "bert", texts=[long_text, "short"], max_length=32)
    assert maps.seq_len == 32 and maps.max_length == 32
    assert maps.truncated == (full - 32, 0)


def test_longformer_global_tokens_see_everything_and_are_seen_by_everyone(store):
    maps = maps_for(store, "longformer", global_tokens=["<s>", "batch"])
    tokens = maps.tokens[1]
    chosen = [i for i, token in enumerate(tokens) if token == "<s>" or token.lstrip("␣").lower() == "batch"]
    np.testing.assert_array_equal(np.flatnonzero(maps.global_attention_mask[1]), chosen)
    real = maps.attention_mask[1].astype(bool)
    weights = maps.weights[1]  # (layers, heads, seq, seq)
    assert (weights[:, :, chosen][..., real] > 0).all()  # global rows cover every real key
    assert (weights[:, :, real][..., chosen] > 0).all()  # every real query attends to the global tokens


def test_longformer_without_global_tokens_attends_only_inside_its_window(store):
    maps = maps_for(store, "longformer", global_tokens=[])
    assert maps.global_attention_mask.sum() == 0
    positions = np.arange(maps.seq_len)
    for layer, window in enumerate(maps.attention_window):
        outside = np.abs(positions[:, None] - positions[None, :]) > window // 2
        assert np.all(maps.weights[:, layer][:, :, outside] == 0.0)


def test_global_tokens_match_as_written_or_as_read_and_only_real_tokens():
    tokens = [["<s>", "What", "Ġis", "Ġit", "?", "</s>"], ["<pad>", "<s>", "Ġwhat", "</s>", "<pad>", "<pad>"]]
    readable = [["<s>", "What", "␣is", "␣it", "?", "</s>"], ["<pad>", "<s>", "␣what", "</s>", "<pad>", "<pad>"]]
    attention_mask = np.array([[1] * 6, [0, 1, 1, 1, 0, 0]])
    mask = global_attention_positions(tokens, readable, attention_mask, ["<s>", "what", "Ġit"])
    np.testing.assert_array_equal(mask, [[1, 1, 0, 1, 0, 0], [0, 1, 1, 0, 0, 0]])
    with pytest.raises(ValueError, match="'<pad>' matches no token"):
        global_attention_positions(tokens, readable, attention_mask, ["<pad>"])


# ---------------------------------------------------------------- Longformer assembly, against references


def tiny_longformer(windows: list[int]) -> LongformerModel:
    torch.manual_seed(0)
    config = LongformerConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=len(windows),
        num_attention_heads=2,
        intermediate_size=32,
        attention_window=windows,
        max_position_embeddings=64,
        pad_token_id=1,
    )
    return LongformerModel(config).eval()


def tiny_batch(lengths: list[int], padding_side: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    seq = max(lengths)
    input_ids = torch.ones(len(lengths), seq, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for b, length in enumerate(lengths):
        where = slice(0, length) if padding_side == "right" else slice(seq - length, seq)
        input_ids[b, where] = torch.randint(3, 40, (length,), generator=generator)
        attention_mask[b, where] = 1
    return input_ids, attention_mask


def brute_force_from_raw(local, global_, global_attention_mask, window):
    """Loop over queries and relative offsets, reading the raw outputs as their docstring describes them."""
    batch, heads, seq, width = local.shape
    half, num_global = window // 2, width - window - 1
    full = np.zeros((batch, heads, seq, seq))
    for b in range(batch):
        positions = list(np.flatnonzero(global_attention_mask[b]))
        for h in range(heads):
            for q in range(seq):
                if q in positions:
                    full[b, h, q, :] = global_[b, h, :seq, positions.index(q)]
                    continue
                for offset in range(-half, half + 1):
                    if 0 <= q + offset < seq:
                        full[b, h, q, q + offset] += local[b, h, q, num_global + half + offset]
                for j, key in enumerate(positions):
                    full[b, h, q, key] += local[b, h, q, j]
    return full


def dense_recomputation(model, hidden_states, attention_mask, global_attention_mask, layer, window):
    """Full softmax attention from the layer's own projections, restricted to Longformer's pattern."""
    attention = model.encoder.layer[layer].attention.self
    batch, seq, _ = hidden_states.shape
    heads, head_dim = attention.num_heads, attention.head_dim

    def project(linear):
        return linear(hidden_states).view(batch, seq, heads, head_dim).transpose(1, 2)

    local_scores = project(attention.query) @ project(attention.key).transpose(-1, -2) / head_dim**0.5
    global_scores = project(attention.query_global) @ project(attention.key_global).transpose(-1, -2) / head_dim**0.5
    real = attention_mask.bool()[:, None, None, :]
    is_global = global_attention_mask.bool()
    positions = torch.arange(seq)
    in_band = (positions[:, None] - positions[None, :]).abs() <= window // 2
    local_allowed = real & ((in_band & ~is_global[:, None, None, :]) | is_global[:, None, None, :])
    local = torch.softmax(local_scores.masked_fill(~local_allowed, float("-inf")), dim=-1)
    global_rows = torch.softmax(global_scores.masked_fill(~real, float("-inf")), dim=-1)
    full = torch.where(is_global[:, None, :, None], global_rows, local)
    return torch.where(real.transpose(-1, -2), full, 0.0).numpy()  # pad queries attend nowhere


def expected_pattern(seq, window, real, global_positions):
    """band ∪ global rows ∪ global columns, over real queries and real keys."""
    positions = np.arange(seq)
    pattern = np.abs(positions[:, None] - positions[None, :]) <= window // 2
    pattern[global_positions, :] = True
    pattern[:, global_positions] = True
    return pattern & real[:, None] & real[None, :]


GLOBAL_CHOICES = {
    "none": lambda ids: torch.zeros_like(ids),
    "first token": lambda ids: torch.nn.functional.one_hot(torch.zeros(len(ids), dtype=torch.long), ids.shape[1]),
    "uneven per text": lambda ids: torch.tensor([[1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0], [0, 0, 0, 1] + [0] * 7]),
}


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("choice", list(GLOBAL_CHOICES))
@pytest.mark.parametrize("windows", [[4, 4], [4, 8], [6, 6]])
def test_longformer_assembly_equals_brute_force_and_dense_references(windows, choice, padding_side):
    model = tiny_longformer(windows)
    input_ids, attention_mask = tiny_batch([11, 7], padding_side)
    global_attention_mask = GLOBAL_CHOICES[choice](input_ids) * attention_mask
    with torch.no_grad():
        output = model(
            input_ids,
            attention_mask=attention_mask,
            global_attention_mask=global_attention_mask,
            output_attentions=True,
            output_hidden_states=True,
        )
    global_mask = global_attention_mask.numpy()
    real = attention_mask.numpy().astype(bool)
    for layer, window in enumerate(windows):
        local = output.attentions[layer].numpy()
        global_ = None if output.global_attentions is None else output.global_attentions[layer].numpy()
        assembled = assemble_longformer_attention(local, global_, global_mask, window)
        seq = input_ids.shape[1]
        assert assembled.shape == (2, 2, seq, seq)
        np.testing.assert_allclose(assembled, brute_force_from_raw(local, global_, global_mask, window), atol=1e-7)
        with torch.no_grad():
            dense = dense_recomputation(
                model, output.hidden_states[layer], attention_mask, global_attention_mask, layer, window
            )
        np.testing.assert_allclose(assembled, dense, atol=1e-5)
        for b in range(2):
            rows = assembled[b][:, real[b]][..., real[b]].sum(axis=-1)
            np.testing.assert_allclose(rows, 1.0, atol=1e-5)
            pattern = expected_pattern(seq, window, real[b], np.flatnonzero(global_mask[b]))
            np.testing.assert_array_equal(assembled[b] != 0, np.broadcast_to(pattern, assembled[b].shape))


def test_assembly_refuses_outputs_that_do_not_fit_the_window():
    local = np.zeros((1, 2, 8, 6))
    with pytest.raises(ValueError, match="columns per query"):
        assemble_longformer_attention(local, None, np.zeros((1, 8)), window=4)


# ---------------------------------------------------------------- views and bad input


@pytest.fixture(scope="module")
def bert_maps(store):
    return maps_for(store, "bert")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer": 0}, "Layer 0 is out of range"),
        ({"layer": 99}, "Layer 99 is out of range"),
        ({"head": 99}, "Head 99 is out of range"),
        ({"example": 4}, "Text 4 is out of range"),
        ({"start": 10_000}, "First token 10000 is out of range"),
        ({"query": -1}, "Query token -1 is out of range"),
        ({"size": MAX_VIEW_TOKENS + 1}, "tokens per axis"),
    ],
)
def test_views_outside_the_model_or_batch_are_refused_with_a_sentence(bert_maps, kwargs, message):
    with pytest.raises(ValueError, match=message):
        choose_view(bert_maps, **kwargs)


def test_a_view_counts_from_one_and_stops_at_the_padded_length(bert_maps):
    view = choose_view(bert_maps, example=2, layer=2, head=3, start=bert_maps.seq_len - 5, size=64, query=4)
    assert (view.example, view.layer, view.head, view.stop, view.query) == (1, 1, 2, bert_maps.seq_len, 4)
    np.testing.assert_array_equal(attention_matrix(bert_maps, view), bert_maps.weights[1, 1, 2])
    mean = attention_matrix(bert_maps, choose_view(bert_maps, layer=2))
    np.testing.assert_allclose(mean, bert_maps.weights[0, 1].mean(axis=0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"texts": []}, "at least one text"),
        ({"padding_side": "middle"}, "padding_side"),
        ({"global_tokens": ["[CLS]"]}, "Longformer input"),
    ],
)
def test_bad_extraction_requests_are_refused_with_a_sentence(store, kwargs, message):
    with pytest.raises(ValueError, match=message):
        maps_for(store, "bert", **kwargs)


def test_a_model_without_attention_weights_is_refused_with_a_hint(store):
    sdpa = store.model("bert", attn_implementation="sdpa")
    with pytest.raises(ValueError, match="eager"):
        extract_attention(sdpa, store.tokenizer("bert"), ["a text"])
