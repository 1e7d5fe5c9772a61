"""Padding, truncation and overflow windows, checked against the tokenizer itself and its definitions."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle
from transformers.models.longformer.modeling_longformer import create_position_ids_from_input_ids
from transformers.models.roberta.modeling_roberta import RobertaEmbeddings

from seqdemo.padding import PaddingConfig, encode_batch, position_ids_for, split_text_pairs, validate_config
from seqdemo.plots.padding import KIND_COLOURS, kind_matrix, plot_batch_shapes

TEXTS = [
    "The cat sat.",
    "Padding makes every sequence in a batch the same length.",
    "Truncation cuts a long text down to max_length tokens, so the model never sees the rest of it.",
]
PAIRS = ["Who sat?", "Why pad a batch?", "What does truncation cut from a text?"]

CONFIGS = {
    "longest right": PaddingConfig(),
    "longest left": PaddingConfig(padding_side="left"),
    "max_length left": PaddingConfig(padding="max_length", max_length=24, padding_side="left"),
    "do_not_pad": PaddingConfig(padding="do_not_pad"),
    "multiple of 8": PaddingConfig(pad_to_multiple_of=8),
    "longest_first": PaddingConfig(padding="max_length", max_length=16, truncation="longest_first"),
    "longest_first left side": PaddingConfig(max_length=12, truncation="longest_first", truncation_side="left"),
    "overflow": PaddingConfig(max_length=10, truncation="longest_first", stride=3, return_overflowing_tokens=True),
    "overflow left side": PaddingConfig(
        max_length=10, truncation="longest_first", truncation_side="left", stride=2, return_overflowing_tokens=True
    ),
}
PAIR_CONFIGS = {
    "pairs longest_first": PaddingConfig(max_length=18, truncation="longest_first"),
    "pairs only_first": PaddingConfig(padding="max_length", max_length=20, truncation="only_first"),
    "pairs only_second": PaddingConfig(max_length=32, truncation="only_second", padding_side="left"),
    "pairs only_second overflow": PaddingConfig(
        max_length=32, truncation="only_second", stride=2, return_overflowing_tokens=True
    ),
}


@pytest.fixture(params=["bert", "roberta"])
def tokenizer(request, store):
    return store.tokenizer(request.param)


def reference(tokenizer, texts, pairs, config: PaddingConfig):
    """The tokenizer's own output for the same knobs (truncation_side is an attribute, not a call argument)."""
    own = copy.deepcopy(tokenizer)
    own.truncation_side = config.truncation_side
    return own(texts, pairs, **config.tokenizer_kwargs())


def content(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def family_of(tokenizer) -> str:
    return "bert" if tokenizer.pad_token_id == 0 else "roberta"


@pytest.mark.parametrize(
    ("pairs", "config"),
    [(None, config) for config in CONFIGS.values()] + [(PAIRS, config) for config in PAIR_CONFIGS.values()],
    ids=list(CONFIGS) + list(PAIR_CONFIGS),
)
def test_encoded_batch_equals_the_tokenizers_own_output(tokenizer, pairs, config):
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, pairs, config)
    expected = reference(tokenizer, TEXTS, pairs, config)
    assert [row.input_ids.tolist() for row in batch.rows] == expected["input_ids"]
    assert [row.attention_mask.tolist() for row in batch.rows] == expected["attention_mask"]
    assert [list(row.tokens) for row in batch.rows] == [
        tokenizer.convert_ids_to_tokens(i) for i in expected["input_ids"]
    ]
    if "token_type_ids" in expected:
        assert [row.token_type_ids.tolist() for row in batch.rows] == expected["token_type_ids"]
    else:
        assert all(row.token_type_ids is None for row in batch.rows)
    if config.return_overflowing_tokens:
        assert batch.overflow_to_sample_mapping.tolist() == expected["overflow_to_sample_mapping"]
    else:
        assert batch.overflow_to_sample_mapping is None


