"""The attention-mask lesson's facts, measured on the offline kit against independent references.

References go through the tokenizer's own padding and plain model calls (or a hand-written
greedy loop), not through seqdemo.masks, so a mistake in the module cannot hide itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqdemo.masks import (
    as_tokens,
    attention_key_mask,
    batch_notes,
    compare_batched_generation,
    pad_tokenized_texts,
    prove_mask,
    tokenize_texts,
)
from seqdemo.models import ENCODER_ROLES

TEXTS = [
    "The cat sat on the mat.",
    "A much longer sentence about the film we watched at the cinema last night, and the long walk home.",
    "Hello there!",
    "The restaurant was quiet and the soup was good.",
]


def _run(model, encoded: dict) -> np.ndarray:
    inputs = {key: torch.as_tensor(value) for key, value in encoded.items() if key != "token_type_ids"}
    if model.config.model_type == "longformer":
        inputs["global_attention_mask"] = (inputs["input_ids"] == model.config.bos_token_id).long()
    with torch.no_grad():
        return model(**inputs).last_hidden_state.numpy()


def _reference(model, tokenizer, padding_side: str, with_mask: bool) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each text alone (seq_i, hidden), the padded batch's hidden states and its attention_mask."""
    alone = [_run(model, tokenizer(text, return_tensors="np"))[0] for text in TEXTS]
    batch = tokenizer(TEXTS, padding=True, padding_side=padding_side, return_tensors="np")
    mask = batch["attention_mask"]
    if not with_mask:
        del batch["attention_mask"]
    return alone, _run(model, batch), mask


def _shorter(tokenizer) -> np.ndarray:
    lengths = np.array([len(tokenizer(text)["input_ids"]) for text in TEXTS])
    return lengths < lengths.max()


@pytest.fixture(scope="module", params=ENCODER_ROLES)
def proof(request, store):
    role = request.param
    return role, prove_mask(store.model(role), store.tokenizer(role), TEXTS)


def test_float32_runs_are_judged_by_a_tolerance_of_1e_5(proof):
    # A promise the lesson makes ("with the mask, float noise of about 1e-6"): a looser tolerance
    # would call real differences noise, so it is pinned here, not read from the module.
    _, result = proof
    assert result.dtype == "float32"
    assert result.tolerance == 1e-5


def test_masked_batch_matches_each_text_alone_within_tolerance(store, proof):
    role, result = proof
    alone, hidden, mask = _reference(store.model(role), store.tokenizer(role), "right", with_mask=True)
    expected = [np.abs(hidden[i][mask[i] == 1] - alone[i]).max() for i in range(len(TEXTS))]
    assert max(expected) <= result.tolerance
    assert result.masked.hidden_delta.max() <= result.tolerance
    assert result.matches(result.masked).all()


def test_unmasked_batch_differs_for_every_text_shorter_than_the_longest(store, proof):
    role, result = proof
    alone, hidden, mask = _reference(store.model(role), store.tokenizer(role), "right", with_mask=False)
    expected = np.array([np.abs(hidden[i][mask[i] == 1] - alone[i]).max() for i in range(len(TEXTS))])
    shorter = _shorter(store.tokenizer(role))
    assert (expected[shorter] > result.tolerance).all()
    assert (expected[~shorter] <= result.tolerance).all()
    np.testing.assert_allclose(result.unmasked.hidden_delta[shorter], expected[shorter], rtol=1e-3)
    assert list(result.matches(result.unmasked)) == list(~shorter)


def test_masked_mean_pooling_equals_the_unpadded_mean_and_the_plain_mean_does_not(store, proof):
    role, result = proof
    alone, hidden, mask = _reference(store.model(role), store.tokenizer(role), "right", with_mask=True)
    masked_mean = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    unpadded_mean = np.stack([states.mean(0) for states in alone])
    assert np.abs(masked_mean - unpadded_mean).max() <= result.tolerance
    assert result.masked.pooled_delta.max() <= result.tolerance
    shorter = _shorter(store.tokenizer(role))
    plain_mean_delta = np.abs(hidden.mean(1) - unpadded_mean).max(1)
    assert (plain_mean_delta[shorter] > result.tolerance).all()
    np.testing.assert_allclose(result.masked.mean_all_delta[shorter], plain_mean_delta[shorter], rtol=1e-3)


