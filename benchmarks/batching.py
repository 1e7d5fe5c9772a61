"""Real tokens per second of each batching strategy on a RoBERTa-base-sized encoder, as JSON.

Lengths are heavy-tailed (log-normal: median about 30 tokens, p99 about 330, capped at 512)
and the inputs random token ids on random weights: cost depends on shapes, not on what the
weights learnt, so nothing is downloaded; the offline kit's RoBERTa tokenizer pads the batches.
transformers' own `get_length_grouped_indices` is the reference, cut at the same batch size and
packed to the same token budget. Fixed max_length padding is timed on its first batches and
extrapolated: all its batches have one shape.

    python -m benchmarks.batching --out benchmarks/results/batching.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase, RobertaConfig, RobertaModel
from transformers.trainer_pt_utils import get_length_grouped_indices

from benchmarks.machine import describe_machine
from seqdemo.batching import (
    BATCHING_STRATEGIES,
    BatchPlan,
    plan_all,
    plan_batches,
    plan_from_batches,
    run_plans,
    split_by_size,
    split_by_token_budget,
)
from seqdemo.offline import ensure_kit
from seqdemo.settings import Settings

VOCAB_SIZE = 50_265
Z_99 = 2.3263  # the standard normal's 99th percentile
REFERENCE = "transformers_grouped"
REFERENCE_BUDGET = "transformers_grouped_budget"


def heavy_tailed_lengths(
    count: int, seed: int, median: float = 30, p99: float = 330, max_length: int = 512, min_length: int = 4
) -> np.ndarray:
    """(count,) log-normal token counts with the given median and 99th percentile, clipped to the range."""
    sigma = np.log(p99 / median) / Z_99
    draws = np.random.default_rng(seed).lognormal(np.log(median), sigma, count)
    return np.clip(np.round(draws), min_length, max_length).astype(np.int64)


def random_input_ids(lengths: np.ndarray, seed: int) -> list[list[int]]:
    """One random id sequence per length, avoiding the special ids (so no position is taken for padding)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(3, VOCAB_SIZE, size=int(length)).tolist() for length in lengths]


def padding_tokenizer() -> PreTrainedTokenizerBase:
    """The offline kit's RoBERTa tokenizer, which pads the batches: its `<pad>` is RoBERTa's id 1.

    Ids 0..2 are `<s>`, `<pad>`, `</s>` and never drawn at random.
    """
    settings = Settings.from_env()
    return AutoTokenizer.from_pretrained(ensure_kit(settings.kit_dir, settings.parts_dir) / "roberta")


def roberta_base(layers: int, seed: int) -> RobertaModel:
    """RoBERTa-base's architecture (hidden 768, 12 heads, FFN 3072, 514 positions) with random weights."""
    torch.manual_seed(seed)
    config = RobertaConfig(vocab_size=VOCAB_SIZE, num_hidden_layers=layers, max_position_embeddings=514)
    return RobertaModel(config, add_pooling_layer=False).eval()


def reference_plans(lengths: np.ndarray, batch_size: int, max_tokens: int, seed: int) -> tuple[BatchPlan, ...]:
    """transformers' length-grouped order, cut into `batch_size` rows and packed to `max_tokens`."""
    generator = torch.Generator().manual_seed(seed)
    order = np.array(get_length_grouped_indices(lengths.tolist(), batch_size, generator=generator))
    return (
        plan_from_batches(REFERENCE, lengths, split_by_size(order, batch_size)),
        plan_from_batches(REFERENCE_BUDGET, lengths, split_by_token_budget(order, lengths, max_tokens)),
    )


def _row(plan: BatchPlan, seconds: float, measured_on: str, max_abs_diff: float) -> dict[str, object]:
    return {
        "real_tokens": plan.real_tokens,
        "padded_tokens": plan.padded_tokens,
        "padding_waste": round(plan.padding_waste, 4),
        "batches": plan.batch_count,
        "largest_batch_shape": list(plan.largest_batch_shape),
        "seconds": round(seconds, 2),
        "real_tokens_per_second": round(plan.real_tokens / seconds, 1),
        "measured_on": measured_on,
        "max_abs_diff_vs_dynamic": float(f"{max_abs_diff:.3g}"),
    }


def _ratios(rows: dict[str, dict[str, object]]) -> None:
    """Speed-ups over fixed padding and over the reference; budget strategies compare at the same budget."""
    speed = {name: float(row["real_tokens_per_second"]) for name, row in rows.items()}
    for name, row in rows.items():
        same_setting = REFERENCE_BUDGET if name in ("budget", REFERENCE_BUDGET) else REFERENCE
        row["vs_fixed"] = round(speed[name] / speed["fixed"], 2)
        row["vs_transformers_grouped"] = round(speed[name] / speed[REFERENCE], 2)
        row["vs_transformers_grouped_budget"] = round(speed[name] / speed[REFERENCE_BUDGET], 2)
        row["vs_transformers_same_setting"] = round(speed[name] / speed[same_setting], 2)


