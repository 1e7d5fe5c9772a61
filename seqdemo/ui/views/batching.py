"""Tab 6's tables and text: the recommended max_length, every strategy's padding, and the measured throughput.

Tables are plain data for `gr.Dataframe`: `{"headers": [...], "data": [[...], ...]}`, one row per strategy.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdemo.batching import BATCHING_STRATEGIES, BatchingReport, MaxLengthAdvice, PlanRun
from seqdemo.plural import plural

PLAN_COLUMNS = (
    "strategy",
    "padding waste",
    "real tokens",
    "padded tokens",
    "padding tokens",
    "batches",
    "largest batch (rows × width)",
    "how",
)


def advice_markdown(advice: MaxLengthAdvice, texts: int) -> str:
    """The recommended `max_length`, what it would truncate, and the length percentiles it comes from."""
    p = advice.percentiles
    return (
        f"**Recommended `max_length` = {advice.max_length}** (p{advice.quantile * 100:g} of "
        f"{plural(texts, 'text')}, rounded up to a multiple of 8, model maximum {advice.model_max_length}): "
        f"it would truncate "
        f"**{advice.truncated_share:.1%}** of the texts. Token counts: median {p[50]:.0f}, p90 {p[90]:.0f}, "
        f"p95 {p[95]:.0f}, p99 {p[99]:.0f}, longest {p[100]:.0f}."
    )


def _table(headers: Sequence[str], rows: list[list[object]]) -> dict[str, list]:
    return {"headers": list(headers), "data": rows}


def plans_table(report: BatchingReport) -> dict[str, list]:
    """One row per strategy: its padding waste, tokens, batches and largest batch (PLAN_COLUMNS)."""
    rows = [
        [
            plan.strategy,
            f"{plan.padding_waste:.1%}",
            plan.real_tokens,
            plan.padded_tokens,
            plan.pad_tokens,
            plan.batch_count,
            "{} × {}".format(*plan.largest_batch_shape),
            BATCHING_STRATEGIES[plan.strategy],
        ]
        for plan in report.plans
    ]
    return _table(PLAN_COLUMNS, rows)


def runs_table(runs: Sequence[PlanRun]) -> dict[str, list]:
    """One row per strategy: real tokens/s, the speed-up over the first, and max |Δ| of its outputs from the first's."""
    reference = runs[0]
    headers = (
        "strategy",
        "real tokens/s",
        f"× {reference.strategy}",
        "seconds",
        "padded tokens",
        f"max |Δ| vs {reference.strategy}",
    )
    rows = [
        [
            run.strategy,
            round(run.tokens_per_second),
            round(run.tokens_per_second / reference.tokens_per_second, 1),
            round(run.seconds, 2),
            run.padded_tokens,
            f"{float(abs(run.embeddings - reference.embeddings).max()):.1e}",
        ]
        for run in runs
    ]
    return _table(headers, rows)
