"""Blocked Longformer attention against transformers' own: same outputs in float32, same answers in bfloat16."""

import numpy as np
import pytest
import torch
from torch import nn
from transformers import AutoTokenizer, LongformerConfig, LongformerForSequenceClassification, LongformerModel
from transformers.models.longformer.modeling_longformer import LongformerSelfAttention

from seqdemo.device import pick_device
from seqdemo.fast_longformer import BlockedLongformerSelfAttention, block_multiple, global_slots, with_fast_attention
from seqdemo.offline.kit import PAIR_DIR
from seqdemo.offline.longdoc_task import document_within
from seqdemo.precision import answer_precision, cast_model, int8_copy

FLOAT32_TOLERANCE = 2e-5  # max |Δ| of hidden states and logits: float32 noise, nothing more
PROBABILITY_TOLERANCE = 0.01  # bfloat16 vs float32, max |Δp|


def random_longformer(window: int, model_class=LongformerForSequenceClassification, seed: int = 0) -> nn.Module:
    """A 2-layer Longformer with large random weights and biases.

    transformers' initialisation (std 0.02, zero biases) makes attention nearly uniform and drops
    every bias: a band one key too narrow or a lost `value_global` bias would hide in float noise.
    """
    torch.manual_seed(seed)
    config = LongformerConfig(
        num_hidden_layers=2,
        hidden_size=64,
        num_attention_heads=4,
        intermediate_size=128,
        attention_window=window,
        max_position_embeddings=600,
        vocab_size=100,
        pad_token_id=1,
        num_labels=3,
        initializer_range=0.2,
    )
    model = model_class(config).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.bias.normal_(std=0.2)
    return model


