"""Long-document strategies on the offline pair: ranges, budgets, aggregation, agreement and the cliff."""

import threading

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

import seqdemo.longdoc.sweep as sweep_module
from seqdemo.inputs import InputError
from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    MAX_SWEEP_POSITIONS,
    SHORT_ROLE,
    WINDOW_BATCH_SIZE,
    StrategySettings,
    answer,
    compare_long_document_strategies,
    encode_document,
    head_tail_ranges,
    insert_passage,
    insertion_points,
    load_pair,
    measure_run,
    read_document_file,
    run_strategy,
    seen_ranges,
    sequence_logits,
    softmax,
    strategy_sequences,
    sweep_needle,
    window_ranges,
)
from seqdemo.longdoc.sweep import coarse_to_fine
from seqdemo.longdoc_examples import LATE, SHORT, SWEEP_PASSAGE, check_windows, example_documents, sweep_document
from seqdemo.offline.longdoc_task import LABEL_NAMES
from seqdemo.precision import Precision
from seqdemo.ui.longdoc import DEFAULT_POSITIONS

FLOAT32 = Precision(torch.float32, "float32")


@pytest.fixture(scope="module")
def pair(store):
    return load_pair(store)


@pytest.fixture(scope="module")
def float32_pair(store):
    """The pair in float32, for comparisons at float32's tolerances."""
    return load_pair(store, FLOAT32)


@pytest.fixture(scope="module")
def short(pair):
    return pair[SHORT_ROLE]


@pytest.fixture(scope="module")
def long(pair):
    return pair[LONG_ROLE]


@pytest.fixture(scope="module")
def examples(short, long):
    return example_documents(lambda text: len(encode_document(text, short.tokenizer)), short.budget, long.budget)


def _without_specials(ids, tokenizer):
    return [i for i in ids if i not in tokenizer.all_special_ids]


def test_limits_come_from_the_models(short, long):
    for classifier in (short, long):
        config = classifier.model.config
        assert classifier.max_length == min(
            classifier.tokenizer.model_max_length, config.max_position_embeddings - config.pad_token_id - 1
        )
        assert classifier.budget == classifier.max_length - 2


@pytest.mark.parametrize("make", [example_documents, sweep_document])
def test_examples_refuse_a_long_window_that_holds_fewer_than_four_short_ones(make):
    count = lambda text: len(text.split())  # noqa: E731
    check_windows(254, 4 * 254)  # exactly four: enough
    with pytest.raises(ValueError, match="fewer than four windows of the short one"):
        make(count, 254, 4 * 254 - 1)


def test_head_and_tail_read_what_the_tokenizer_keeps_when_it_truncates(store, short, examples):
    text = examples[LATE]
    tokens = encode_document(text, short.tokenizer)
    assert len(tokens) > short.budget
    head = run_strategy("head", tokens, short, measure=False)
    kept = short.tokenizer(text, truncation=True, max_length=short.max_length)["input_ids"]
    ((start, end),) = head.seen
    assert tokens.input_ids[start:end].tolist() == _without_specials(kept, short.tokenizer)

    left = AutoTokenizer.from_pretrained(store.checkpoint(SHORT_ROLE), truncation_side="left")
    kept = left(text, truncation=True, max_length=short.max_length)["input_ids"]
    ((start, end),) = run_strategy("tail", tokens, short, measure=False).seen
    assert tokens.input_ids[start:end].tolist() == _without_specials(kept, short.tokenizer)
    assert end == len(tokens)


@pytest.mark.parametrize("stride", [0, 50, 127])
def test_sliding_windows_are_the_tokenizers_overflow_windows(short, examples, stride):
    text = examples[LATE]
    tokens = encode_document(text, short.tokenizer)
    result = run_strategy("windows", tokens, short, StrategySettings(stride=stride), measure=False)
    overflow = short.tokenizer(
        text, truncation=True, max_length=short.max_length, stride=stride, return_overflowing_tokens=True
    )["input_ids"]
    ours = [tokens.input_ids[start:end].tolist() for start, end in result.seen]
    assert ours == [_without_specials(window, short.tokenizer) for window in overflow]


