"""Long documents: which tokens each strategy lets a classifier see, what it answers, and what that costs.

One idea a module: `classifiers` (the showdown pair, its limits and precision), `strategies`
(token ranges and running a strategy), `sequences` (each distinct sequence run once per request),
`measurement` (latency and peak memory of one run), `sweep` (the needle sweep).
Everything public is importable from here, as `from seqdemo.longdoc import run_strategy`.
"""

from seqdemo.inputs import MAX_DOCUMENT_CHARS, check_document
from seqdemo.longdoc.classifiers import (
    LONG_ROLE,
    SHORT_ROLE,
    WINDOW_BATCH_SIZE,
    Classifier,
    load_classifier,
    load_pair,
    sequence_limit,
    sequence_logits,
    softmax,
    warm_up,
)
from seqdemo.longdoc.measurement import Measured, measure_run
from seqdemo.longdoc.sequences import SequenceLogits, SequenceRun
from seqdemo.longdoc.strategies import (
    AGGREGATIONS,
    LONG_DOCUMENT_STRATEGIES,
    DocumentTokens,
    Ranges,
    Strategy,
    StrategyResult,
    StrategySettings,
    aggregate_windows,
    answer,
    chosen_strategies,
    compare_long_document_strategies,
    encode_document,
    head_range,
    head_tail_ranges,
    run_strategy,
    seen_ranges,
    strategy_sequences,
    tail_range,
    window_ranges,
)
from seqdemo.longdoc.sweep import (
    MAX_SWEEP_POSITIONS,
    UPDATE_TOKENS,
    NeedleSweep,
    insert_passage,
    insertion_points,
    sweep_needle,
)
from seqdemo.uploads import read_document_file

__all__ = [
    "AGGREGATIONS",
    "LONG_DOCUMENT_STRATEGIES",
    "LONG_ROLE",
    "MAX_DOCUMENT_CHARS",
    "MAX_SWEEP_POSITIONS",
    "SHORT_ROLE",
    "UPDATE_TOKENS",
    "WINDOW_BATCH_SIZE",
    "Classifier",
    "Measured",
    "DocumentTokens",
    "NeedleSweep",
    "Ranges",
    "SequenceLogits",
    "SequenceRun",
    "Strategy",
    "StrategyResult",
    "StrategySettings",
    "aggregate_windows",
    "answer",
    "check_document",
    "chosen_strategies",
    "compare_long_document_strategies",
    "encode_document",
    "head_range",
    "head_tail_ranges",
    "insert_passage",
    "insertion_points",
    "load_classifier",
    "load_pair",
    "measure_run",
    "read_document_file",
    "run_strategy",
    "seen_ranges",
    "sequence_limit",
    "sequence_logits",
    "softmax",
    "strategy_sequences",
    "sweep_needle",
    "tail_range",
    "warm_up",
    "window_ranges",
]