def _targets(rows: dict[str, dict[str, object]]) -> dict[str, object]:
    ours = [name for name in BATCHING_STRATEGIES if name != "fixed"]
    best = max(ours, key=lambda name: float(rows[name]["real_tokens_per_second"]))
    row = rows[best]
    return {
        "best_strategy": best,
        "vs_fixed": {"value": row["vs_fixed"], "target": 8.0, "met": row["vs_fixed"] >= 8.0},
        "vs_transformers_same_setting": {
            "value": row["vs_transformers_same_setting"],
            "target": 1.2,
            "met": row["vs_transformers_same_setting"] >= 1.2,
        },
        "padding_waste": {"value": row["padding_waste"], "target": 0.10, "met": row["padding_waste"] <= 0.10},
    }


def run_benchmark(
    texts: int, batch_size: int, max_tokens: int, fixed_batches: int, layers: int, seed: int
) -> dict[str, object]:
    """Time every strategy and the transformers reference on one set of lengths; the JSON as a dict."""
    started = time.perf_counter()
    load_before = os.getloadavg()
    lengths = heavy_tailed_lengths(texts, seed)
    input_ids = random_input_ids(lengths, seed)
    model = roberta_base(layers, seed)
    ours = plan_all(lengths, batch_size=batch_size, max_tokens=max_tokens, max_length=512, seed=seed)
    fixed = ours[0]
    # every fixed batch has one shape, rows × 512, so its first batches predict the rest
    sample = plan_batches(lengths[: fixed_batches * batch_size], "fixed", batch_size=batch_size, max_length=512)
    timed = [sample, *ours[1:], *reference_plans(lengths, batch_size, max_tokens, seed)]

    def report(strategy: str, done: int, total: int) -> None:
        print(f"\r{done}/{total} batches", end="", file=sys.stderr, flush=True)

    runs = run_plans(model, input_ids, timed, padding_tokenizer(), warm_up=True, on_batch=report)
    print(file=sys.stderr)
    baseline = runs[1].embeddings
    fixed_run = runs[0]
    fixed_seconds = fixed_run.seconds * fixed.padded_tokens / sample.padded_tokens
    note = f"first {len(sample.lengths)} texts timed ({fixed_run.seconds:.1f} s), extrapolated by padded tokens"
    rows = {"fixed": _row(fixed, fixed_seconds, note, _diff(fixed_run.embeddings, baseline))}
    for plan, run in zip(timed[1:], runs[1:], strict=True):
        rows[plan.strategy] = _row(plan, run.seconds, "all texts", _diff(run.embeddings, baseline))
    _ratios(rows)
    return {
        "what": "real (non-padding) tokens per second of a RoBERTa-base-sized encoder under each batching strategy",
        "machine": describe_machine(load_before[0]),
        "settings": {
            "texts": texts,
            "batch_size": batch_size,
            "max_tokens": max_tokens,
            "max_length": 512,
            "seed": seed,
            "model": f"RobertaModel, random weights, {layers} layers, hidden 768, 12 heads, FFN 3072, fp32, CPU",
            "timing": "seqdemo.batching.run_plans: one warm-up batch, then the batches of all strategies "
            "interleaved (each next batch from the strategy least far along) so that load from other processes "
            "falls on all alike; seconds are summed batch times",
        },
        "lengths": {
            "mean": round(float(lengths.mean()), 1),
            **{f"p{p}": float(np.percentile(lengths, p)) for p in (50, 90, 99)},
            "max": int(lengths.max()),
        },
        "strategies": rows,
        "targets": _targets(rows),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def _diff(embeddings: np.ndarray, baseline: np.ndarray) -> float:
    return float(np.abs(embeddings - baseline[: len(embeddings)]).max())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000, help="number of sequences (default 1000)")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per batch for the batch-size strategies")
    parser.add_argument("--max-tokens", type=int, default=2048, help="token budget (rows × longest) per batch")
    parser.add_argument("--fixed-batches", type=int, default=4, help="batches of fixed padding to time")
    parser.add_argument("--layers", type=int, default=12, help="encoder layers (12 is RoBERTa-base)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batching.json"))
    args = parser.parse_args(argv)
    result = run_benchmark(args.texts, args.batch_size, args.max_tokens, args.fixed_batches, args.layers, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["targets"], indent=2))


if __name__ == "__main__":
    main()