@pytest.mark.parametrize("stride", [0, 1, 37, 253])
def test_windows_overlap_by_stride_stay_in_budget_and_cover_everything(stride):
    length, budget = 1000, 254
    windows = window_ranges(length, budget, stride)
    assert windows[0][0] == 0 and windows[-1][1] == length
    assert all(end - start <= budget for start, end in windows)
    for (_, previous_end), (start, _) in zip(windows, windows[1:], strict=False):
        assert previous_end - start == stride


@pytest.mark.parametrize("stride", [-1, 254, 400])
def test_a_stride_outside_the_window_is_refused(stride):
    with pytest.raises(InputError, match="stride"):
        window_ranges(1000, 254, stride)


@pytest.mark.parametrize("head", [0, 1, 63, 200, 254])
def test_head_tail_takes_exactly_the_budget_split_as_asked(head):
    length, budget = 1000, 254
    ranges = head_tail_ranges(length, budget, head)
    assert sum(end - start for start, end in ranges) == budget
    if head:
        assert ranges[0] == (0, head)
    if head < budget:
        assert ranges[-1] == (length - (budget - head), length)


def test_head_tail_input_is_the_head_then_the_tail_between_s_and_end_s(short, examples):
    tokens = encode_document(examples[LATE], short.tokenizer)
    result = run_strategy("head_tail", tokens, short, StrategySettings(head_tokens=40), measure=False)
    assert result.seen == ((0, 40), (len(tokens) - (short.budget - 40), len(tokens)))
    assert result.tokens_processed == short.max_length


def test_a_head_larger_than_the_window_is_refused():
    with pytest.raises(InputError, match="head"):
        head_tail_ranges(1000, 254, 255)


@pytest.mark.parametrize("aggregation", ["mean", "max"])
def test_window_aggregation_matches_running_each_window_alone(float32_pair, examples, aggregation):
    short = float32_pair[SHORT_ROLE]
    tokens = encode_document(examples[LATE], short.tokenizer)
    result = run_strategy("windows", tokens, short, StrategySettings(aggregation=aggregation), measure=False)
    assert len(result.seen) > 1
    alone = []
    with torch.inference_mode():
        for start, end in result.seen:
            ids = [short.tokenizer.cls_token_id, *tokens.input_ids[start:end], short.tokenizer.sep_token_id]
            alone.append(short.model(input_ids=torch.tensor([ids])).logits[0].numpy())
    alone = np.array(alone)
    combined = alone.mean(axis=0) if aggregation == "mean" else alone.max(axis=0)
    np.testing.assert_allclose(result.sequence_logits, alone, atol=1e-5)
    np.testing.assert_allclose(result.probabilities, softmax(combined), atol=1e-6)