def test_lengths_are_multiples_of_pad_to_multiple_of(tokenizer):
    for multiple in (3, 8):
        batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, PaddingConfig(pad_to_multiple_of=multiple))
        longest = max(len(content(tokenizer, text)) for text in TEXTS) + tokenizer.num_special_tokens_to_add()
        assert batch.shape == (len(TEXTS), -(-longest // multiple) * multiple)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pads_sit_on_the_requested_side(tokenizer, side):
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, PaddingConfig(padding_side=side))
    for row, text in zip(batch.rows, TEXTS, strict=True):
        real = len(content(tokenizer, text)) + tokenizer.num_special_tokens_to_add()
        pads = len(row.tokens) - real
        expected_mask = [0] * pads + [1] * real if side == "left" else [1] * real + [0] * pads
        assert row.attention_mask.tolist() == expected_mask
        assert (row.input_ids[row.attention_mask == 0] == tokenizer.pad_token_id).all()


def test_do_not_pad_leaves_a_ragged_batch(tokenizer):
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, PaddingConfig(padding="do_not_pad"))
    specials = tokenizer.num_special_tokens_to_add()
    assert batch.lengths == tuple(len(content(tokenizer, text)) + specials for text in TEXTS)
    assert batch.shape is None and batch.pad_count == 0


def test_padding_to_max_length_without_truncation_leaves_longer_rows_longer(tokenizer):
    config = PaddingConfig(padding="max_length", max_length=8)
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config)
    specials = tokenizer.num_special_tokens_to_add()
    assert batch.lengths == tuple(max(8, len(content(tokenizer, text)) + specials) for text in TEXTS)


@pytest.mark.parametrize("side", ["right", "left"])
def test_truncation_keeps_the_head_or_the_tail_and_reports_the_rest(tokenizer, side):
    config = PaddingConfig(max_length=10, truncation="longest_first", truncation_side=side)
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config)
    room = 10 - tokenizer.num_special_tokens_to_add()
    for row, coverage, text in zip(batch.rows, batch.coverage, TEXTS, strict=True):
        assert len(row.tokens) <= 10
        full = content(tokenizer, text)
        kept = row.input_ids[(row.special_tokens_mask == 0) & (row.attention_mask == 1)].tolist()
        cut = max(len(full) - room, 0)
        assert kept == (full[cut:] if side == "left" else full[: len(full) - cut])
        lost = full[:cut] if side == "left" else full[len(full) - cut :]
        assert coverage.truncated == tuple(tokenizer.convert_ids_to_tokens(lost))


def test_only_second_leaves_the_first_text_whole(tokenizer):
    config = PaddingConfig(max_length=32, truncation="only_second")
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, PAIRS, config)
    assert all(not coverage.truncated for coverage in batch.coverage)
    assert any(coverage.truncated for coverage in batch.pair_coverage)
    for row, text in zip(batch.rows, TEXTS, strict=True):
        assert len(row.tokens) <= 32
        first = [token for token, special in zip(row.tokens, row.special_tokens_mask, strict=True) if not special]
        assert first[: len(content(tokenizer, text))] == tokenizer.convert_ids_to_tokens(content(tokenizer, text))


def test_truncation_without_max_length_falls_back_to_model_max_length(store):
    tokenizer = store.tokenizer("bert")
    long_text = " ".join(["padding"] * (tokenizer.model_max_length + 50))
    batch = encode_batch(tokenizer, "bert", [long_text, "short"], None, PaddingConfig(truncation="longest_first"))
    assert batch.shape == (2, tokenizer.model_max_length)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("role", ["roberta", "longformer"])
def test_roberta_position_ids_count_real_tokens_from_pad_id_plus_one(store, role, side):
    tokenizer = store.tokenizer(role)
    batch = encode_batch(tokenizer, role, TEXTS, None, PaddingConfig(padding_side=side))
    ids = torch.tensor(np.stack([row.input_ids for row in batch.rows]))
    pad = tokenizer.pad_token_id
    roberta = RobertaEmbeddings.create_position_ids_from_input_ids(ids, pad).numpy()
    longformer = create_position_ids_from_input_ids(ids, pad).numpy()
    ours = np.stack([row.position_ids for row in batch.rows])
    np.testing.assert_array_equal(ours, roberta)
    np.testing.assert_array_equal(ours, longformer)
    for row in batch.rows:
        real = row.attention_mask == 1
        assert row.position_ids[real].tolist() == list(range(pad + 1, pad + 1 + int(real.sum())))
        assert (row.position_ids[~real] == pad).all()


