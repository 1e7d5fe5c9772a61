"""Longformer's inputs read one way: global attention on `<s>` wherever padding puts it, windows per layer."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, LongformerConfig

from seqdemo.longformer import attention_windows, global_attention_on_bos, padding_multiple


@pytest.mark.parametrize("side", ["right", "left"])
def test_global_attention_sits_on_each_rows_s_token(longformer_tokenizer, side):
    encoded = longformer_tokenizer(
        ["short", "a much longer text than the first"], padding=True, padding_side=side, return_tensors="np"
    )
    expected = (encoded["input_ids"] == longformer_tokenizer.bos_token_id).astype(np.int64)
    np.testing.assert_array_equal(global_attention_on_bos(encoded["attention_mask"]), expected)
    as_torch = global_attention_on_bos(torch.from_numpy(encoded["attention_mask"]))
    assert isinstance(as_torch, torch.Tensor) and as_torch.tolist() == expected.tolist()


def test_windows_are_read_per_layer_and_padding_follows_the_largest():
    one = LongformerConfig(attention_window=64, num_hidden_layers=3)
    per_layer = LongformerConfig(attention_window=[32, 128, 64], num_hidden_layers=3)
    assert attention_windows(one) == (64, 64, 64) and padding_multiple(one) == 64
    assert attention_windows(per_layer) == (32, 128, 64) and padding_multiple(per_layer) == 128
    assert attention_windows(BertConfig()) == () and padding_multiple(BertConfig()) is None