def test_hidden_states_at_pad_positions_are_not_zero(store, proof):
    role, result = proof
    _, hidden, mask = _reference(store.model(role), store.tokenizer(role), "right", with_mask=True)
    shorter = _shorter(store.tokenizer(role))
    expected = np.array([np.abs(hidden[i][mask[i] == 0]).max(initial=0.0) for i in range(len(TEXTS))])
    assert (expected[shorter] > 0).all()
    np.testing.assert_allclose(result.masked.pad_hidden_max, expected, rtol=1e-5)


def _positions_from_input_ids(input_ids: np.ndarray, pad_id: int) -> np.ndarray:
    """fairseq's rule, written out: count real tokens from pad_id + 1, pads keep pad_id."""
    positions = np.full_like(input_ids, pad_id)
    for row, ids in enumerate(input_ids):
        counter = pad_id
        for column, token in enumerate(ids):
            if token != pad_id:
                counter += 1
                positions[row, column] = counter
    return positions


@pytest.mark.parametrize("role", ["roberta", "longformer"])
def test_roberta_position_ids_start_after_pad_id_and_skip_pads(store, role):
    tokenizer = store.tokenizer(role)
    result = prove_mask(store.model(role), tokenizer, TEXTS)
    for run in (result.masked, result.left):
        expected = _positions_from_input_ids(run.batch.input_ids, tokenizer.pad_token_id)
        np.testing.assert_array_equal(run.position_ids, expected)
        assert run.position_ids[run.batch.attention_mask == 1].min() == tokenizer.pad_token_id + 1
    assert result.matches(result.left).all()


def test_bert_position_ids_count_from_zero_so_left_padding_shifts_shorter_texts(store):
    tokenizer = store.tokenizer("bert")
    result = prove_mask(store.model("bert"), tokenizer, TEXTS)
    for run in (result.masked, result.left):
        expected = np.broadcast_to(np.arange(run.batch.input_ids.shape[1]), run.batch.input_ids.shape)
        np.testing.assert_array_equal(run.position_ids, expected)
    alone, hidden, mask = _reference(store.model("bert"), tokenizer, "left", with_mask=True)
    left_delta = np.array([np.abs(hidden[i][mask[i] == 1] - alone[i]).max() for i in range(len(TEXTS))])
    shorter = _shorter(tokenizer)
    assert (left_delta[shorter] > result.tolerance).all()
    assert list(result.matches(result.left)) == list(~shorter)
    assert result.matches(result.masked).all()


@pytest.mark.parametrize("role", ["bert", "roberta"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_padded_batch_equals_the_tokenizers_own_padding(store, role, padding_side):
    tokenizer = store.tokenizer(role)
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, TEXTS), padding_side)
    expected = tokenizer(TEXTS, padding=True, padding_side=padding_side, return_tensors="np")
    np.testing.assert_array_equal(batch.input_ids, expected["input_ids"])
    np.testing.assert_array_equal(batch.attention_mask, expected["attention_mask"])
    assert batch.tokens[0] == tuple(tokenizer.convert_ids_to_tokens(expected["input_ids"][0].tolist()))


@pytest.mark.parametrize("role", ["bert", "roberta"])
def test_key_mask_is_where_eager_attention_weights_are_nonzero(store, role):
    model, tokenizer = store.model(role, attn_implementation="eager"), store.tokenizer(role)
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, TEXTS), "right")
    with torch.no_grad():
        attentions = model(
            input_ids=torch.as_tensor(batch.input_ids),
            attention_mask=torch.as_tensor(batch.attention_mask),
            output_attentions=True,
        ).attentions
    for index in range(len(TEXTS)):
        allowed = attention_key_mask(batch, index, model.config)
        for layer in attentions:
            weights = layer[index].numpy()  # (heads, seq, seq)
            assert ((weights > 0) == allowed).all()
        pads = batch.attention_mask[index] == 0
        assert allowed[np.ix_(pads, ~pads)].all()  # pad queries still attend to every real key


def test_longformer_key_mask_is_its_local_band_plus_global_start_token(store):
    model, tokenizer = store.model("longformer", attn_implementation="eager"), store.tokenizer("longformer")
    texts = ["word " * (2 * model.config.attention_window[0]), "a short one"]
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, texts), "right")
    ids = torch.as_tensor(batch.input_ids)
    with torch.no_grad():
        output = model(
            input_ids=ids,
            attention_mask=torch.as_tensor(batch.attention_mask),
            global_attention_mask=(ids == tokenizer.cls_token_id).long(),
            output_attentions=True,
        )
    # Longformer reports attention as [global keys | keys at offsets -w/2..w/2] per query,
    # and global tokens' own rows separately; assemble them into (seq, seq).
    half = model.config.attention_window[0] // 2
    seq = batch.input_ids.shape[1]
    for index in range(len(texts)):
        local = output.attentions[0][index, 0].numpy()
        from_global = output.global_attentions[0][index, 0, :seq, 0].numpy()
        observed = np.zeros((seq, seq), dtype=bool)
        observed[:, 0] = local[:, 0] > 0
        for query in range(seq):
            for offset in range(-half, half + 1):
                if 0 <= query + offset < seq and local[query, 1 + half + offset] > 0:
                    observed[query, query + offset] = True
        observed[0] = from_global > 0
        np.testing.assert_array_equal(attention_key_mask(batch, index, model.config), observed)
    assert not attention_key_mask(batch, 0, model.config)[half + 1, 2 * half + 2]