def padded_batch(length: int, globals_: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Three rows of `length` slots holding length, length - 7 and length // 2 tokens (the rest padding).

    `globals_`: "cls" (global attention on `<s>` only), "several" (a different number per row:
    neighbours, one at the last real token), or "none".
    """
    generator = torch.Generator().manual_seed(seed)
    real = [length, length - 7, length // 2]
    input_ids = torch.randint(3, 100, (3, length), generator=generator)
    input_ids[:, 0] = 0
    attention_mask = torch.zeros(3, length, dtype=torch.long)
    for row, count in enumerate(real):
        attention_mask[row, :count] = 1
        input_ids[row, count:] = 1
    global_attention_mask = torch.zeros_like(input_ids)
    if globals_ == "cls":
        global_attention_mask[:, 0] = 1
    elif globals_ == "several":
        global_attention_mask[0, [0, 5, 6, length - 1]] = 1
        global_attention_mask[1, [0, length // 3]] = 1
        global_attention_mask[2, [3]] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "global_attention_mask": global_attention_mask}


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


@pytest.mark.parametrize("globals_", ["cls", "several", "none"])
@pytest.mark.parametrize(("window", "length"), [(16, 32), (16, 45), (16, 128), (16, 256), (32, 64), (32, 256)])
def test_blocked_attention_matches_transformers_in_float32(window, length, globals_):
    model = random_longformer(window)
    batch = padded_batch(length, globals_)
    with torch.inference_mode():
        expected = model(**batch, output_hidden_states=True)
        got = with_fast_attention(model)(**batch, output_hidden_states=True)
    # every position, padding included: transformers gives padding queries a zero attention output
    assert max_diff(got.hidden_states[-1], expected.hidden_states[-1]) < FLOAT32_TOLERANCE
    assert max_diff(got.logits, expected.logits) < FLOAT32_TOLERANCE
    assert max_diff(expected.logits[0], expected.logits[2]) > 100 * FLOAT32_TOLERANCE  # rows differ: no trivial match


@pytest.mark.parametrize("block_size", [4, 8, 16])
def test_any_block_size_dividing_the_window_gives_the_same_outputs(block_size):
    model = random_longformer(16)
    batch = padded_batch(96, "several")
    with torch.inference_mode():
        expected = model(**batch).logits
        got = with_fast_attention(model, block_size)(**batch).logits
    assert max_diff(got, expected) < FLOAT32_TOLERANCE


def lengths_attention_ran_on(model: nn.Module, batch: dict[str, torch.Tensor]) -> list[int]:
    """The sequence lengths each layer's self-attention saw, running `model` on `batch`."""
    seen = []
    kinds = (BlockedLongformerSelfAttention, LongformerSelfAttention)
    attentions = [m for m in model.modules() if isinstance(m, kinds)]
    hooks = [m.register_forward_hook(lambda _, args, out: seen.append(args[0].shape[1])) for m in attentions]
    with torch.inference_mode():
        model(**batch)
    for hook in hooks:
        hook.remove()
    return seen


@pytest.mark.parametrize("length", [24, 40, 56])
def test_a_multiple_of_the_block_runs_unpadded_and_matches_transformers_padded_to_the_window(length):
    model = random_longformer(16)  # block 8
    batch = padded_batch(length, "several")
    fast = with_fast_attention(model)
    assert block_multiple(fast) == 8 and block_multiple(model) is None
    assert set(lengths_attention_ran_on(fast, batch)) == {length}
    assert set(lengths_attention_ran_on(model, batch)) == {-(-length // 16) * 16}  # transformers pads to 16
    with torch.inference_mode():
        expected, got = model(**batch, output_hidden_states=True), fast(**batch, output_hidden_states=True)
    assert got.hidden_states[-1].shape == expected.hidden_states[-1].shape
    assert max_diff(got.hidden_states[-1], expected.hidden_states[-1]) < FLOAT32_TOLERANCE
    assert max_diff(got.logits, expected.logits) < FLOAT32_TOLERANCE


def test_a_length_off_the_block_is_padded_to_the_window_as_transformers_pads_it():
    model = random_longformer(16)
    batch = padded_batch(45, "cls")
    assert set(lengths_attention_ran_on(with_fast_attention(model), batch)) == {48}


def test_copies_of_the_fast_copy_pad_to_the_block_with_their_own_modules():
    fast = with_fast_attention(random_longformer(16))
    quantized = int8_path(random_longformer(16))
    for model in (fast, quantized):
        inner = next(m for m in model.modules() if isinstance(m, LongformerModel))
        assert inner._pad_to_window_size.__self__ is inner  # the copy's own, not the module it was copied from
        assert block_multiple(model) == 8
        assert set(lengths_attention_ran_on(model, padded_batch(40, "cls"))) == {40}


def test_the_bare_longformer_model_matches_too():
    model = random_longformer(16, LongformerModel)
    batch = padded_batch(64, "cls")
    with torch.inference_mode():
        expected = model(**batch)
        got = with_fast_attention(model)(**batch)
    assert max_diff(got.last_hidden_state, expected.last_hidden_state) < FLOAT32_TOLERANCE
    assert max_diff(got.pooler_output, expected.pooler_output) < FLOAT32_TOLERANCE


def test_the_fast_copy_shares_weights_and_leaves_the_original_serving_attentions():
    model = random_longformer(16)
    fast = with_fast_attention(model)
    assert [p.data_ptr() for p in fast.parameters()] == [p.data_ptr() for p in model.parameters()]
    swapped = [m for m in fast.modules() if isinstance(m, BlockedLongformerSelfAttention)]
    assert len(swapped) == model.config.num_hidden_layers
    assert not any(isinstance(m, BlockedLongformerSelfAttention) for m in model.modules())
    batch = padded_batch(32, "cls")
    with torch.inference_mode():
        assert len(model(**batch, output_attentions=True).attentions) == model.config.num_hidden_layers
        with pytest.raises(ValueError, match="attention weights"):
            fast(**batch, output_attentions=True)


def test_the_fast_copy_refuses_training_and_non_longformers():
    fast = with_fast_attention(random_longformer(16)).train()
    with pytest.raises(ValueError, match="inference"):
        fast(**padded_batch(32, "cls"))
    with pytest.raises(ValueError, match="no Longformer self-attention"):
        with_fast_attention(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="must divide"):
        with_fast_attention(random_longformer(16), block_size=5)


def test_global_slots_list_each_rows_global_positions_in_order():
    is_global = torch.zeros(3, 10, dtype=torch.bool)
    is_global[0, [2, 7, 9]] = True
    is_global[1, [4]] = True
    positions, valid = global_slots(is_global)
    assert positions.shape == valid.shape == (3, 3)
    for row in range(3):
        assert positions[row][valid[row]].tolist() == is_global[row].nonzero().flatten().tolist()
    assert global_slots(torch.zeros(2, 8, dtype=torch.bool))[0].shape == (2, 0)


def bfloat16_path(model: nn.Module) -> nn.Module:
    """The long-document lesson's path on a CPU with native bf16: a bfloat16 copy, blocked attention."""
    return with_fast_attention(cast_model(model, answer_precision(pick_device("cpu"), native_bf16=lambda: True)))


def int8_path(model: nn.Module) -> nn.Module:
    """The long-document lesson's path on a CPU without native bf16: blocked attention, int8 linear layers."""
    precision = answer_precision(pick_device("cpu"), native_bf16=lambda: False, int8=lambda: True)
    assert precision.int8_linears
    return int8_copy(with_fast_attention(model))


@pytest.mark.parametrize(("length", "globals_"), [(64, "cls"), (256, "cls"), (256, "several")])
def test_int8_probabilities_stay_within_001_of_float32_at_transformers_initialisation(length, globals_):
    """int8 rounds each layer's input, so unlike bfloat16 it is checked on weights of a real model's scale.

    `random_longformer`'s large weights exaggerate activations far past a trained model's (there
    int8 drifts past 0.01); transformers' own initialisation, like the trained pair below, stays close.
    """
    torch.manual_seed(0)
    config = LongformerConfig(
        num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128, attention_window=32,
        vocab_size=100, max_position_embeddings=600, num_labels=3, pad_token_id=1,
    )  # fmt: skip
    model = LongformerForSequenceClassification(config).eval()
    batch = padded_batch(length, globals_)
    with torch.inference_mode():
        expected = model(**batch).logits.softmax(-1)
        got = int8_path(model)(**batch).logits.softmax(-1)
    assert 0 < max_diff(got, expected) <= PROBABILITY_TOLERANCE


def test_bfloat16_probabilities_stay_within_001_of_float32_on_a_random_model():
    model = random_longformer(32)
    batch = padded_batch(256, "cls")
    with torch.inference_mode():
        expected = model(**batch).logits.softmax(-1)
        got = bfloat16_path(model)(**batch).logits.float().softmax(-1)
    assert next(bfloat16_path(model).parameters()).dtype == torch.bfloat16
    assert max_diff(got, expected) <= PROBABILITY_TOLERANCE


def test_bfloat16_probabilities_stay_within_001_of_float32_on_the_trained_pair():
    folder = PAIR_DIR / "long-classifier"
    model = LongformerForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    rng = np.random.default_rng(7)
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    budget = tokenizer.model_max_length - 2
    texts = [document_within(rng, count, budget, label).text for label in (0, 1, None, 1, None, 0)]
    batch = tokenizer(texts, padding=True, pad_to_multiple_of=32, return_tensors="pt")
    batch["global_attention_mask"] = torch.zeros_like(batch["input_ids"])
    batch["global_attention_mask"][:, 0] = 1
    with torch.inference_mode():
        expected = model(**batch).logits.softmax(-1)
        got = bfloat16_path(model)(**batch).logits.float().softmax(-1)
    assert max_diff(got, expected) <= PROBABILITY_TOLERANCE
    assert (got.argmax(-1) == expected.argmax(-1)).all()