def test_bert_position_ids_are_slot_numbers_even_under_left_padding(store):
    batch = encode_batch(store.tokenizer("bert"), "bert", TEXTS, None, PaddingConfig(padding_side="left"))
    for row in batch.rows:
        assert row.position_ids.tolist() == list(range(len(row.tokens)))
    first_real = [int(np.argmax(row.attention_mask)) for row in batch.rows]
    assert [row.position_ids[i] for row, i in zip(batch.rows, first_real, strict=True)] == first_real


def test_position_ids_need_a_known_family():
    with pytest.raises(ValueError, match="gpt2"):
        position_ids_for("gpt2", np.zeros((1, 3), dtype=np.int64), 0)


def test_bert_pairs_have_token_type_ids_zeros_then_ones(store):
    tokenizer = store.tokenizer("bert")
    batch = encode_batch(tokenizer, "bert", TEXTS, PAIRS, PaddingConfig())
    for row, text, pair in zip(batch.rows, TEXTS, PAIRS, strict=True):
        first, second = len(content(tokenizer, text)) + 2, len(content(tokenizer, pair)) + 1  # [CLS] A [SEP] / B [SEP]
        pads = len(row.tokens) - first - second
        assert row.token_type_ids.tolist() == [0] * first + [1] * second + [tokenizer.pad_token_type_id] * pads


def test_roberta_pairs_have_no_token_type_ids_and_the_double_separator_format(store):
    tokenizer = store.tokenizer("roberta")
    batch = encode_batch(tokenizer, "roberta", TEXTS, PAIRS, PaddingConfig(padding="do_not_pad"))
    for row, text, pair in zip(batch.rows, TEXTS, PAIRS, strict=True):
        assert row.token_type_ids is None
        a = tokenizer.convert_ids_to_tokens(content(tokenizer, text))
        b = tokenizer.convert_ids_to_tokens(content(tokenizer, pair))
        bos, eos = tokenizer.bos_token, tokenizer.eos_token
        assert list(row.tokens) == [bos, *a, eos, eos, *b, eos]


@pytest.mark.parametrize(("max_length", "stride"), [(10, 3), (8, 0), (12, 5)])
def test_overflow_windows_overlap_by_stride_and_reassemble_the_text(tokenizer, max_length, stride):
    config = PaddingConfig(
        max_length=max_length, truncation="longest_first", stride=stride, return_overflowing_tokens=True
    )
    batch = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config)
    width = max_length - tokenizer.num_special_tokens_to_add()
    for sample, text in enumerate(TEXTS):
        full = content(tokenizer, text)
        rows = [row for row in batch.rows if row.sample == sample]
        assert [row.window for row in rows] == list(range(len(rows)))
        windows = [row.input_ids[(row.special_tokens_mask == 0) & (row.attention_mask == 1)].tolist() for row in rows]
        step = width - stride
        assert windows == [full[start : start + width] for start in range(0, max(len(full) - stride, 1), step)]
        assert windows[0] + [token for window in windows[1:] for token in window[stride:]] == full
        assert all(len(row.tokens) <= max_length for row in rows)
        assert [int(row.overlap.sum()) for row in rows] == [0] + [stride] * (len(rows) - 1)
        assert not batch.coverage[sample].truncated


def test_overflow_of_pairs_slides_over_the_second_text_only(store):
    tokenizer = store.tokenizer("bert")
    config = PaddingConfig(max_length=16, truncation="only_second", stride=2, return_overflowing_tokens=True)
    batch = encode_batch(tokenizer, "bert", PAIRS, TEXTS, config)
    for row in batch.rows:
        first = row.input_ids[(row.attention_mask == 1) & (row.token_type_ids == 0) & ~row.special_tokens_mask]
        assert first.tolist() == content(tokenizer, PAIRS[row.sample])  # the question rides along whole
        assert not row.overlap[row.token_type_ids == 0].any()
    assert batch.overflow_to_sample_mapping.tolist() == [row.sample for row in batch.rows]
    assert sorted(set(batch.overflow_to_sample_mapping.tolist())) == list(range(len(PAIRS)))


