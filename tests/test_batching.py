"""Batching strategies: coverage, padding counts, token budgets, order restoration, model outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import RobertaConfig, RobertaModel

from seqdemo.batching import (
    BATCHING_STRATEGIES,
    compare_batching_strategies,
    embed_batch,
    embed_texts,
    encode_truncated,
    length_grouped_order,
    plan_all,
    plan_batches,
    recommend_max_length,
    run_plan,
    run_plans,
    token_lengths,
)

TEXTS = [
    "Short.",
    "The movie was wonderful from the first scene to the last.",
    "A much longer review: " + "the plot wanders, the actors try hard, and the music is lovely. " * 12,
    "Two words",
    "Medium length text about batching sequences of different lengths together.",
    "An overlong document that must be truncated. " * 80,
    "Padding costs compute.",
]


def heavy_tailed(count: int, seed: int) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).lognormal(np.log(20), 1.0, count).round(), 1, 700).astype(int)


@pytest.fixture(scope="module")
def tiny_roberta(roberta_tokenizer) -> RobertaModel:
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(roberta_tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=roberta_tokenizer.model_max_length + roberta_tokenizer.pad_token_id + 1,
        pad_token_id=roberta_tokenizer.pad_token_id,
    )
    return RobertaModel(config, add_pooling_layer=False).eval()


@pytest.mark.parametrize("strategy", BATCHING_STRATEGIES)
@pytest.mark.parametrize(("count", "batch_size", "max_tokens"), [(1, 4, 64), (37, 8, 256), (300, 16, 1024)])
def test_every_strategy_covers_every_index_exactly_once(strategy, count, batch_size, max_tokens):
    plan = plan_batches(heavy_tailed(count, seed=count), strategy, batch_size=batch_size, max_tokens=max_tokens)
    assert sorted(plan.order.tolist()) == list(range(count))
    assert all(len(batch) > 0 for batch in plan.batches)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic", "grouped", "sorted"])
def test_batch_size_strategies_fill_every_batch_but_the_last(strategy):
    plan = plan_batches(heavy_tailed(103, seed=1), strategy, batch_size=10)
    assert [len(batch) for batch in plan.batches] == [10] * 10 + [3]


@pytest.mark.parametrize("strategy", BATCHING_STRATEGIES)
def test_padded_and_real_token_counts_equal_a_direct_count(strategy):
    lengths = heavy_tailed(90, seed=2)
    plan = plan_batches(lengths, strategy, batch_size=12, max_tokens=600, max_length=128)
    real = padded = 0
    for batch, width in zip(plan.batches, plan.widths, strict=True):
        rows = [min(int(lengths[i]), 128) for i in batch]
        assert max(rows) <= width
        real += sum(rows)
        padded += len(rows) * int(width)
    assert (plan.real_tokens, plan.padded_tokens, plan.pad_tokens) == (real, padded, padded - real)
    assert plan.padding_waste == pytest.approx((padded - real) / padded)
    largest = max(((len(b), int(w)) for b, w in zip(plan.batches, plan.widths, strict=True)), key=np.prod)
    assert plan.largest_batch_shape == largest


def test_fixed_pads_to_max_length_and_the_others_to_their_longest_text():
    lengths = heavy_tailed(50, seed=3)
    for plan in plan_all(lengths, batch_size=8, max_length=64):
        longest = [int(np.minimum(lengths[batch], 64).max()) for batch in plan.batches]
        expected = [64] * plan.batch_count if plan.strategy == "fixed" else longest
        assert plan.widths.tolist() == expected, plan.strategy


def test_lengths_longer_than_max_length_count_as_truncated():
    plan = plan_batches([3, 900, 20], "dynamic", max_length=512)
    assert plan.lengths.tolist() == [3, 512, 20]


@pytest.mark.parametrize("max_tokens", [40, 100, 513])
def test_token_budget_is_never_exceeded_except_by_one_sequence_alone(max_tokens):
    lengths = heavy_tailed(200, seed=4)
    plan = plan_batches(lengths, "budget", max_tokens=max_tokens)
    for batch, width in zip(plan.batches, plan.widths, strict=True):
        assert len(batch) * width <= max_tokens or (len(batch) == 1 and width > max_tokens)
    assert any(width > max_tokens for width in plan.widths) == bool((plan.lengths > max_tokens).any())


def test_token_budget_batches_are_as_full_as_the_budget_allows():
    plan = plan_batches(heavy_tailed(200, seed=5), "budget", max_tokens=300)
    for batch, width, following in zip(plan.batches, plan.widths, plan.batches[1:], strict=False):
        wider = max(int(width), int(plan.lengths[following[0]]))
        assert (len(batch) + 1) * wider > 300


def test_sorted_runs_from_longest_to_shortest():
    plan = plan_batches(heavy_tailed(120, seed=6), "sorted", batch_size=16)
    in_order = plan.lengths[plan.order]
    assert (np.diff(in_order) <= 0).all()


def test_grouped_sorts_within_each_mega_batch_of_a_shuffle():
    lengths = heavy_tailed(500, seed=7)
    order = length_grouped_order(lengths, batch_size=10, mega_batch_mult=5, seed=3)
    mega = 50
    for start in range(0, len(order), mega):
        assert (np.diff(lengths[order[start : start + mega]]) <= 0).all()
    assert sorted(order.tolist()) == list(range(500))
    assert order.tolist() != length_grouped_order(lengths, batch_size=10, mega_batch_mult=5, seed=4).tolist()


def test_grouped_with_a_single_mega_batch_is_fully_sorted():
    lengths = heavy_tailed(64, seed=8)
    order = length_grouped_order(lengths, batch_size=8, mega_batch_mult=8)
    assert lengths[order].tolist() == sorted(lengths.tolist(), reverse=True)


@pytest.mark.parametrize("strategy", BATCHING_STRATEGIES)
def test_restore_returns_rows_to_the_callers_order(strategy):
    lengths = heavy_tailed(77, seed=9)
    plan = plan_batches(lengths, strategy, batch_size=8, max_tokens=200)
    rows_in_batch_order = np.stack([plan.order * 10, lengths[plan.order]], axis=1)
    restored = plan.restore(rows_in_batch_order)
    assert restored.tolist() == np.stack([np.arange(77) * 10, lengths], axis=1).tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "random"}, "Unknown batching strategy"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"max_tokens": None}, "max_tokens must be"),
        ({"max_length": 2.5}, "max_length must be"),
        ({"lengths": []}, "at least one sequence"),
        ({"lengths": [3, 0]}, "at least one token"),
    ],
)
def test_bad_settings_raise_one_clear_sentence(kwargs, message):
    arguments = {"lengths": [5, 9], "strategy": "sorted"} | kwargs
    with pytest.raises(ValueError, match=message):
        plan_batches(**arguments)


def test_token_lengths_are_the_tokenizers_own_counts(roberta_tokenizer, bert_tokenizer):
    for tokenizer in (roberta_tokenizer, bert_tokenizer):
        expected = [len(tokenizer(text)["input_ids"]) for text in TEXTS]
        assert token_lengths(tokenizer, TEXTS).tolist() == expected


def test_recommended_max_length_is_the_smallest_multiple_of_8_covering_the_quantile():
    lengths = heavy_tailed(1000, seed=10)
    advice = recommend_max_length(lengths, model_max_length=512, quantile=0.95)
    assert advice.max_length % 8 == 0
    assert (lengths <= advice.max_length).mean() >= 0.95
    assert (lengths <= advice.max_length - 8).mean() < 0.95
    assert advice.truncated_share == pytest.approx((lengths > advice.max_length).mean())
    assert advice.percentiles[50] == np.median(lengths)


def test_recommended_max_length_is_capped_at_the_model_maximum():
    lengths = np.array([600, 700, 800, 20])
    advice = recommend_max_length(lengths, model_max_length=512)
    assert advice.max_length == 512
    assert advice.truncated_share == pytest.approx(3 / 4)


def single_text_embeddings(model, input_ids, tokenizer) -> np.ndarray:
    with torch.inference_mode():
        return torch.cat([embed_batch(model, [ids], len(ids), tokenizer) for ids in input_ids]).numpy()


@pytest.mark.parametrize("strategy", BATCHING_STRATEGIES)
def test_batched_outputs_equal_one_text_at_a_time_in_the_callers_order(strategy, tiny_roberta, roberta_tokenizer):
    input_ids = encode_truncated(roberta_tokenizer, TEXTS, max_length=128)
    lengths = token_lengths(roberta_tokenizer, TEXTS)
    plan = plan_batches(lengths, strategy, batch_size=3, max_tokens=160, max_length=128)
    run = run_plan(tiny_roberta, input_ids, plan, roberta_tokenizer)
    alone = single_text_embeddings(tiny_roberta, input_ids, roberta_tokenizer)
    np.testing.assert_allclose(run.embeddings, alone, atol=1e-5, rtol=0)
    assert run.real_tokens == sum(len(ids) for ids in input_ids)
    assert run.tokens_per_second == pytest.approx(run.real_tokens / run.seconds)


def test_run_plan_refuses_a_plan_made_for_other_texts(tiny_roberta, roberta_tokenizer):
    input_ids = encode_truncated(roberta_tokenizer, TEXTS, max_length=512)
    plan = plan_batches(token_lengths(roberta_tokenizer, TEXTS), "sorted", max_length=64)
    with pytest.raises(ValueError, match="other sequences"):
        run_plan(tiny_roberta, input_ids, plan, roberta_tokenizer)


def test_run_plans_interleaves_batches_so_every_plan_does_its_work_at_the_same_pace(tiny_roberta, roberta_tokenizer):
    lengths = np.minimum(heavy_tailed(80, seed=11), 64)
    input_ids = [[5] * int(length) for length in lengths]
    plans = plan_all(lengths, batch_size=4, max_tokens=128, max_length=64)
    calls = []
    runs = run_plans(
        tiny_roberta, input_ids, plans, roberta_tokenizer, warm_up=True, on_batch=lambda *call: calls.append(call)
    )
    total = sum(plan.batch_count for plan in plans)
    assert [(step, every) for _, step, every in calls] == [(step, total) for step in range(1, total + 1)]
    by_name = {plan.strategy: plan for plan in plans}
    cells = {plan.strategy: [len(b) * int(w) for b, w in zip(plan.batches, plan.widths, strict=True)] for plan in plans}
    largest_step = max(max(sizes) / by_name[name].padded_tokens for name, sizes in cells.items())
    done = dict.fromkeys(BATCHING_STRATEGIES, 0)
    for strategy, _, _ in calls:
        done[strategy] += 1
        shares = [sum(cells[name][: done[name]]) / by_name[name].padded_tokens for name in BATCHING_STRATEGIES]
        assert max(shares) - min(shares) <= largest_step + 1e-9
    assert done == {plan.strategy: plan.batch_count for plan in plans}
    assert [run.strategy for run in runs] == list(BATCHING_STRATEGIES)
    for run in runs[1:]:
        np.testing.assert_allclose(run.embeddings, runs[0].embeddings, atol=1e-5, rtol=0)


def test_a_plan_over_the_first_texts_runs_beside_a_plan_over_all(tiny_roberta, roberta_tokenizer):
    input_ids = encode_truncated(roberta_tokenizer, TEXTS, max_length=64)
    lengths = token_lengths(roberta_tokenizer, TEXTS)
    sample = plan_batches(lengths[:3], "fixed", batch_size=2, max_length=64)
    whole = plan_batches(lengths, "sorted", batch_size=2, max_length=64)
    first, every = run_plans(tiny_roberta, input_ids, [sample, whole], roberta_tokenizer)
    assert (first.embeddings.shape[0], every.embeddings.shape[0]) == (3, len(TEXTS))
    np.testing.assert_allclose(first.embeddings, every.embeddings[:3], atol=1e-5, rtol=0)


def test_embed_texts_returns_one_row_per_text_in_the_callers_order(tiny_roberta, roberta_tokenizer):
    embeddings = embed_texts(tiny_roberta, roberta_tokenizer, TEXTS, "sorted", batch_size=3, max_length=100)
    alone = single_text_embeddings(
        tiny_roberta, encode_truncated(roberta_tokenizer, TEXTS, max_length=100), roberta_tokenizer
    )
    np.testing.assert_allclose(embeddings, alone, atol=1e-5, rtol=0)


def test_a_tokenizer_without_a_pad_token_is_refused(tiny_roberta, roberta_tokenizer):
    unpadded = roberta_tokenizer.__class__.from_pretrained(roberta_tokenizer.name_or_path)
    unpadded.pad_token = None
    with pytest.raises(ValueError, match="no pad token"):
        embed_texts(tiny_roberta, unpadded, TEXTS)


def test_compare_strategies_plans_every_strategy_on_the_tokenizers_lengths(bert_tokenizer):
    report = compare_batching_strategies(bert_tokenizer, TEXTS, batch_size=2, max_length=64)
    assert [plan.strategy for plan in report.plans] == list(BATCHING_STRATEGIES)
    assert report.lengths.tolist() == token_lengths(bert_tokenizer, TEXTS).tolist()
    assert report.advice.model_max_length == bert_tokenizer.model_max_length


@pytest.mark.parametrize("max_length", [1, 513])
def test_compare_strategies_rejects_a_max_length_the_model_cannot_take(roberta_tokenizer, max_length):
    with pytest.raises(ValueError, match="max_length must be between 3 and the model's maximum of 512"):
        compare_batching_strategies(roberta_tokenizer, TEXTS, max_length=max_length)


def test_benchmark_lengths_have_the_asked_median_and_tail():
    from benchmarks.batching import heavy_tailed_lengths

    lengths = heavy_tailed_lengths(200_000, seed=0, median=30, p99=330, max_length=512)
    assert np.median(lengths) == pytest.approx(30, abs=1)
    assert np.percentile(lengths, 99) == pytest.approx(330, rel=0.05)
    assert lengths.max() == 512


@pytest.mark.slow
def test_benchmark_reports_every_strategy_and_the_reference_with_consistent_ratios():
    from benchmarks.batching import REFERENCE, REFERENCE_BUDGET, heavy_tailed_lengths, run_benchmark

    result = run_benchmark(texts=24, batch_size=8, max_tokens=512, fixed_batches=1, layers=1, seed=0)
    rows = result["strategies"]
    assert list(rows) == [*BATCHING_STRATEGIES, REFERENCE, REFERENCE_BUDGET]
    lengths = heavy_tailed_lengths(24, seed=0)
    for name in BATCHING_STRATEGIES:
        plan = plan_batches(lengths, name, batch_size=8, max_tokens=512, seed=0)
        assert (rows[name]["padded_tokens"], rows[name]["batches"]) == (plan.padded_tokens, plan.batch_count)
    speed = {name: row["real_tokens_per_second"] for name, row in rows.items()}
    for name, row in rows.items():
        assert row["vs_fixed"] == pytest.approx(speed[name] / speed["fixed"], abs=0.01)
        assert row["vs_transformers_grouped"] == pytest.approx(speed[name] / speed[REFERENCE], abs=0.01)
        assert row["max_abs_diff_vs_dynamic"] < 1e-4
    assert result["targets"]["best_strategy"] == max(list(BATCHING_STRATEGIES)[1:], key=speed.get)
