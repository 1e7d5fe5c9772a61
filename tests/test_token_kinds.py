"""What sits at a position: one classifier for chips, grids and plots, checked against the tokenizer's own masks."""

import numpy as np
import pytest

from seqdemo.padding import pad_encodings
from seqdemo.token_kinds import GLOBAL, OVERLAP, PAD, REAL, SPECIAL, UNK, token_kinds


def test_a_position_with_no_flag_is_a_real_token():
    assert token_kinds([False, False]) == (REAL, REAL)


def test_padding_wins_over_everything_then_global_then_unknown_then_special():
    special = [1, 1, 1, 1, 0]
    assert token_kinds(
        special,
        attention_mask=[0, 1, 1, 1, 1],
        global_attention=[1, 1, 0, 0, 0],
        unknown=[1, 0, 1, 0, 0],
        overlap=[0, 0, 0, 1, 1],
    ) == (PAD, GLOBAL, UNK, SPECIAL, OVERLAP)


def test_flags_of_another_length_are_refused():
    with pytest.raises(ValueError, match="2 positions; the row has 3"):
        token_kinds([0, 0, 0], attention_mask=[1, 1])


@pytest.mark.parametrize("side", ["right", "left"])
def test_a_padded_batch_has_pads_where_the_tokenizer_masks_and_specials_where_it_marks(bert_tokenizer, side):
    texts = ["a short text", "a somewhat longer text with more words"]
    expected = bert_tokenizer(texts, padding=True, padding_side=side, return_special_tokens_mask=True)
    for row in range(len(texts)):
        kinds = np.array(
            token_kinds(expected["special_tokens_mask"][row], attention_mask=expected["attention_mask"][row])
        )
        assert (kinds == PAD).tolist() == [mask == 0 for mask in expected["attention_mask"][row]]
        real_specials = [
            s == 1 and m == 1
            for s, m in zip(expected["special_tokens_mask"][row], expected["attention_mask"][row], strict=True)
        ]
        assert (kinds == SPECIAL).tolist() == real_specials


def test_pad_encodings_keeps_special_tokens_masks_aligned(roberta_tokenizer):
    cut = roberta_tokenizer(["one", "one two three"], return_special_tokens_mask=True)
    padded = pad_encodings(roberta_tokenizer, cut)
    assert padded["special_tokens_mask"].shape == padded["input_ids"].shape
