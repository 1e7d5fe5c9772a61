"""The one padding primitive: `pad_encodings` pads as the tokenizer itself pads a batch, on either side."""

import numpy as np
import pytest

from seqdemo.errors import InputError
from seqdemo.padding import pad_encodings

TEXTS = ["The cat sat.", "Padding makes every sequence in a batch the same length.", "Hi"]


@pytest.mark.parametrize("role", ["bert", "roberta"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize(("max_length", "multiple"), [(None, None), (24, None), (None, 8)])
def test_padding_unpadded_ids_equals_the_tokenizer_padding_the_texts(store, role, side, max_length, multiple):
    tokenizer = store.tokenizer(role)
    padding = "longest" if max_length is None else "max_length"
    expected = tokenizer(
        TEXTS,
        padding=padding,
        max_length=max_length,
        pad_to_multiple_of=multiple,
        padding_side=side,
        return_tensors="np",
    )
    unpadded = {"input_ids": tokenizer(TEXTS)["input_ids"]}
    padded = pad_encodings(tokenizer, unpadded, padding_side=side, max_length=max_length, pad_to_multiple_of=multiple)
    np.testing.assert_array_equal(padded["input_ids"], expected["input_ids"])
    np.testing.assert_array_equal(padded["attention_mask"], expected["attention_mask"])


def test_a_tokenizer_without_a_pad_token_pads_with_the_stand_in_and_is_left_as_it_was(roberta_tokenizer):
    tokenizer = roberta_tokenizer.__class__.from_pretrained(roberta_tokenizer.name_or_path)
    tokenizer.pad_token = None
    padded = pad_encodings(tokenizer, {"input_ids": [[5, 6, 7], [8]]}, pad_token=tokenizer.eos_token)
    assert padded["input_ids"].tolist() == [[5, 6, 7], [8, tokenizer.eos_token_id, tokenizer.eos_token_id]]
    assert tokenizer.pad_token is None
    with pytest.raises(InputError, match="no pad token"):
        pad_encodings(tokenizer, {"input_ids": [[5, 6], [7]]})


def test_an_unknown_padding_side_names_the_choices(bert_tokenizer):
    with pytest.raises(InputError, match="padding_side must be one of right, left, not 'middle'"):
        pad_encodings(bert_tokenizer, {"input_ids": [[1, 2]]}, padding_side="middle")
