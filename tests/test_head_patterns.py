"""Head patterns: hand-built heads named as built, pads never counted, MiniLM's previous-token and [CLS]/[SEP] heads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqdemo.attention import AttentionMaps, extract_attention
from seqdemo.head_patterns import (
    BROAD,
    MIXED,
    NEXT,
    PREVIOUS,
    SELF,
    SPECIAL,
    HeadPatterns,
    measure_head_patterns,
    name_pattern,
)
from seqdemo.models import ENCODER_ROLES
from seqdemo.ui.attention import EXAMPLE_TEXTS
from seqdemo.ui.views.head_patterns import head_patterns_html

ORDINARY = (
    "The children played in the park until it got dark.",
    "He forgot his umbrella, so he got wet on the way home.",
    "We ordered pizza and watched a film.",
    "The museum opens at nine on weekdays.",
)
# The hand-built heads, in order: exactly previous token, all on [CLS], uniform, exactly next token, itself.
BUILT = (PREVIOUS, SPECIAL, BROAD, NEXT, SELF)


def built_heads(n: int) -> np.ndarray:
    """(5, n, n): the BUILT heads over n real tokens; where i-1 or i+1 is missing, the token attends to itself."""
    eye = np.eye(n)
    previous = np.roll(eye, -1, axis=1)
    previous[0] = eye[0]
    following = np.roll(eye, 1, axis=1)
    following[-1] = eye[-1]
    on_cls = np.zeros((n, n))
    on_cls[:, 0] = 1.0
    return np.stack([previous, on_cls, np.full((n, n), 1.0 / n), following, eye])


def hand_built_maps(lengths, *, padding_side="right", pad_share=0.0, seed=0) -> AttentionMaps:
    """One layer of the BUILT heads for texts of `lengths` real tokens, padded to the longest.

    Pad rows are random junk; with `pad_share` > 0 each real row also puts that share on the pad keys,
    as a model run without the attention_mask would.
    """
    rng = np.random.default_rng(seed)
    seq = max(lengths)
    weights = np.zeros((len(lengths), 1, len(BUILT), seq, seq), dtype=np.float32)
    mask = np.zeros((len(lengths), seq), dtype=np.int64)
    special = np.ones((len(lengths), seq), dtype=np.int64)  # the tokenizer marks pads as special too
    tokens = []
    for b, n in enumerate(lengths):
        real = np.arange(n) + (seq - n if padding_side == "left" else 0)
        pads = np.setdiff1d(np.arange(seq), real)
        junk = rng.random((len(BUILT), seq, seq))
        weights[b, 0] = junk / junk.sum(axis=-1, keepdims=True)
        rows = built_heads(n) * (1.0 - pad_share if pads.size else 1.0)
        weights[b, 0][:, real] = 0.0
        weights[b, 0][np.ix_(range(len(BUILT)), real, real)] = rows
        if pads.size:
            weights[b, 0][np.ix_(range(len(BUILT)), real, pads)] = pad_share / pads.size
        mask[b, real] = 1
        special[b, real[1:-1]] = 0
        row = ["[PAD]"] * seq
        row[real[0]], row[real[-1]] = "[CLS]", "[SEP]"
        for i in real[1:-1]:
            row[i] = f"w{i}"
        tokens.append(tuple(row))
    return AttentionMaps(
        model_type="bert",
        tokens=tuple(tokens),
        weights=weights,
        attention_mask=mask,
        special_tokens_mask=special,
        mask_applied=pad_share == 0.0,
        padding_side=padding_side,
        max_length=512,
        model_max_length=512,
        truncated=(0,) * len(lengths),
    )


def test_hand_built_heads_are_named_as_built():
    patterns = measure_head_patterns(hand_built_maps((7, 5)))
    assert patterns.patterns == (BUILT,)
    assert patterns.heads(PREVIOUS) == ((0, 0),) and patterns.heads(SPECIAL) == ((0, 1),)
    np.testing.assert_allclose(
        [patterns.on_previous[0, 0], patterns.on_special[0, 1], patterns.entropy[0, 2], patterns.on_next[0, 3]],
        1.0,
        rtol=1e-6,
    )
    np.testing.assert_allclose(patterns.on_self[0, 4], 1.0, rtol=1e-6)
    # The uniform head's shares, from its definition: 1/n on each key, so 2/n on [CLS] and [SEP], 1/n on i-1.
    np.testing.assert_allclose(patterns.on_special[0, 2], (7 * 2 / 7 + 5 * 2 / 5) / 12, rtol=1e-6)
    np.testing.assert_allclose(patterns.on_previous[0, 2], (6 / 7 + 4 / 5) / 10, rtol=1e-6)
    assert patterns.special_tokens == ("[CLS]", "[SEP]") and patterns.queries == 12


def test_a_uniform_head_on_a_short_text_is_broad_although_half_of_it_lands_on_cls_and_sep():
    patterns = measure_head_patterns(hand_built_maps((4,)))
    np.testing.assert_allclose(patterns.on_special[0, 2], 0.5, rtol=1e-6)
    assert patterns.patterns[0][2] == BROAD


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("pad_share", [0.0, 0.3])
def test_pads_never_count_as_queries_or_keys(padding_side, pad_share):
    alone = [measure_head_patterns(hand_built_maps((n,))) for n in (9, 3, 6)]
    batch = measure_head_patterns(hand_built_maps((9, 3, 6), padding_side=padding_side, pad_share=pad_share, seed=1))
    assert batch.patterns == (BUILT,) and batch.queries == 18
    for name in ("on_special", "on_self", "entropy"):  # every real query weighs the same
        pooled = sum(getattr(text, name) * text.queries for text in alone) / batch.queries
        np.testing.assert_allclose(getattr(batch, name), pooled, rtol=1e-5)
    for name in ("on_previous", "on_next"):  # over the queries that have a neighbour there
        pooled = sum(getattr(text, name) * (text.queries - 1) for text in alone) / (batch.queries - 3)
        np.testing.assert_allclose(getattr(batch, name), pooled, rtol=1e-5)


def test_real_tokens_that_are_not_one_run_are_refused():
    maps = hand_built_maps((5, 3))
    split = np.array([[1, 1, 1, 1, 1], [1, 0, 1, 1, 0]])
    with pytest.raises(ValueError, match="Text 2's real tokens are not one run"):
        measure_head_patterns(AttentionMaps(**{**maps.__dict__, "attention_mask": split}))


def test_longformer_entropy_is_relative_to_the_band_and_global_tokens_it_can_see():
    seq, window = 6, 2  # each token sees itself and one neighbour either side, plus the global <s>
    visible = np.abs(np.arange(seq)[:, None] - np.arange(seq)[None, :]) <= window // 2
    visible[:, 0] = visible[0, :] = True
    uniform_over_visible = visible / visible.sum(axis=1, keepdims=True)
    maps = AttentionMaps(
        model_type="longformer",
        tokens=(("<s>", "a", "b", "c", "d", "</s>"),),
        weights=uniform_over_visible[None, None, None].astype(np.float32),
        attention_mask=np.ones((1, seq), dtype=np.int64),
        special_tokens_mask=np.array([[1, 0, 0, 0, 0, 1]]),
        mask_applied=True,
        padding_side="right",
        max_length=512,
        model_max_length=4096,
        truncated=(0,),
        global_attention_mask=np.array([[1, 0, 0, 0, 0, 0]]),
        attention_window=(window,),
    )
    patterns = measure_head_patterns(maps)
    np.testing.assert_allclose(patterns.entropy, 1.0, rtol=1e-6)
    assert patterns.patterns == ((BROAD,),) and patterns.near_uniform


@pytest.mark.parametrize(
    ("shares", "pattern"),
    [
        ((0.0, 0.5, 0.0, 0.0, 0.0), PREVIOUS),
        ((0.0, 0.49, 0.0, 0.0, 0.0), MIXED),
        ((0.0, 0.0, 0.5, 0.0, 0.3), NEXT),
        ((0.0, 0.0, 0.0, 0.5, 0.3), SELF),
        ((0.6, 0.3, 0.0, 0.0, 0.79), SPECIAL),
        ((0.6, 0.3, 0.0, 0.0, 0.8), BROAD),
        ((0.55, 0.0, 0.6, 0.0, 0.1), NEXT),
        ((0.3, 0.3, 0.3, 0.1, 0.5), MIXED),
    ],
)
def test_thresholds_half_the_attention_and_four_fifths_of_uniform_entropy(shares, pattern):
    assert name_pattern(*shares) == pattern


def test_near_uniform_means_every_head_at_95_percent_of_uniform_entropy():
    def with_entropy(values):
        entropy = np.array([values])
        zeros = np.zeros_like(entropy)
        return HeadPatterns("bert", (), zeros, zeros, zeros, zeros, entropy, ((BROAD,) * len(values),), 10)

    assert with_entropy([0.95, 1.0]).near_uniform
    assert not with_entropy([0.949, 1.0]).near_uniform


def brute_force(maps: AttentionMaps) -> dict[str, np.ndarray]:
    """The five measures, query by query in plain loops, from the definitions in HeadPatterns' docstring."""
    sums = {name: np.zeros((maps.num_layers, maps.num_heads)) for name in ("special", "prev", "next", "self", "ent")}
    queries = neighbours = 0
    for b in range(maps.batch_size):
        real = [p for p in range(maps.seq_len) if maps.attention_mask[b, p]]
        special = [p for p in real if maps.special_tokens_mask[b, p]]
        for i, q in enumerate(real):
            for layer in range(maps.num_layers):
                row = maps.weights[b, layer][:, q, real].astype(np.float64)  # (heads, n)
                row = row / row.sum(axis=1, keepdims=True)
                share = dict(zip(real, row.T, strict=True))
                sums["special"][layer] += sum(share[k] for k in special)
                sums["self"][layer] += share[q]
                if i > 0:
                    sums["prev"][layer] += share[real[i - 1]]
                if i < len(real) - 1:
                    sums["next"][layer] += share[real[i + 1]]
                seen = len(real)
                if maps.attention_window is not None:
                    glob = maps.global_attention_mask[b]
                    half = maps.attention_window[layer] // 2
                    seen = sum(1 for k in real if abs(k - q) <= half or glob[k] or glob[q])
                entropy = -np.sum(np.where(row > 0, row * np.log(np.where(row > 0, row, 1.0)), 0.0), axis=1)
                sums["ent"][layer] += entropy / math.log(seen) if seen > 1 else 1.0
            queries += 1
            neighbours += i > 0
    divisors = {"special": queries, "self": queries, "ent": queries, "prev": neighbours, "next": neighbours}
    return {name: total / divisors[name] for name, total in sums.items()}


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("role", ENCODER_ROLES)
def test_measures_match_a_query_by_query_reference_on_the_kits_models(store, role, padding_side):
    chosen = ("<s>", "park") if role == "longformer" else ()
    maps = extract_attention(
        store.model(role, attn_implementation="eager"),
        store.tokenizer(role),
        ORDINARY[:3],
        padding_side=padding_side,
        global_tokens=chosen,
    )
    patterns = measure_head_patterns(maps)
    expected = brute_force(maps)
    for name, measured in [
        ("special", patterns.on_special),
        ("prev", patterns.on_previous),
        ("next", patterns.on_next),
        ("self", patterns.on_self),
        ("ent", patterns.entropy),
    ]:
        np.testing.assert_allclose(measured, expected[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_untrained_kit_models_have_near_uniform_heads(store):
    for role in ("roberta", "longformer"):
        maps = extract_attention(store.model(role, attn_implementation="eager"), store.tokenizer(role), ORDINARY)
        patterns = measure_head_patterns(maps)
        assert patterns.near_uniform, role
        assert {name for row in patterns.patterns for name in row} == {BROAD}


@pytest.fixture(scope="module")
def minilm_maps(real_kit, store):
    return extract_attention(store.model("bert", attn_implementation="eager"), store.tokenizer("bert"), ORDINARY)


def test_minilm_has_a_previous_token_head_on_ordinary_sentences(minilm_maps):
    patterns = measure_head_patterns(minilm_maps)
    assert patterns.heads(PREVIOUS)
    layer, head = patterns.heads(PREVIOUS)[0]
    # From the maps: in every sentence, nine in ten of its queries put their largest weight on i-1.
    for b in range(minilm_maps.batch_size):
        real = np.flatnonzero(minilm_maps.attention_mask[b])
        rows = minilm_maps.weights[b, layer, head][np.ix_(real[1:], real)]
        assert (rows.argmax(axis=1) == np.arange(real.size - 1)).mean() >= 0.9


def test_minilm_has_heads_that_attend_mostly_to_cls_and_sep(minilm_maps):
    patterns = measure_head_patterns(minilm_maps)
    assert patterns.special_tokens == ("[CLS]", "[SEP]")
    assert patterns.heads(SPECIAL)
    layer, head = patterns.heads(SPECIAL)[0]
    # From the maps: in every sentence, at least 60% of that head's attention lands on [CLS] and [SEP],
    # against 2/n under uniform attention.
    for b in range(minilm_maps.batch_size):
        real = np.flatnonzero(minilm_maps.attention_mask[b])
        special = real[minilm_maps.special_tokens_mask[b, real].astype(bool)]
        assert [minilm_maps.tokens[b][p] for p in special] == ["[CLS]", "[SEP]"]
        share = minilm_maps.weights[b, layer, head][np.ix_(real, special)].sum(axis=1).mean()
        assert share >= 0.6 and share >= 3 * 2 / real.size


def test_the_note_names_minilms_heads_with_their_shares(real_kit, store):
    maps = extract_attention(store.model("bert", attn_implementation="eager"), store.tokenizer("bert"), EXAMPLE_TEXTS)
    patterns = measure_head_patterns(maps)
    note = head_patterns_html(patterns)
    (layer, head), *_ = patterns.heads(PREVIOUS)
    assert (
        f"layer {layer + 1} head {head + 1} looks at the previous token ({patterns.on_previous[layer, head]:.0%}"
        in note
    )
    assert f"{len(patterns.heads(SPECIAL))} of {maps.num_layers * maps.num_heads} heads put most" in note
    assert "[CLS]/[SEP]" in note and "untrained" not in note and "near-uniform" not in note


def test_the_note_says_an_untrained_model_is_near_uniform_only_where_measured(store):
    maps = extract_attention(store.model("roberta", attn_implementation="eager"), store.tokenizer("roberta"), ORDINARY)
    patterns = measure_head_patterns(maps)
    note = head_patterns_html(patterns, untrained=True)
    lowest = math.floor(patterns.entropy.min() * 1000) / 10
    assert "untrained" in note and f"all {patterns.num_heads} heads are near-uniform" in note
    assert f"entropy at least {lowest:.1f}% of uniform" in note
    built = head_patterns_html(measure_head_patterns(hand_built_maps((7, 5))), untrained=True)
    assert "untrained" in built and "chance" in built and "near-uniform" not in built
    assert "layer 1 head 1 looks at the previous token (100% of its attention)" in built


def test_the_note_names_hand_built_heads_and_escapes_the_special_tokens():
    note = head_patterns_html(measure_head_patterns(hand_built_maps((7, 5))))
    assert "layer 1 head 1 looks at the previous token (100% of its attention)" in note
    assert "layer 1 head 4 looks at the next token (100% of its attention)" in note
    assert "layer 1 head 5 looks at the token itself (100% of its attention)" in note
    assert "layer 1 head 2 puts most of its attention on [CLS]/[SEP] (100%)" in note
    assert "1 head is broad" in note and "untrained" not in note
    maps = hand_built_maps((5,))
    roberta = AttentionMaps(**{**maps.__dict__, "tokens": (("<s>", "a", "b", "c", "</s>"),)})
    assert "&lt;s&gt;/&lt;/s&gt;" in head_patterns_html(measure_head_patterns(roberta))