def test_emoji_and_non_latin_scripts_encode_and_reassemble(tokenizer):
    texts = ["Emoji 😀🎉 and 👩‍👩‍👧 families", "日本語のテキスト", "Ελληνικά και русский текст", "مرحبا بالعالم"]
    config = PaddingConfig(max_length=8, truncation="longest_first", stride=2, return_overflowing_tokens=True)
    batch = encode_batch(tokenizer, family_of(tokenizer), texts, None, config)
    for sample, text in enumerate(texts):
        windows = [row for row in batch.rows if row.sample == sample]
        content_ids = [row.input_ids[(row.special_tokens_mask == 0) & (row.attention_mask == 1)] for row in windows]
        rebuilt = content_ids[0].tolist() + [i for ids in content_ids[1:] for i in ids[2:].tolist()]
        assert rebuilt == content(tokenizer, text)


def test_describe_says_side_length_and_what_is_cut():
    config = PaddingConfig(padding="max_length", max_length=16, padding_side="left", truncation="longest_first")
    assert "left to 16 tokens" in config.describe()
    assert "truncates to 16 tokens from the end" in config.describe()
    assert "never truncates" in PaddingConfig().describe()
    fallback = PaddingConfig(truncation="longest_first").describe(model_max_length=512)
    assert "model_max_length (512 tokens, as max_length is empty)" in fallback
    overflow = PaddingConfig(max_length=12, truncation="only_second", stride=4, return_overflowing_tokens=True)
    assert "second text" in overflow.describe() and "overlapping by 4" in overflow.describe()


INVALID = [
    (PaddingConfig(max_length=0), False, "positive number"),
    (PaddingConfig(max_length=-3, truncation="longest_first"), False, "positive number"),
    (PaddingConfig(max_length=100_000), False, "model_max_length"),
    (PaddingConfig(padding="max_length"), False, "needs a max_length"),
    (PaddingConfig(pad_to_multiple_of=0), False, "pad_to_multiple_of"),
    (PaddingConfig(max_length=10, truncation="only_first"), False, "no second texts"),
    (PaddingConfig(max_length=10, truncation="only_second"), False, "no second texts"),
    (PaddingConfig(max_length=10, truncation="longest_first", stride=2), False, "tick return_overflowing_tokens"),
    (PaddingConfig(stride=-1), False, "0 or more"),
    (PaddingConfig(return_overflowing_tokens=True), False, "needs truncation"),
    (
        PaddingConfig(max_length=8, truncation="longest_first", stride=6, return_overflowing_tokens=True),
        False,
        "stride",
    ),
    (PaddingConfig(max_length=2, truncation="longest_first"), False, "no room"),
    (PaddingConfig(max_length=3, truncation="longest_first"), True, "no room"),
    (
        PaddingConfig(max_length=16, truncation="longest_first", stride=2, return_overflowing_tokens=True),
        True,
        "only_first or only_second",
    ),
    (PaddingConfig(max_length=20, truncation="longest_first", pad_to_multiple_of=8), False, "multiple"),
    (PaddingConfig(padding="sideways"), False, "padding='sideways'"),
    (PaddingConfig(truncation_side="middle", truncation="longest_first"), False, "truncation_side"),
]


@pytest.mark.parametrize(("config", "has_pairs", "message"), INVALID, ids=[m for _, _, m in INVALID])
def test_invalid_combinations_raise_one_clear_sentence(tokenizer, config, has_pairs, message):
    with pytest.raises(ValueError, match=message) as caught:
        validate_config(config, tokenizer, has_pairs)
    assert "\n" not in str(caught.value)
    pairs = PAIRS if has_pairs else None
    with pytest.raises(ValueError, match=message):
        encode_batch(tokenizer, family_of(tokenizer), TEXTS, pairs, config)


def test_stride_must_fit_the_room_a_pair_leaves(tokenizer):
    room_taken = len(content(tokenizer, TEXTS[2])) + tokenizer.num_special_tokens_to_add(pair=True)
    config = PaddingConfig(max_length=room_taken + 3, truncation="only_first", stride=3, return_overflowing_tokens=True)
    with pytest.raises(ValueError, match="Text 3: only 3 tokens are left"):
        encode_batch(tokenizer, family_of(tokenizer), PAIRS, TEXTS, config)
    encode_batch(tokenizer, family_of(tokenizer), PAIRS, TEXTS, replace(config, stride=2))


def test_only_second_cannot_cut_when_the_first_text_fills_max_length(tokenizer):
    config = PaddingConfig(max_length=12, truncation="only_second")
    with pytest.raises(ValueError, match="Text 2: its first text alone"):
        encode_batch(tokenizer, family_of(tokenizer), TEXTS, PAIRS, config)


