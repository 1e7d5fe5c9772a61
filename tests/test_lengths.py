"""The length problem as data: counts, tokens, padding and limits, checked against the tokenizers."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from seqdemo.inputs import MAX_CHARS_PER_TEXT, MAX_TEXTS, split_texts
from seqdemo.lengths import SPACE_MARK, measure_lengths
from seqdemo.plots.lengths import CELL_COLORS, padding_cells, plot_padding_grid, plot_token_counts
from seqdemo.token_kinds import BYTES, PAD, SPECIAL, UNK

TEXTS = (
    "The cat sat on the mat.",
    "Tokenizers split rare words like pneumonoultramicroscopic into many pieces.",
    "Emoji cost tokens too 🙂🚀",
    "Привет, мир! こんにちは世界 नमस्ते",
    "A batch needs one length, so every shorter sequence is padded up to the longest one in the batch.",
)


@pytest.fixture(scope="module")
def tokenizers(bert_tokenizer, roberta_tokenizer, longformer_tokenizer):
    return {"bert": bert_tokenizer, "roberta": roberta_tokenizer, "longformer": longformer_tokenizer}


@pytest.fixture(scope="module")
def report(tokenizers):
    return measure_lengths(TEXTS, tokenizers)


@pytest.mark.parametrize("add_special_tokens", [True, False])
def test_counts_equal_the_tokenizers_input_ids(tokenizers, add_special_tokens):
    report = measure_lengths(TEXTS, tokenizers, add_special_tokens=add_special_tokens)
    for name, tokenizer in tokenizers.items():
        expected = [len(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]) for text in TEXTS]
        assert report.by_name(name).counts.tolist() == expected
    assert report.counts.shape == (len(TEXTS), len(tokenizers))


def test_words_and_characters_are_whitespace_words_and_code_points(report):
    assert report.words == tuple(len(text.split()) for text in TEXTS)
    assert report.chars == tuple(len(text) for text in TEXTS)


def test_tokens_round_trip_to_the_ids(report, tokenizers):
    for name, tokenizer in tokenizers.items():
        for text, tokens in zip(TEXTS, report.by_name(name).texts, strict=True):
            assert list(tokens.ids) == tokenizer(text)["input_ids"]
            assert tokenizer.convert_tokens_to_ids(list(tokens.tokens)) == list(tokens.ids)
            assert len(tokens.kinds) == len(tokens.readable) == len(tokens.offset_mapping) == tokens.count


def test_padding_share_equals_the_pad_slots_of_the_padded_batch(report, tokenizers):
    for name, tokenizer in tokenizers.items():
        mask = np.array(tokenizer(list(TEXTS), padding="longest")["attention_mask"])
        lengths = report.by_name(name)
        assert lengths.max_tokens == mask.shape[1]
        assert lengths.total_slots == mask.size
        assert lengths.pad_slots == int((mask == 0).sum())
        assert lengths.padding_share == pytest.approx((mask == 0).sum() / mask.size)
        assert lengths.pad_counts.tolist() == (mask == 0).sum(axis=1).tolist()


def test_summary_statistics_equal_numpy_over_the_counts(report, tokenizers):
    for name, tokenizer in tokenizers.items():
        counts = np.array([len(tokenizer(text)["input_ids"]) for text in TEXTS])
        lengths = report.by_name(name)
        assert (lengths.min_tokens, lengths.max_tokens) == (counts.min(), counts.max())
        assert lengths.mean_tokens == pytest.approx(counts.mean())


def test_roberta_and_longformer_split_every_text_into_the_same_tokens(report):
    assert report.same_tokens("roberta", "longformer")
    for roberta, longformer in zip(report.by_name("roberta").texts, report.by_name("longformer").texts, strict=True):
        assert roberta.tokens == longformer.tokens
    assert report.by_name("longformer").model_max_length > report.by_name("roberta").model_max_length
    assert not report.same_tokens("bert", "roberta")


def test_special_tokens_are_flagged_and_can_be_left_out(report, tokenizers):
    without = measure_lengths(TEXTS, tokenizers, add_special_tokens=False)
    for name, tokenizer in tokenizers.items():
        specials = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
        for tokens in report.by_name(name).texts:
            flagged = {i for i, kind in enumerate(tokens.kinds) if kind == SPECIAL}
            assert flagged == {i for i, token_id in enumerate(tokens.ids) if token_id in specials}
            assert flagged
        extra = tokenizer.num_special_tokens_to_add()
        assert (report.by_name(name).counts - without.by_name(name).counts).tolist() == [extra] * len(TEXTS)
        assert all(SPECIAL not in tokens.kinds for tokens in without.by_name(name).texts)


def test_emoji_and_other_scripts_become_tokens_that_read_back_as_text(report, tokenizers):
    for name in ("roberta", "longformer"):
        tokenizer = tokenizers[name]
        for text, tokens in zip(TEXTS, report.by_name(name).texts, strict=True):
            assert tokens.count > tokenizer.num_special_tokens_to_add()
            for token, kind, readable in zip(tokens.tokens, tokens.kinds, tokens.readable, strict=True):
                alone = tokenizer.convert_tokens_to_string([token])
                if kind == BYTES:  # only part of a character: the tokenizer cannot decode it alone either
                    assert "\ufffd" in alone and "⟨" in readable
                elif kind != SPECIAL:
                    assert readable.replace(SPACE_MARK, " ") == alone
            pieces = [token for token, kind in zip(tokens.tokens, tokens.kinds, strict=True) if kind != SPECIAL]
            assert tokenizer.convert_tokens_to_string(pieces) == text
    emoji_text = report.by_name("roberta").texts[TEXTS.index("Emoji cost tokens too 🙂🚀")]
    assert BYTES in emoji_text.kinds
    for kind, (start, end) in zip(emoji_text.kinds, emoji_text.offset_mapping, strict=True):
        if kind == BYTES:
            assert TEXTS[2][start:end] in {"🙂", "🚀"}


def test_bert_flags_characters_missing_from_its_vocabulary_as_unk(bert_tokenizer):
    vocab = bert_tokenizer.get_vocab()
    candidates = "龘鱻𠀋ꙮ𓀀ᚠ௵ꦲ"
    missing = next(char for char in candidates if char not in vocab and "##" + char not in vocab)
    text = f"hello {missing} world"
    report = measure_lengths([text], {"bert": bert_tokenizer})
    tokens = report.by_name("bert").texts[0]
    unk = [i for i, kind in enumerate(tokens.kinds) if kind == UNK]
    assert unk == [i for i, token_id in enumerate(tokens.ids) if token_id == bert_tokenizer.unk_token_id]
    assert [text[slice(*tokens.offset_mapping[i])] for i in unk] == [missing]


def test_texts_over_model_max_length_are_flagged_with_special_tokens_counted(tokenizers):
    texts = ["short text"] + ["a " * n for n in (300, 505, 509, 510, 511, 600, 5000)]
    for add_special_tokens in (True, False):
        report = measure_lengths(texts, tokenizers, add_special_tokens=add_special_tokens)
        for name, tokenizer in tokenizers.items():
            expected = [i for i, t in enumerate(texts) if len(tokenizer(t)["input_ids"]) > tokenizer.model_max_length]
            assert report.by_name(name).over_limit == tuple(expected)
            assert 0 < len(expected) < len(texts)


def test_a_batch_without_tokens_has_no_padding_share(bert_tokenizer):
    text = "\u200b"  # a zero-width space: nothing for WordPiece to keep
    if bert_tokenizer(text, add_special_tokens=False)["input_ids"]:
        pytest.skip("this vocabulary keeps the zero-width space")
    lengths = measure_lengths([text], {"bert": bert_tokenizer}, add_special_tokens=False).by_name("bert")
    assert (lengths.total_slots, lengths.pad_slots, lengths.padding_share) == (0, 0, 0.0)


def test_bad_input_raises_a_one_line_message(tokenizers):
    with pytest.raises(ValueError, match="at least one text"):
        measure_lengths([], tokenizers)
    with pytest.raises(ValueError, match="at least one tokenizer"):
        measure_lengths(TEXTS, {})
    with pytest.raises(TypeError, match="not one string"):
        measure_lengths("one text", tokenizers)
    with pytest.raises(ValueError, match="at least one text"):
        split_texts(" \n\n  ")
    with pytest.raises(ValueError, match=f"1,000 texts given; this view takes at most {MAX_TEXTS}"):
        split_texts("\n".join(["a line"] * 1000))
    with pytest.raises(ValueError, match=f"100,000 characters; the limit here is {MAX_CHARS_PER_TEXT:,}"):
        split_texts("x" * 100_000)


def test_padding_picture_shades_exactly_the_pad_slots(report):
    pad = list(CELL_COLORS).index(PAD)
    width = max(lengths.max_tokens for lengths in report.tokenizers)
    for lengths in report.tokenizers:
        cells = padding_cells(report, lengths.name, width)
        assert cells.shape == (len(TEXTS), width)
        assert (cells == pad).sum(axis=1).tolist() == lengths.pad_counts.tolist()
        assert int((cells != list(CELL_COLORS).index("empty")).sum()) == lengths.total_slots


def test_figures_have_one_bar_per_text_and_series_and_one_panel_per_tokenizer(report):
    counts = plot_token_counts(report)
    assert isinstance(counts, Figure)
    assert len(counts.axes[0].patches) == len(TEXTS) * (len(report.tokenizers) + 1)  # + words
    grid = plot_padding_grid(report)
    assert len(grid.axes) == len(report.tokenizers)