def test_tokens_processed_counts_specials_and_padding(short, long, examples):
    tokens = encode_document(examples[LATE], short.tokenizer)
    windows = run_strategy("windows", tokens, short, measure=False)
    longest = max(end - start for start, end in windows.seen) + 2
    assert windows.tokens_processed == len(windows.seen) * longest  # one batch, padded to its longest

    longformer = run_strategy("longformer", encode_document(examples[LATE], long.tokenizer), long, measure=False)
    block = long.attention_window // 2  # blocked attention takes multiples of its block, half the window
    assert long.pad_multiple == block
    assert longformer.tokens_processed == -(-(longformer.document_tokens + 2) // block) * block


def test_strategies_that_read_everything_agree_on_a_short_document(pair, examples):
    results = list(compare_long_document_strategies(examples[SHORT], list(LONG_DOCUMENT_STRATEGIES), pair))
    assert all(result.sees_everything for result in results)
    short_results = [result for result in results if result.role == SHORT_ROLE]
    for result in short_results[1:]:
        np.testing.assert_allclose(result.probabilities, short_results[0].probabilities, atol=1e-6)
    assert len({result.label for result in results}) == 1


def test_the_long_example_splits_the_strategies_as_its_note_says(pair, examples):
    results = {
        result.key: result
        for result in compare_long_document_strategies(examples[LATE], list(LONG_DOCUMENT_STRATEGIES), pair)
    }
    negative = LABEL_NAMES[0]
    assert results["tail"].label == results["longformer"].label == negative
    assert abs(results["head"].probabilities[0] - 0.5) < 0.15  # it never saw the verdict


def test_longformer_truncates_what_exceeds_its_window(short, long):
    filler = sweep_document(lambda text: len(encode_document(text, long.tokenizer)), short.budget, long.budget)
    tokens = encode_document(filler + " " + filler, long.tokenizer)
    assert len(tokens) > long.budget
    result = run_strategy("longformer", tokens, long, measure=False)
    assert result.seen == ((0, long.budget),) and not result.sees_everything
    assert result.seen_characters == ((0, int(tokens.offset_mapping[long.budget, 0])),)


@pytest.mark.parametrize("key", ["head", "tail", "head_tail", "windows"])
def test_the_characters_read_hold_exactly_the_tokens_read(short, examples, key):
    tokens = encode_document(examples[LATE], short.tokenizer)
    result = run_strategy(key, tokens, short, measure=False)
    starts, ends = tokens.offset_mapping[:, 0], tokens.offset_mapping[:, 1]
    for (first, stop), (begin, end) in zip(result.seen, result.seen_characters, strict=True):
        assert begin == starts[first] and (ends[first:stop] <= end).all()
        assert end == (starts[stop] if stop < len(tokens) else len(tokens.text))


def test_needle_sweep_shows_the_truncation_cliff(pair, short, long):
    count = lambda text: len(encode_document(text, short.tokenizer))  # noqa: E731
    filler = sweep_document(count, short.budget, long.budget)
    *_, sweep = sweep_needle(SWEEP_PASSAGE, filler, ["head", "longformer"], pair, positions=12)
    assert sweep.passage_label == LABEL_NAMES[1]
    assert sweep.document_tokens.max() <= long.budget  # Longformer reads every swept document whole
    inside = sweep.positions + sweep.passage_tokens <= short.budget
    outside = sweep.positions >= short.budget
    assert inside.sum() >= 2 and outside.sum() >= 4
    head = sweep.probabilities["head"]
    assert (head[inside] >= 0.9).all()
    assert (np.abs(head[outside] - 0.5) <= 0.1).all()
    assert (sweep.probabilities["longformer"] >= 0.9).all()


def test_the_tabs_default_sweep_shows_every_cliff_between_two_points(pair, short, long):
    """The worked sweep's defaults are chosen for its budget: fewer points must still show each cliff."""
    count = lambda text: len(encode_document(text, short.tokenizer))  # noqa: E731
    filler = sweep_document(count, short.budget, long.budget)
    *_, sweep = sweep_needle(SWEEP_PASSAGE, filler, ["head", "tail", "head_tail"], pair, DEFAULT_POSITIONS)
    assert len(sweep.positions) == DEFAULT_POSITIONS
    read = {key: sweep.probabilities[key] >= 0.9 for key in ("head", "tail", "head_tail")}
    guess = {key: np.abs(sweep.probabilities[key] - 0.5) <= 0.1 for key in read}
    assert (read["head"] | guess["head"]).all() and (read["tail"] | guess["tail"]).all()
    assert read["head"][0] and guess["head"][-1] and guess["tail"][0] and read["tail"][-1]
    assert read["head_tail"][[0, -1]].all() and guess["head_tail"][1:-1].any()
    assert (guess["head"] & guess["tail"]).sum() >= 2  # the stretch neither end reads
    slots = sweep.document_tokens.max() + 2  # <s> and </s>
    assert slots <= 2.5 * short.max_length  # a copy costs Longformer two and a half short windows, not three


@pytest.mark.parametrize("count", [1, 2, 3, 10, 12, 24])
def test_a_slow_curve_fills_in_coarse_to_fine(count):
    order = coarse_to_fine(count)
    assert sorted(order) == list(range(count))
    assert order[:2] == [0, count - 1][: min(count, 2)]  # its first update spans the document
    for done in range(2, count + 1):  # and at every step no gap is more than twice the narrowest possible
        chosen = sorted(order[:done])
        widest = max(b - a for a, b in zip(chosen, chosen[1:], strict=False))
        assert widest <= 2 * -(-(count - 1) // (done - 1))


def test_each_strategys_first_update_is_the_two_ends_of_the_document(pair, examples):
    updates = list(sweep_needle(SWEEP_PASSAGE, examples[LATE], ["head", "longformer"], pair, positions=6))
    for key in ("head", "longformer"):
        first = next(update for update in updates if update.done.get(key))
        computed = ~np.isnan(first.probabilities[key])
        assert first.done[key] == 2 and computed.tolist() == [True, False, False, False, False, True]


def test_sweep_streams_the_short_curves_whole_then_fills_in_longformer(pair, examples, monkeypatch):
    monkeypatch.setattr(sweep_module, "UPDATE_TOKENS", 1)  # an update for every copy that brings new work
    updates = list(sweep_needle(SWEEP_PASSAGE, examples[LATE], ["longformer", "tail", "head"], pair, positions=4))
    points = len(updates[-1].positions)
    keys = [key for update in updates for key in update.probabilities if update.done[key] < points]
    assert keys == sorted(keys, key=["head", "tail", "longformer"].index)  # cheapest first, never back
    filling = [update.done["longformer"] for update in updates if "longformer" in update.done]
    assert filling == list(range(1, points + 1))  # Longformer's points one copy at a time
    order = coarse_to_fine(points)
    for update in updates:
        for key, done in update.done.items():
            computed = ~np.isnan(update.probabilities[key])
            assert computed.sum() == done and computed[order[:done]].all()  # both ends first, then the gaps
    assert updates[-1].complete and not any(update.complete for update in updates[:-1])


def _rows_through(model):
    """A hook on `model` recording the batch size of this thread's forward calls; remove it with `.remove()`.

    Only this thread's: the app's worked examples may be computing on the same models in the background.
    """
    rows, thread = [], threading.get_ident()

    def record(module, args, kwargs):
        if threading.get_ident() == thread:
            rows.append(len(kwargs["input_ids"]))

    return rows, model.register_forward_pre_hook(record, with_kwargs=True)


def test_each_strategy_runs_the_model_once_and_every_distinct_sequence_once(pair, examples):
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    (short_rows, short_hook), (long_rows, long_hook) = _rows_through(short.model), _rows_through(long.model)
    try:
        results = {
            result.key: result
            for result in compare_long_document_strategies(examples[LATE], list(LONG_DOCUMENT_STRATEGIES), pair)
        }
    finally:
        short_hook.remove()
        long_hook.remove()
    tokens = encode_document(examples[LATE], short.tokenizer)
    settings = StrategySettings().resolved(short.budget)
    distinct = {  # every sequence the short classifier's strategies read, each once
        tuple(sequence)
        for key in ("head", "tail", "head_tail", "windows")
        for sequence in strategy_sequences(tokens, key, seen_ranges(key, len(tokens), short.budget, settings))
    }
    assert len(results["windows"].seen) <= WINDOW_BATCH_SIZE  # so each strategy fits one forward pass
    assert short_rows == [1, 1, 1, len(results["windows"].seen) - 1] and sum(short_rows) == len(distinct)
    assert long_rows == [1]
    windows, head = results["windows"], results["head"]
    assert windows.shared_with == ("head truncation",) and windows.computed_sequences == len(windows.seen) - 1
    np.testing.assert_array_equal(windows.sequence_logits[0], head.sequence_logits[0])


def test_a_model_is_warmed_up_when_it_loads_not_per_request(store, pair):
    rows, hook = _rows_through(pair[SHORT_ROLE].model)
    try:
        again = load_pair(store)
        list(compare_long_document_strategies("A short review: wonderful.", ["head"], again))
    finally:
        hook.remove()
    assert again[SHORT_ROLE].model is pair[SHORT_ROLE].model and rows == [1]


def test_the_deduplicated_batched_sweep_matches_every_copy_run_alone(float32_pair):
    short, long = float32_pair[SHORT_ROLE], float32_pair[LONG_ROLE]
    count = lambda text: len(encode_document(text, short.tokenizer))  # noqa: E731
    filler = sweep_document(count, short.budget, long.budget)
    keys = list(LONG_DOCUMENT_STRATEGIES)
    settings = StrategySettings(aggregation="max")
    rows = {role: _rows_through(classifier.model) for role, classifier in float32_pair.items()}
    try:
        *_, sweep = sweep_needle(SWEEP_PASSAGE, filler, keys, float32_pair, 8, settings)
    finally:
        for _, hook in rows.values():
            hook.remove()
    points = insertion_points(encode_document(filler, short.tokenizer), 8)
    documents = [insert_passage(filler, SWEEP_PASSAGE, at)[0] for at in points]
    index = short.label_names.index(sweep.passage_label)
    asked = {SHORT_ROLE: 1, LONG_ROLE: 0}  # the passage alone, once
    distinct: dict[str, set] = {SHORT_ROLE: set(), LONG_ROLE: set()}
    for key in keys:
        classifier = float32_pair[LONG_DOCUMENT_STRATEGIES[key].role]
        resolved = settings.resolved(classifier.budget)
        alone = []
        for text in documents:
            tokens = encode_document(text, classifier.tokenizer)
            sequences = strategy_sequences(tokens, key, seen_ranges(key, len(tokens), classifier.budget, resolved))
            logits = np.stack([sequence_logits(classifier, [sequence])[0][0] for sequence in sequences])  # one by one
            alone.append(answer(key, logits, "max")[index])
            asked[classifier.role] += len(sequences)
            distinct[classifier.role] |= {tuple(sequence) for sequence in sequences}
        np.testing.assert_allclose(sweep.probabilities[key], alone, atol=2e-5, err_msg=key)
    assert sum(rows[SHORT_ROLE][0]) == len(distinct[SHORT_ROLE]) + 1 < asked[SHORT_ROLE]
    assert sum(rows[LONG_ROLE][0]) == len(distinct[LONG_ROLE])
    assert max(rows[SHORT_ROLE][0]) > 1  # what was new ran in batches


LESSON_PRECISIONS = {  # what answer_precision picks with native bf16, and without it on a CPU with an int8 engine
    "bfloat16": Precision(torch.bfloat16, "bfloat16"),
    "int8": Precision(torch.float32, "float32 with int8 linear layers", int8_linears=True),
}


@pytest.mark.parametrize("precision", list(LESSON_PRECISIONS))
def test_the_lessons_precisions_answer_within_001_of_float32(store, float32_pair, examples, precision):
    pair = load_pair(store, LESSON_PRECISIONS[precision])
    for name in (LATE, SHORT):
        fast = list(compare_long_document_strategies(examples[name], list(LONG_DOCUMENT_STRATEGIES), pair))
        exact = list(compare_long_document_strategies(examples[name], list(LONG_DOCUMENT_STRATEGIES), float32_pair))
        for ours, reference in zip(fast, exact, strict=True):
            assert np.abs(ours.probabilities - reference.probabilities).max() <= 0.01, (name, ours.key)


def test_insertion_points_are_sentence_boundaries_spread_over_the_document(short, examples):
    text = examples[LATE]
    tokens = encode_document(text, short.tokenizer)
    points = insertion_points(tokens, 8)
    assert points[0] == 0 and points[-1] == len(text) and len(points) == 8
    assert all(text[point - 2 : point - 1] in ".!?" for point in points[1:-1])
    document, start = insert_passage(text, SWEEP_PASSAGE, points[3])
    assert document[start : start + len(SWEEP_PASSAGE)] == SWEEP_PASSAGE


@pytest.mark.parametrize("positions", [1, MAX_SWEEP_POSITIONS + 1])
def test_sweep_positions_are_capped(pair, examples, positions):
    with pytest.raises(InputError, match=str(MAX_SWEEP_POSITIONS)):
        next(sweep_needle(SWEEP_PASSAGE, examples[LATE], ["head"], pair, positions=positions))


def test_a_passage_longer_than_the_short_window_is_refused(pair, examples):
    with pytest.raises(InputError, match="Shorten it"):
        next(sweep_needle(examples[LATE], examples[LATE], ["head"], pair, positions=4))


@pytest.mark.parametrize("document", ["", "   \n "])
def test_an_empty_document_is_refused(pair, document):
    with pytest.raises(InputError, match="empty"):
        next(compare_long_document_strategies(document, ["head"], pair))


def test_no_or_unknown_strategies_are_refused(pair, examples):
    with pytest.raises(InputError, match="at least one"):
        next(compare_long_document_strategies(examples[SHORT], [], pair))
    with pytest.raises(InputError, match="Unknown strategy"):
        next(compare_long_document_strategies(examples[SHORT], ["middle"], pair))


def test_a_one_word_document_is_read_whole_by_every_strategy(pair):
    results = list(compare_long_document_strategies("Wonderful", list(LONG_DOCUMENT_STRATEGIES), pair))
    assert all(result.sees_everything and result.document_tokens >= 1 for result in results)


def test_binary_uploads_are_refused_and_text_uploads_read(tmp_path):
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\xff\xfe binary")
    with pytest.raises(InputError, match="not a text file"):
        read_document_file(binary)
    text = tmp_path / "review.txt"
    text.write_text("  A long review.\n", encoding="utf-8")
    assert read_document_file(text) == "A long review."


def test_peak_memory_counts_tensors_alive_at_once():
    def allocate():
        first = torch.empty(1000, dtype=torch.float32)  # 4,000 bytes
        second = torch.empty(2000, dtype=torch.float32)  # 8,000 bytes: 12,000 alive
        del first
        third = torch.empty(500, dtype=torch.float32)  # 2,000 bytes: 10,000 alive
        return second, third

    measured = measure_run(allocate, torch.device("cpu"))
    assert measured.peak_memory_bytes == 4000 + 8000 and "TorchDispatchMode" in measured.memory_method
    assert measured.result[0].numel() == 2000 and measured.seconds > 0


def test_peak_memory_ignores_views_and_existing_tensors():
    existing = torch.ones(10_000)
    measured = measure_run(lambda: (existing.view(100, 100), existing[:10], existing.add_(1)), torch.device("cpu"))
    assert measured.peak_memory_bytes == 0


def test_a_curve_still_filling_in_says_how_far_it_got(pair, examples, monkeypatch):
    from seqdemo.plots.longdoc import plot_needle_sweep

    monkeypatch.setattr(sweep_module, "UPDATE_TOKENS", 1)
    partial = next(
        update
        for update in sweep_needle(SWEEP_PASSAGE, examples[LATE], ["head", "longformer"], pair, positions=3)
        if update.done.get("longformer") == 1
    )
    (axes,) = plot_needle_sweep(partial).axes
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels == ["head truncation", "Longformer (1 of 3 so far)"]