def test_truncation_needs_max_length_when_the_tokenizer_has_no_model_max_length(store):
    tokenizer = copy.deepcopy(store.tokenizer("bert"))
    tokenizer.model_max_length = int(1e30)
    with pytest.raises(ValueError, match="no model_max_length"):
        validate_config(PaddingConfig(truncation="longest_first"), tokenizer, has_pairs=False)


def test_an_error_from_the_tokenizer_becomes_one_line(store):
    tokenizer = copy.deepcopy(store.tokenizer("roberta"))
    tokenizer.pad_token = None
    with pytest.raises(ValueError, match="^The tokenizer refused this configuration: Asking to pad") as caught:
        encode_batch(tokenizer, "roberta", TEXTS, None, PaddingConfig())
    assert "\n" not in str(caught.value)


def test_a_rust_panic_from_the_tokenizer_becomes_a_value_error(bert_tokenizer):
    class PanicException(BaseException):  # what tokenizers raises from Rust, outside Exception
        pass

    class Panicking:
        """The real tokenizer, except that encoding with special tokens panics."""

        def __getattr__(self, name):
            return getattr(bert_tokenizer, name)

        def __call__(self, *args, **kwargs):
            if kwargs.get("add_special_tokens") is False:
                return bert_tokenizer(*args, **kwargs)
            raise PanicException("`stride` must be strictly less than `max_len`\nstack backtrace: ...")

    with pytest.raises(ValueError, match=r"refused this configuration: `stride` must be strictly less than `max_len`$"):
        encode_batch(Panicking(), "bert", TEXTS, None, PaddingConfig())


def test_truncation_side_is_restored_after_encoding(bert_tokenizer):
    before = bert_tokenizer.truncation_side
    config = PaddingConfig(max_length=8, truncation="longest_first", truncation_side="left")
    encode_batch(bert_tokenizer, "bert", TEXTS, None, config)
    assert bert_tokenizer.truncation_side == before == "right"


def test_mismatched_pairs_raise(tokenizer):
    with pytest.raises(ValueError, match="3 texts but 2 second texts"):
        encode_batch(tokenizer, family_of(tokenizer), TEXTS, PAIRS[:2], PaddingConfig())
    with pytest.raises(ValueError, match="3 texts but 2 second texts"):
        split_text_pairs("\n".join(TEXTS), "\n".join(PAIRS[:2]))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "at least one text"),
        ("   \n\n  ", "at least one text"),
        ("\n".join(["word"] * 1000), "1,000 texts"),
        ("x" * 100_000, "100,000 characters"),
    ],
)
def test_bad_text_input_raises_with_the_limits(raw, message):
    with pytest.raises(ValueError, match=message):
        split_text_pairs(raw, None)


def test_pairs_box_blank_means_single_texts():
    assert split_text_pairs("a\n\nb", "  \n ") == (["a", "b"], None)
    assert split_text_pairs("a\nb", "x\ny") == (["a", "b"], ["x", "y"])


def test_too_many_overflow_windows_are_refused_before_reading_them(tokenizer):
    config = PaddingConfig(max_length=4, truncation="longest_first", return_overflowing_tokens=True)
    full = encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config)
    with pytest.raises(ValueError, match=f"makes {len(full.rows)} rows, more than the {len(full.rows) - 1}"):
        encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config, max_rows=len(full.rows) - 1)


def test_figure_draws_each_configuration_as_its_own_rectangle(tokenizer):
    batches = {
        label: encode_batch(tokenizer, family_of(tokenizer), TEXTS, None, config)
        for label, config in [("A", CONFIGS["longest left"]), ("B", CONFIGS["do_not_pad"]), ("C", CONFIGS["overflow"])]
    }
    figure = plot_batch_shapes(batches)
    assert len(figure.axes) == len(batches)
    for ax, batch in zip(figure.axes, batches.values(), strict=True):
        matrix = kind_matrix(batch)
        assert matrix.shape == (len(batch.rows), max(batch.lengths))
        for index, row in enumerate(batch.rows):
            assert [list(KIND_COLOURS)[code] for code in matrix[index].compressed()] == list(row.kinds())
            assert matrix[index].mask.sum() == max(batch.lengths) - len(row.tokens)
        outlines = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
        assert len(outlines) == (batch.shape is not None)