def test_key_mask_for_a_text_that_is_not_in_the_batch_is_refused(store):
    tokenizer = store.tokenizer("bert")
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, TEXTS), "right")
    with pytest.raises(ValueError, match="no text 9"):
        attention_key_mask(batch, 8, store.model("bert").config)


def _greedy_alone(model, tokenizer, text: str, new_tokens: int) -> list[int]:
    """Greedy decoding by hand: full recompute each step, end-of-text never chosen."""
    ids = tokenizer(text)["input_ids"]
    for _ in range(new_tokens):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
        logits[tokenizer.eos_token_id] = -float("inf")
        ids.append(int(logits.argmax()))
    return ids[-new_tokens:]


@pytest.fixture(scope="module")
def generation(store):
    return compare_batched_generation(store.model("decoder"), store.tokenizer("decoder"), TEXTS, max_new_tokens=4)


def test_left_padding_matches_single_prompt_generation(store, generation):
    model, tokenizer = store.model("decoder"), store.tokenizer("decoder")
    expected = np.array([_greedy_alone(model, tokenizer, text, 4) for text in TEXTS])
    np.testing.assert_array_equal(generation.alone, expected)
    np.testing.assert_array_equal(generation.left, expected)
    assert generation.left_matches.all()
    mask = generation.left_batch.attention_mask
    np.testing.assert_array_equal(generation.left_position_ids, np.where(mask == 1, mask.cumsum(1) - 1, 0))


def test_right_padding_changes_generation_for_shorter_prompts(store, generation):
    model, tokenizer = store.model("decoder"), store.tokenizer("decoder")
    expected = np.array([_greedy_alone(model, tokenizer, text, 4) for text in TEXTS])
    matches = (generation.right == expected).all(axis=1)
    shorter = generation.right_batch.attention_mask[:, -1] == 0
    assert matches[~shorter].all()
    assert not matches[shorter].any()
    assert list(generation.right_matches) == list(matches)


def test_notes_say_when_there_is_nothing_to_pad(store):
    tokenizer = store.tokenizer("roberta")
    (single,) = batch_notes(tokenize_texts(tokenizer, ["Just one text."]))
    assert "nothing to pad" in single
    (same,) = batch_notes(tokenize_texts(tokenizer, ["the cat sat", "the dog sat"]))
    assert f"{len(tokenizer('the cat sat')['input_ids'])} tokens" in same
    assert batch_notes(tokenize_texts(tokenizer, TEXTS)) == ()


def test_long_texts_are_truncated_to_the_model_limit_with_a_note(store):
    tokenizer = store.tokenizer("bert")
    long_text = "the food was good " * 200
    full_length = len(tokenizer(long_text, verbose=False)["input_ids"])
    tokenized = tokenize_texts(tokenizer, ["short", long_text])
    assert tokenized.lengths == (len(tokenizer("short")["input_ids"]), tokenizer.model_max_length)
    (note,) = batch_notes(tokenized)
    assert note.startswith(f"Text 2 had {full_length:,} tokens") and f"{tokenizer.model_max_length:,}" in note


def test_an_empty_batch_is_refused_with_a_sentence(store):
    with pytest.raises(ValueError, match="at least one"):
        tokenize_texts(store.tokenizer("bert"), [])


def test_an_id_beyond_the_tokenizers_vocabulary_is_written_as_the_id(store):
    """GPT-2's embeddings outnumber its tokenizer's vocabulary, so generation may produce ids with no token string."""
    tokenizer = store.tokenizer("decoder")
    beyond = len(tokenizer) + 7
    assert tokenizer.convert_ids_to_tokens([beyond]) == [None]
    known = tokenizer("Hello")["input_ids"][0]
    (tokens,) = as_tokens(tokenizer, np.array([[known, beyond]]))
    assert tokens == (tokenizer.convert_ids_to_tokens(known), str(beyond))
