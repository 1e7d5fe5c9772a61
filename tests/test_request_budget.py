"""One request's budget: work counted in model tokens, each distinct sequence once, refused before it runs.

The planner's counts are checked against brute force: every sequence a request runs, built the way
the long-document code builds it, deduplicated by its token ids. The pair is the kit's, and a
Space-sized pair (the kit's tokenizers with the Hub checkpoints' windows: 512 and 4096 tokens).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from transformers import LongformerConfig, RobertaConfig

from seqdemo.batching import token_lengths
from seqdemo.errors import InputError
from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    SHORT_ROLE,
    Classifier,
    StrategySettings,
    encode_document,
    insert_passage,
    insertion_points,
    load_pair,
    seen_ranges,
)
from seqdemo.longdoc_budget import (
    check_comparison,
    check_sweep,
    comparison_work,
    sequence_slots,
    strategy_sequences,
    sweep_work,
)
from seqdemo.longdoc_examples import LATE, SWEEP_PASSAGE, example_document, sweep_document
from seqdemo.request_budget import REQUEST_SECONDS, SECONDS_PER_TOKEN, Work, affordable_texts, batching_work
from seqdemo.ui import batching

STRATEGIES = list(LONG_DOCUMENT_STRATEGIES)
BIG_DOCUMENT = ("The quick brown fox jumps over the lazy dog. Then it rests a while. " * 800)[:50_000]


def test_a_request_may_take_two_minutes_of_model_work():
    assert REQUEST_SECONDS == 120.0  # the promise the refusal messages make


def test_work_charges_each_models_tokens_at_its_rate():
    work = Work.of({"roberta": 1000, "short-classifier": 24, "long-classifier": 2048, "bert": 0})
    assert work.tokens == {"encoder": 1024, "longformer": 2048}
    assert work.seconds == pytest.approx(1024 * SECONDS_PER_TOKEN["encoder"] + 2048 * SECONDS_PER_TOKEN["longformer"])
    assert SECONDS_PER_TOKEN["longformer"] > SECONDS_PER_TOKEN["encoder"]  # windowed attention costs more a token


@pytest.fixture(scope="module")
def kit_pair(store):
    return load_pair(store)


@pytest.fixture(scope="module")
def space_pair(kit_pair):
    """The kit's tokenizers in classifiers with the Space's windows; no weights: the planner reads no model."""
    short, long = kit_pair[SHORT_ROLE], kit_pair[LONG_ROLE]
    return {
        SHORT_ROLE: Classifier(
            SHORT_ROLE, short.tokenizer, SimpleNamespace(config=RobertaConfig()), short.label_names, 512
        ),
        LONG_ROLE: Classifier(
            LONG_ROLE,
            long.tokenizer,
            SimpleNamespace(config=LongformerConfig(attention_window=512), block_multiple=256),  # blocked, as served
            long.label_names,
            4096,
        ),
    }


def quarter(pair) -> StrategySettings:
    budget = pair[SHORT_ROLE].budget
    return StrategySettings(budget // 4, budget // 4, "mean")


def brute_force_slots(texts_by_copy: list[str], pair, settings: StrategySettings, extra: dict | None = None) -> dict:
    """Slots per role of every distinct sequence (by its token ids) the strategies run on `texts_by_copy`.

    `extra` adds a sequence per role: {role: (ids, slots)}. Returns {role: slots}, and under "every"
    {role: slots} of all sequences, repeats included.
    """
    distinct: dict[str, dict[tuple[int, ...], int]] = {}
    every: dict[str, int] = {}
    for key in STRATEGIES:
        classifier = pair[LONG_DOCUMENT_STRATEGIES[key].role]
        resolved = settings.resolved(classifier.budget)
        for text in texts_by_copy:
            tokens = encode_document(text, classifier.tokenizer)
            for ranges in strategy_sequences(key, seen_ranges(key, len(tokens), classifier.budget, resolved)):
                ids = tuple(int(i) for start, end in ranges for i in tokens.input_ids[start:end])
                distinct.setdefault(classifier.role, {})[ids] = sequence_slots(classifier, len(ids))
                every[classifier.role] = every.get(classifier.role, 0) + sequence_slots(classifier, len(ids))
    for role, (ids, slots) in (extra or {}).items():
        distinct.setdefault(role, {})[ids] = slots
    return {role: sum(sequences.values()) for role, sequences in distinct.items()} | {"every": every}


@pytest.mark.parametrize("pair_name", ["kit_pair", "space_pair"])
def test_a_comparison_counts_each_distinct_sequence_once(request, pair_name):
    pair = request.getfixturevalue(pair_name)
    count = lambda text: len(encode_document(text, pair[SHORT_ROLE].tokenizer))  # noqa: E731
    for document in (example_document(LATE, count, pair[SHORT_ROLE].budget, pair[LONG_ROLE].budget), "A short one."):
        work, _ = comparison_work(document, STRATEGIES, pair, quarter(pair))
        expected = brute_force_slots([document], pair, quarter(pair))
        del expected["every"]
        assert work == Work.of(expected)


def test_a_short_document_is_one_sequence_per_model(kit_pair):
    """Head, tail, head + tail and the single window all hold the whole document: the short model runs it once."""
    short, long = kit_pair[SHORT_ROLE], kit_pair[LONG_ROLE]
    tokens = len(encode_document("A short one.", short.tokenizer))
    work, _ = comparison_work("A short one.", STRATEGIES, kit_pair, quarter(kit_pair))
    assert work.tokens == {"encoder": tokens + 2, "longformer": sequence_slots(long, tokens)}


@pytest.mark.parametrize("pair_name", ["kit_pair", "space_pair"])
def test_a_sweep_counts_what_its_copies_share_once(request, pair_name):
    pair = request.getfixturevalue(pair_name)
    short = pair[SHORT_ROLE]
    count = lambda text: len(encode_document(text, short.tokenizer))  # noqa: E731
    document = sweep_document(count, short.budget, pair[LONG_ROLE].budget)
    work, costliest = sweep_work(SWEEP_PASSAGE, document, STRATEGIES, pair, 12, quarter(pair))
    points = insertion_points(encode_document(document, short.tokenizer), 12)
    copies = [insert_passage(document, SWEEP_PASSAGE, at)[0] for at in points]
    passage = tuple(int(i) for i in encode_document(SWEEP_PASSAGE, short.tokenizer).input_ids)
    expected = brute_force_slots(
        copies, pair, quarter(pair), {SHORT_ROLE: (passage, sequence_slots(short, len(passage)))}
    )
    every = expected.pop("every")
    # Spans are matched by position, ids by content: they differ only where a copy's tokens at the seam differ.
    for kind, tokens in Work.of(expected).tokens.items():
        assert work.tokens[kind] == pytest.approx(tokens, rel=0.05)
    # The short classifier's copies share most of their sequences; every Longformer copy is its own.
    assert work.tokens["encoder"] < 0.6 * every[SHORT_ROLE]
    assert work.tokens["longformer"] == every[LONG_ROLE]
    assert costliest.startswith("Most of it is ")


@pytest.mark.parametrize("pair_name", ["kit_pair", "space_pair"])
def test_the_worked_examples_fit_one_request(request, pair_name):
    pair = request.getfixturevalue(pair_name)
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    count = lambda text: len(encode_document(text, short.tokenizer))  # noqa: E731
    check_comparison(example_document(LATE, count, short.budget, long.budget), STRATEGIES, pair, quarter(pair))
    sweep = sweep_document(count, short.budget, long.budget)
    check_sweep(SWEEP_PASSAGE, sweep, STRATEGIES, pair, 12, quarter(pair))


@pytest.mark.parametrize("pair_name", ["kit_pair", "space_pair"])
def test_the_longest_document_at_the_largest_stride_is_refused_saying_what_to_reduce(request, pair_name):
    pair = request.getfixturevalue(pair_name)
    largest = StrategySettings(pair[SHORT_ROLE].budget // 4, pair[SHORT_ROLE].budget - 1, "mean")
    with pytest.raises(InputError) as refused:
        check_comparison(BIG_DOCUMENT, STRATEGIES, pair, largest)
    message = str(refused.value)
    assert message.startswith("Comparing these strategies on this document would run ")
    assert "Most of it is sliding windows (100%)" in message and "lower the sliding windows' stride" in message
    check_comparison(BIG_DOCUMENT, ["head", "tail", "head_tail", "longformer"], pair, largest)  # without windows: fine


def test_a_sweep_of_24_positions_over_the_longest_document_is_refused(kit_pair):
    largest = StrategySettings(kit_pair[SHORT_ROLE].budget // 4, kit_pair[SHORT_ROLE].budget - 1, "mean")
    with pytest.raises(
        InputError,
        match=r"^Sweeping the passage through this document at 24 positions would run .*"
        r"Use fewer positions, a shorter document, a lower stride or fewer strategies\.",
    ):
        check_sweep(SWEEP_PASSAGE, BIG_DOCUMENT, STRATEGIES, kit_pair, 24, largest)


def test_a_sweep_the_backend_refuses_anyway_is_left_to_it(kit_pair):
    check_sweep("", BIG_DOCUMENT, STRATEGIES, kit_pair, 24, quarter(kit_pair))  # no passage: sweep_needle says so
    check_sweep(SWEEP_PASSAGE, BIG_DOCUMENT, STRATEGIES, kit_pair, 99, quarter(kit_pair))  # positions: likewise
    with pytest.raises(InputError, match=r"^Passage \(the needle\): character 2 is U\+D800"):
        check_sweep("a\ud800", BIG_DOCUMENT, STRATEGIES, kit_pair, 12, quarter(kit_pair))


def test_batching_work_is_every_strategys_padded_batches_and_a_warm_up():
    lengths = np.array([10, 30, 20, 40])
    work = batching_work(lengths, "roberta", batch_size=2, max_tokens=64, max_length=32)
    fixed, dynamic, sorted_ = 4 * 32, 2 * 30 + 2 * 32, 2 * 20 + 2 * 32  # 40 is cut to max_length 32
    assert work.tokens["encoder"] > fixed + dynamic + sorted_
    assert affordable_texts(lengths, "roberta", batch_size=2, max_tokens=64, max_length=32) == 4


def test_throughput_on_too_many_long_texts_measures_the_first_ones_that_fit_and_says_so(store):
    """The issue's case: 256 texts of 3,000 words on longformer took 160 s; now one request's budget at most."""
    texts = "\n".join(" ".join(["word"] * 3000) + f" {i}" for i in range(256))
    note, *_ = batching.throughput(texts, "longformer", 16, 4096, 4096, lambda *a, **k: None, store=store)
    lengths = token_lengths(store.tokenizer("longformer"), texts.split("\n"))
    fits = affordable_texts(lengths, "longformer", batch_size=16, max_tokens=4096, max_length=4096)
    assert 0 < fits < 256
    assert note.startswith(f"Measured on the first {fits} of 256 texts with the longformer model")
    assert "more than one request's 2 min" in note
